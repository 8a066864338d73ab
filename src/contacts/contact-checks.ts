/**
 * What makes a contact valid, for every API that writes one (/v1, its
 * import, and the legacy /api): each messenger id must pass that messenger's
 * rules, a time zone must be a known IANA zone. A failure is a 400 naming the
 * field as the request spelled it.
 */
import { IANAZone } from 'luxon'
import { invalidField } from '../errors.js'
import { MESSENGERS, normalizeAddress, type Messenger } from '../model/messenger.js'
import { compactTags, type Contact } from './contact-store.js'

/** A messenger id as given (trimmed), once the messenger's rules accept it; the senders normalize it when they send. */
export function checkedMessengerId (messenger: Messenger, raw: string, field: string = messenger): string {
  const id = raw.trim()
  const checked = normalizeAddress(messenger, id)
  if (!checked.ok) throw invalidField(field, checked.reason)
  return id
}

/**
 * Zones known to be valid. Asking Intl costs about 0.2 ms a zone, 20 s for an
 * import of 100,000 contacts; the canonical zones are known up front, and any
 * other name Intl takes (an alias such as Asia/Calcutta, another spelling) is
 * remembered, up to a bound.
 */
const validZones = new Set(Intl.supportedValuesOf('timeZone'))
const canonicalZones = validZones.size
const MAX_REMEMBERED_ZONES = 10_000

export function checkedTimeZone (zone: string, field = 'timezone'): string {
  if (validZones.has(zone)) return zone
  if (!IANAZone.isValidZone(zone)) throw invalidField(field, `must be an IANA time zone such as Europe/Moscow, got "${zone}"`)
  if (validZones.size < canonicalZones + MAX_REMEMBERED_ZONES) validZones.add(zone)
  return zone
}

/** The fields of a contact as a request gives them (a POST or PUT body, an imported row), before they are checked. */
export interface ContactFields {
  telegram?: string
  whatsapp?: string
  viber?: string
  tags?: readonly string[]
  timezone?: string
  operator?: string
}

/** The contact these fields make, every field checked: what POST /v1/contacts and each row of an import store. */
export function checkedContact (name: string, fields: ContactFields): Contact {
  const contact: Contact = { name }
  for (const messenger of MESSENGERS) {
    const raw = fields[messenger]
    if (raw !== undefined) contact[messenger] = checkedMessengerId(messenger, raw)
  }
  const kept = compactTags(fields.tags)
  if (kept !== undefined) contact.tags = kept
  if (fields.timezone !== undefined) contact.timezone = checkedTimeZone(fields.timezone)
  // The schema checked its form; derived from the WhatsApp number when absent (withOperator).
  if (fields.operator !== undefined && fields.operator !== '') contact.operator = fields.operator
  return contact
}
