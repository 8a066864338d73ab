/**
 * What makes a contact valid, for every API that writes one (/v1 and the
 * legacy /api): each messenger id must pass that messenger's rules, a time
 * zone must be a known IANA zone. A failure is a 400 naming the field as the
 * request spelled it.
 */
import { IANAZone } from 'luxon'
import { invalidField } from '../errors.js'
import { normalizeAddress, type Messenger } from '../model/messenger.js'

/** A messenger id as given (trimmed), once the messenger's rules accept it; the senders normalize it when they send. */
export function checkedMessengerId (messenger: Messenger, raw: string, field: string = messenger): string {
  const id = raw.trim()
  const checked = normalizeAddress(messenger, id)
  if (!checked.ok) throw invalidField(field, checked.reason)
  return id
}

export function checkedTimeZone (zone: string, field = 'timezone'): string {
  if (!IANAZone.isValidZone(zone)) throw invalidField(field, `must be an IANA time zone such as Europe/Moscow, got "${zone}"`)
  return zone
}
