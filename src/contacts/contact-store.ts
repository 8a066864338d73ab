/**
 * The contact book: what every store implementation (Redis, MongoDB) offers.
 * One contract test suite (test/helpers/contact-store-contract.ts) runs
 * against each implementation, so they cannot drift apart.
 */
import { MESSENGERS, type Messenger } from '../messengers/messenger.js'

/** A messenger id as the user gave it; absent when the contact has none there. */
export type ContactAddresses = Partial<Record<Messenger, string>>

export interface Contact extends ContactAddresses {
  name: string
}

export interface ContactStore {
  /** Creates the contact, or replaces the ids of the one with that name. Returns whether it was new. */
  upsert (user: string, contact: Contact): Promise<{ created: boolean }>
  /** Removes the contact; false when the user had no contact of that name. */
  remove (user: string, name: string): Promise<boolean>
  /** Every contact of the user, by name. */
  list (user: string): Promise<Contact[]>
  /** The contacts among `names` that exist, each once (in no particular order). */
  findByNames (user: string, names: readonly string[]): Promise<Contact[]>
}

/** Drops empty ids, so that "" and absent mean the same everywhere ("no id on that messenger"). */
export function compactContact (contact: Contact): Contact {
  const out: Contact = { name: contact.name }
  for (const messenger of MESSENGERS) {
    const id = contact[messenger]
    if (id !== undefined && id !== '') out[messenger] = id
  }
  return out
}

/** The one order both stores list a book in (so their answers match to the byte). */
export function byName (a: Contact, b: Contact): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
