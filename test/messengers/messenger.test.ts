/**
 * What an address looks like on each messenger, and how long a text each
 * takes (docs/messengers.md): `normalizeAddress` and `TEXT_LIMITS`.
 */
import t, { type Test } from 'tap'
import { MESSENGERS, TEXT_LIMITS, isMessenger, normalizeAddress, type Messenger } from '../../src/model/messenger.js'

function accepts (t: Test, messenger: Messenger, raw: string, expected: string) {
  t.same(normalizeAddress(messenger, raw), { ok: true, address: expected }, `${messenger} accepts ${JSON.stringify(raw)} as ${JSON.stringify(expected)}`)
}

function rejects (t: Test, messenger: Messenger, raw: string) {
  const got = normalizeAddress(messenger, raw)
  t.equal(got.ok, false, `${messenger} rejects ${JSON.stringify(raw)}`)
  if (!got.ok) t.match(got.reason, /\S/, 'with a reason')
}

t.test('Telegram numeric chat ids: users positive, groups negative, supergroups -100...', async (t) => {
  accepts(t, 'telegram', '123456789', '123456789')
  accepts(t, 'telegram', '1', '1')
  accepts(t, 'telegram', '-123456789', '-123456789')
  accepts(t, 'telegram', '-1001234567890', '-1001234567890')
  accepts(t, 'telegram', '-1009876543210', '-1009876543210')
  // The largest 52-bit value: still an exact JS number.
  accepts(t, 'telegram', '4503599627370495', '4503599627370495')

  for (const raw of ['', '   ', '0', '-0', '0123', '-', '--100123', '12.5', '1e5', '+123456', '123 456', '0x1F', '١٢٣٤٥']) {
    rejects(t, 'telegram', raw)
  }
})

t.test('Telegram chat ids beyond 52 bits are not chat ids (a JS number would round them)', async (t) => {
  // docs/messengers.md: chat ids fit in 52 bits; the adapter sends them as JS numbers,
  // so an id beyond 2^53 would silently go to another chat.
  t.equal(Number('9007199254740993'), 9007199254740992, 'the rounding this guards against')
  rejects(t, 'telegram', '9007199254740993')
  rejects(t, 'telegram', '9999999999999999')
  rejects(t, 'telegram', '-9999999999999999')
  rejects(t, 'telegram', '12345678901234567')
})

t.test('Telegram usernames: 5-32 letters, digits and _, with or without @', async (t) => {
  accepts(t, 'telegram', 'ArtemZaitsev', '@ArtemZaitsev')
  accepts(t, 'telegram', '@ArtemZaitsev', '@ArtemZaitsev')
  accepts(t, 'telegram', 'abcde', '@abcde')
  accepts(t, 'telegram', '@abcde', '@abcde')
  accepts(t, 'telegram', 'user_name_42', '@user_name_42')
  accepts(t, 'telegram', 'a'.repeat(32), `@${'a'.repeat(32)}`)
  accepts(t, 'telegram', `@${'B'.repeat(32)}`, `@${'B'.repeat(32)}`)

  for (const raw of [
    'abcd', '@abcd', // 4 characters
    'a'.repeat(33), `@${'a'.repeat(33)}`, // 33 characters
    '@', '@@abcdef', 'abc@def', 'bad-name', 'bad name', 'bad.name', 'имяюзера', 'abcde!'
  ]) {
    rejects(t, 'telegram', raw)
  }
})

t.test('WhatsApp addresses are E.164: + then 7-15 digits, the first not 0', async (t) => {
  accepts(t, 'whatsapp', '+15551234567', '+15551234567')
  accepts(t, 'whatsapp', '+799200828615', '+799200828615')
  accepts(t, 'whatsapp', '+1234567', '+1234567')
  accepts(t, 'whatsapp', '+123456789012345', '+123456789012345')

  for (const raw of [
    '', '+', '15551234567', '+05551234567', '+123456', '+1234567890123456',
    '+1 555 123 4567', '+1-555-123-4567', '+1(555)1234567', '++15551234567', '+1555123456a', '00155512345678'
  ]) {
    rejects(t, 'whatsapp', raw)
  }
})

t.test('Viber ids: 1-64 characters of A-Z a-z 0-9 + / = _ -', async (t) => {
  accepts(t, 'viber', 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'jc9HsWTZ2Yf2NkRZ8KcNug==')
  accepts(t, 'viber', 'lera-viber-id', 'lera-viber-id')
  accepts(t, 'viber', 'a', 'a')
  accepts(t, 'viber', 'A+b/c=d_e-f0', 'A+b/c=d_e-f0')
  accepts(t, 'viber', 'x'.repeat(64), 'x'.repeat(64))

  for (const raw of ['', '   ', 'x'.repeat(65), 'has space', 'bad.id', 'x@y', 'ünicode', 'a:b', 'a,b']) {
    rejects(t, 'viber', raw)
  }
})

t.test('surrounding whitespace is not part of an address', async (t) => {
  accepts(t, 'telegram', ' 123456789 ', '123456789')
  accepts(t, 'telegram', ' ArtemZaitsev\n', '@ArtemZaitsev')
  accepts(t, 'whatsapp', ' +15551234567 ', '+15551234567')
  accepts(t, 'viber', '\tjc9HsWTZ2Yf2NkRZ8KcNug== ', 'jc9HsWTZ2Yf2NkRZ8KcNug==')
})

t.test('an address valid on one messenger is not taken for another', async (t) => {
  rejects(t, 'whatsapp', '123456789')
  rejects(t, 'whatsapp', '@ArtemZaitsev')
  rejects(t, 'telegram', '+15551234567')
  rejects(t, 'viber', '@ArtemZaitsev')
})

t.test('text limits, in UTF-16 code units', async (t) => {
  t.same(TEXT_LIMITS, { telegram: 4096, whatsapp: 4096, viber: 7000 })
  t.same([...MESSENGERS], ['telegram', 'whatsapp', 'viber'])
  for (const m of MESSENGERS) t.ok(isMessenger(m), `${m} is a messenger`)
  for (const m of ['sms', 'Telegram', 'whatsApp', '']) t.notOk(isMessenger(m), `${JSON.stringify(m)} is not`)
})
