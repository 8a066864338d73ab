/**
 * The mock messengers through `inject`: the records and their filters, the
 * behaviour knobs, and each messenger's errors in that messenger's own shape.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildMock } from '../../mock-messengers/app.js'
import { DEFAULT_BEHAVIOUR } from '../../mock-messengers/behaviour.js'
import type { MockOptions } from '../../mock-messengers/config.js'
import { MOCK_CREDENTIALS } from '../helpers/mock.js'

const TOKENS = MOCK_CREDENTIALS.tokens
const PHONE = MOCK_CREDENTIALS.whatsappPhoneNumberId

function mock (t: Test, options: Partial<MockOptions> = {}): FastifyInstance {
  const app = buildMock({ ...MOCK_CREDENTIALS, ...options })
  t.teardown(() => app.close())
  return app
}

function telegram (app: FastifyInstance, chatId: unknown, text: unknown, options: { token?: string, key?: string } = {}) {
  return app.inject({
    method: 'POST',
    url: `/telegram/bot${options.token ?? TOKENS.telegram}/sendMessage`,
    headers: options.key === undefined ? {} : { 'idempotency-key': options.key },
    payload: { chat_id: chatId, text }
  })
}

function whatsapp (app: FastifyInstance, to: unknown, body: unknown, options: { token?: string | null, key?: string, phone?: string } = {}) {
  const headers: Record<string, string> = {}
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKENS.whatsapp}`
  if (options.key !== undefined) headers['idempotency-key'] = options.key
  return app.inject({
    method: 'POST',
    url: `/whatsapp/v21.0/${options.phone ?? PHONE}/messages`,
    headers,
    payload: { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body } }
  })
}

function viber (app: FastifyInstance, receiver: unknown, text: unknown, options: { token?: string | null, key?: string } = {}) {
  const headers: Record<string, string> = {}
  if (options.token !== null) headers['x-viber-auth-token'] = options.token ?? TOKENS.viber
  if (options.key !== undefined) headers['idempotency-key'] = options.key
  return app.inject({
    method: 'POST',
    url: '/viber/pa/send_message',
    headers,
    payload: { receiver, min_api_version: 1, sender: { name: 'Fanout' }, type: 'text', text }
  })
}

async function messages (app: FastifyInstance, query = '') {
  const res = await app.inject({ method: 'GET', url: `/_mock/messages${query}` })
  if (res.statusCode !== 200) throw new Error(`GET /_mock/messages${query}: ${res.statusCode} ${res.body}`)
  return res.json() as {
    count: number
    messages: Array<{ messenger: string, recipient: string, text: string, idempotencyKey?: string, receivedAt: string, outcome: string }>
    byRecipient: Record<string, number>
    repeats: Record<string, number>
  }
}

t.test('every message is recorded, and the records filter by messenger, recipient and outcome', async (t) => {
  const app = mock(t)
  t.equal((await telegram(app, 123456789, 'one', { key: 'k1' })).statusCode, 200)
  t.equal((await telegram(app, '@someuser', 'two', { key: 'k2' })).statusCode, 200)
  t.equal((await telegram(app, 123456789, 'three', { key: 'k3' })).statusCode, 200)
  t.equal((await whatsapp(app, '+15551234567', 'four', { key: 'k4' })).statusCode, 200)
  t.equal((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'five', { key: 'k5' })).statusCode, 200, 'Viber fails with HTTP 200')

  const all = await messages(app)
  t.equal(all.count, 5)
  t.same(all.messages.map((m) => `${m.messenger}|${m.recipient}|${m.text}|${m.idempotencyKey}|${m.outcome}`), [
    'telegram|123456789|one|k1|accepted',
    'telegram|@someuser|two|k2|accepted',
    'telegram|123456789|three|k3|accepted',
    'whatsapp|+15551234567|four|k4|accepted',
    'viber|jc9HsWTZ2Yf2NkRZ8KcNug==|five|k5|6 receiverNotSubscribed'
  ])
  t.ok(all.messages.every((m) => Date.parse(m.receivedAt) > 0), 'each record has its time')
  t.same(all.byRecipient, { 'telegram:123456789': 2, 'telegram:@someuser': 1, 'whatsapp:+15551234567': 1, 'viber:jc9HsWTZ2Yf2NkRZ8KcNug==': 1 })
  t.same(all.repeats, {}, 'no key was repeated')

  const tg = await messages(app, '?messenger=telegram')
  t.equal(tg.count, 3)
  t.ok(tg.messages.every((m) => m.messenger === 'telegram'))

  const one = await messages(app, `?recipient=${encodeURIComponent('@someuser')}`)
  t.equal(one.count, 1)
  t.equal(one.messages[0]?.text, 'two')

  const byNumber = await messages(app, `?recipient=${encodeURIComponent('+15551234567')}`)
  t.equal(byNumber.count, 1, 'a + in the recipient survives the query string')

  const accepted = await messages(app, '?outcome=accepted')
  t.equal(accepted.count, 4)
  const rejected = await messages(app, `?outcome=${encodeURIComponent('6 receiverNotSubscribed')}`)
  t.equal(rejected.count, 1)
  t.equal(rejected.messages[0]?.messenger, 'viber')

  const both = await messages(app, '?messenger=telegram&recipient=123456789')
  t.same(both.messages.map((m) => m.text), ['one', 'three'])
  t.equal((await messages(app, '?messenger=viber&outcome=accepted')).count, 0, 'filters combine')
  t.equal((await messages(app, '?messenger=sms')).count, 0)
})

t.test('repeats counts an Idempotency-Key seen more than once', async (t) => {
  const app = mock(t)
  await telegram(app, 123456789, 'hi', { key: 'same.1' })
  await telegram(app, 123456789, 'hi', { key: 'same.1' })
  await telegram(app, 123456789, 'hi', { key: 'same.1' })
  await whatsapp(app, '+15551234567', 'hi', { key: 'other.1' })
  await whatsapp(app, '+15551234567', 'hi', { key: 'other.1' })
  await telegram(app, 123456789, 'hi', { key: 'once.1' })
  await telegram(app, 123456789, 'no key')
  await telegram(app, 123456789, 'no key')

  const all = await messages(app)
  t.equal(all.count, 8)
  t.same(all.repeats, { 'same.1': 3, 'other.1': 2 })
  t.notOk('idempotencyKey' in all.messages[7]!, 'a send without the header records no key')
  t.same((await messages(app, '?messenger=whatsapp')).repeats, { 'other.1': 2 }, 'repeats follow the filter')
})

t.test('DELETE /_mock/messages forgets everything recorded', async (t) => {
  const app = mock(t)
  await telegram(app, 123456789, 'a', { key: 'k' })
  await telegram(app, 123456789, 'b', { key: 'k' })
  t.equal((await messages(app)).count, 2)

  const res = await app.inject({ method: 'DELETE', url: '/_mock/messages' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ok: true })
  t.same(await messages(app), { count: 0, messages: [], byRecipient: {}, repeats: {} })

  await telegram(app, 123456789, 'c', { key: 'k' })
  const after = await messages(app)
  t.same(after.messages.map((m) => m.text), ['c'])
  t.same(after.repeats, {}, 'the forgotten sends no longer count as repeats')
})

t.test('PUT /_mock/behaviour/:messenger changes one messenger and validates its body', async (t) => {
  const app = mock(t)
  const behaviour = async () => (await app.inject({ method: 'GET', url: '/_mock/behaviour' })).json()
  const initial = await behaviour()
  t.same(initial, {
    telegram: { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: false, failNext: 0 },
    whatsapp: { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: false, failNext: 0 },
    viber: { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: true, failNext: 0 }
  }, 'Viber rejects by default')

  let res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/telegram', payload: { reject: true, failNext: 2 } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: true, failNext: 2 })
  res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/telegram', payload: { latencyMs: [5, 10] } })
  t.same(res.json(), { ...DEFAULT_BEHAVIOUR, latencyMs: [5, 10], reject: true, failNext: 2 }, 'a partial body changes only what it names')

  for (const payload of [
    { reject: 'yes' },
    { reject: 3 },
    { failNext: -1 },
    { failNext: 1.5 },
    { failNext: 'many' },
    { latencyMs: 'fast' },
    { latencyMs: [1] },
    { latencyMs: [1, 'x'] },
    { latencyMs: [1, 2, 3] },
    { latencyMs: [-1, 5] },
    { latencyMs: { min: 1, max: 2 } }
  ]) {
    res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload })
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(payload)}`)
  }
  res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', headers: { 'content-type': 'application/json' }, payload: '[true]' })
  t.equal(res.statusCode, 400, '400 for a body that is not an object')

  const after = await behaviour()
  t.same(after.whatsapp, { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: false, failNext: 0 }, 'a rejected body changed nothing')
  t.same(after.telegram, { ...DEFAULT_BEHAVIOUR, latencyMs: [5, 10], reject: true, failNext: 2 })
  t.same(after.viber, initial.viber)

  res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/sms', payload: { reject: true } })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: /sms/ })
  t.same(Object.keys(await behaviour()).sort(), ['telegram', 'viber', 'whatsapp'], 'no messenger was invented')
})

t.test('PUT /_mock/behaviour/:messenger does not coerce wrong types into values', async (t) => {
  // Booleans for counts and strings for flags are wrong types too: a test that
  // sends them has a bug, and the mock should say so rather than guess.
  const app = mock(t)
  for (const payload of [{ failNext: true }, { failNext: '2' }, { reject: 'true' }, { reject: 1 }, { latencyMs: ['1', '2'] }]) {
    const res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload })
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(payload)}`)
  }
  const after = (await app.inject({ method: 'GET', url: '/_mock/behaviour' })).json()
  t.same(after.whatsapp, { ...DEFAULT_BEHAVIOUR, latencyMs: [0, 0], reject: false, failNext: 0 }, 'nothing changed')
})

t.test('behaviour takes effect: failNext answers 503 that many times, reject uses the messenger\'s own error', async (t) => {
  const app = mock(t)
  await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload: { failNext: 2 } })
  t.equal((await whatsapp(app, '+15551234567', 'x')).statusCode, 503)
  t.equal((await whatsapp(app, '+15551234567', 'x')).statusCode, 503)
  t.equal((await whatsapp(app, '+15551234567', 'x')).statusCode, 200)
  t.same((await messages(app, '?messenger=whatsapp')).messages.map((m) => m.outcome), ['HTTP 503', 'HTTP 503', 'accepted'])

  await app.inject({ method: 'PUT', url: '/_mock/behaviour/telegram', payload: { reject: true } })
  const res = await telegram(app, 123456789, 'x')
  t.equal(res.statusCode, 403)
  t.same(res.json(), { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' })

  await app.inject({ method: 'PUT', url: '/_mock/behaviour/viber', payload: { reject: false } })
  const ok = await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'x')
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { status: 0, status_message: 'ok' })
  const token = /"message_token":(\d+)[,}]/.exec(ok.body)?.[1]
  t.ok(token !== undefined && BigInt(token) > 2n ** 53n, `message_token is a raw JSON integer above 2^53 (${token})`)
})

t.test('a wrong token gets each messenger\'s own authentication error', async (t) => {
  const app = mock(t, { behaviour: { viber: { reject: false } } })

  let res = await telegram(app, 123456789, 'hi', { token: 'wrong-token' })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { ok: false, error_code: 401, description: 'Unauthorized' })

  res = await whatsapp(app, '+15551234567', 'hi', { token: 'wrong-token' })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { error: { code: 190, type: 'OAuthException', message: String, fbtrace_id: String, error_data: { messaging_product: 'whatsapp' } } })
  res = await whatsapp(app, '+15551234567', 'hi', { token: null })
  t.equal(res.statusCode, 401, 'no Authorization header at all')
  t.equal(res.json().error.code, 190)

  res = await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'hi', { token: 'wrong-token' })
  t.equal(res.statusCode, 200, 'Viber says it in the body')
  t.match(res.json(), { status: 2, status_message: 'invalidAuthToken' })
  t.notOk('message_token' in res.json())
  res = await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'hi', { token: null })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 2, 'no token header at all')

  const recorded = await messages(app)
  t.equal(recorded.count, 5)
  t.equal((await messages(app, '?outcome=accepted')).count, 0, 'nothing was accepted')

  // Failures injected by behaviour never hide a wrong token.
  await app.inject({ method: 'PUT', url: '/_mock/behaviour/telegram', payload: { failNext: 1 } })
  t.equal((await telegram(app, 123456789, 'hi', { token: 'wrong-token' })).statusCode, 401)
})

t.test('text over each messenger\'s limit is rejected in that messenger\'s shape', async (t) => {
  const app = mock(t, { behaviour: { viber: { reject: false } } })

  t.equal((await telegram(app, 123456789, 'x'.repeat(4096))).statusCode, 200, 'Telegram: 4096 is fine')
  let res = await telegram(app, 123456789, 'x'.repeat(4097))
  t.equal(res.statusCode, 400)
  t.same(res.json(), { ok: false, error_code: 400, description: 'Bad Request: message is too long' })
  res = await telegram(app, 123456789, '')
  t.equal(res.statusCode, 400)
  t.match(res.json(), { ok: false, error_code: 400, description: /empty/ })

  t.equal((await whatsapp(app, '+15551234567', 'x'.repeat(4096))).statusCode, 200, 'WhatsApp: 4096 is fine')
  res = await whatsapp(app, '+15551234567', 'x'.repeat(4097))
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: { code: 100, type: 'OAuthException', message: /Invalid parameter/ } })

  t.equal((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'x'.repeat(7000))).json().status, 0, 'Viber: 7000 is fine')
  res = await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', 'x'.repeat(7001))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 3, status_message: 'badData' })

  const outcomes = (await messages(app)).messages.map((m) => `${m.messenger} ${m.text.length} ${m.outcome}`)
  t.same(outcomes, [
    'telegram 4096 accepted',
    'telegram 4097 400 Bad Request: message is too long',
    'telegram 0 400 Bad Request: message text is empty',
    'whatsapp 4096 accepted',
    'whatsapp 4097 100 (#100) Invalid parameter',
    'viber 7000 accepted',
    'viber 7001 3 badData'
  ])
})

t.test('bad recipients are rejected in each messenger\'s shape', async (t) => {
  const app = mock(t, { behaviour: { viber: { reject: false } } })
  let res = await telegram(app, 'not a chat', 'hi')
  t.equal(res.statusCode, 400)
  t.same(res.json(), { ok: false, error_code: 400, description: 'Bad Request: chat not found' })
  // Not a phone number with or without its + (the Cloud API takes 15551234567 as well as +15551234567).
  res = await whatsapp(app, '+05551234567', 'hi')
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.code, 131008)
  res = await whatsapp(app, '+15551234567', 'hi', { phone: '999' })
  t.equal(res.statusCode, 400, 'a phone number id that is not ours')
  t.equal(res.json().error.code, 100)
  res = await viber(app, 'bad receiver!', 'hi')
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 999, status_message: 'Bad receiver ID' })
})

t.test('maxRecords keeps only the newest records', async (t) => {
  const app = mock(t, { maxRecords: 3 })
  for (let i = 1; i <= 5; i++) await telegram(app, 123456789, `m${i}`, { key: `k${i}` })
  const got = await messages(app)
  t.equal(got.count, 3)
  t.same(got.messages.map((m) => m.text), ['m3', 'm4', 'm5'])
  t.same(got.byRecipient, { 'telegram:123456789': 3 })

  await whatsapp(app, '+15551234567', 'm6')
  t.same((await messages(app)).messages.map((m) => m.text), ['m4', 'm5', 'm6'], 'the bound holds across messengers')
})
