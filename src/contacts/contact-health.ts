/**
 * A contact's health: for each messenger it has an address on, whether that
 * address is marked dead (src/addresses/address-facts.ts), as the API shows
 * it. The marks are kept per address, not per contact: they are facts about
 * the messenger account the service sends from, so a contact whose address
 * is edited has the new address's record (none, for an address never sent
 * to), and the routes clear the new one's mark as well (src/routes/v1/contacts.ts).
 */
import type { AddressFacts, AddressHealth } from '../addresses/address-facts.js'
import { MESSENGERS, normalizeAddress, type Messenger, type UnreachableReason } from '../model/messenger.js'
import type { Contact } from './contact-store.js'

export type HealthView =
  | { reachable: true }
  | { reachable: false, reason: UnreachableReason, code: number | string, at: string, count: number }

/** The address a contact's stored id for `messenger` is sent to, if it has a valid one. */
export function contactAddress (contact: Pick<Contact, Messenger>, messenger: Messenger): string | undefined {
  const raw = contact[messenger]
  if (raw === undefined || raw === '') return undefined
  const address = normalizeAddress(messenger, raw)
  return address.ok ? address.address : undefined
}

export function healthView (health: AddressHealth): HealthView {
  if (health.reachable) return { reachable: true }
  return { reachable: false, reason: health.reason, code: health.code, at: new Date(health.at).toISOString(), count: health.count }
}

/** The health of each of the contact's addresses, read at once. */
export async function contactHealth (facts: AddressFacts, contact: Pick<Contact, Messenger>): Promise<Partial<Record<Messenger, HealthView>>> {
  const on = MESSENGERS.flatMap((messenger) => {
    const address = contactAddress(contact, messenger)
    return address === undefined ? [] : [{ messenger, address }]
  })
  const healths = await Promise.all(on.map(async ({ messenger, address }) => await facts.health(messenger, address)))
  return Object.fromEntries(on.map(({ messenger }, i) => [messenger, healthView(healths[i]!)]))
}

/**
 * After an edit, from `before` to `after`: each messenger whose address
 * changed gets its new address's mark cleared (the user gave it anew, so it
 * is tried again), the old address keeps what is known of it.
 */
export async function clearEdited (facts: AddressFacts, before: Pick<Contact, Messenger> | undefined, after: Pick<Contact, Messenger>): Promise<void> {
  await Promise.all(MESSENGERS.map(async (messenger) => {
    const address = contactAddress(after, messenger)
    if (address === undefined || (before !== undefined && contactAddress(before, messenger) === address)) return
    await facts.clearHealth(messenger, address)
  }))
}
