/**
 * The receipts the mock POSTs after an accepted send, received by a bare HTTP
 * server standing in for the service: where they go, how they are signed
 * (checked with node:crypto over the raw bytes), what they say, and what the
 * receipt knobs (delays, failRate, failCode, readRate, duplicateRate, shuffle)
 * do to them, statistically where chance decides, with bounds far from the
 * expected counts. Also retries, drops, records, and a clean close.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildMock } from '../../mock-messengers/app.js'
import { DEFAULT_RECEIPTS, type BehaviourConfig } from '../../mock-messengers/behaviour.js'
import type { MockOptions } from '../../mock-messengers/config.js'
import { MOCK_CREDENTIALS } from '../helpers/mock.js'
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js'

const APP_SECRET = 'receipts-test-app-secret'
const TOKENS = MOCK_CREDENTIALS.tokens
const PHONE = MOCK_CREDENTIALS.whatsappPhoneNumberId

interface Status { id: string, status: string, timestamp: string, recipient_id: string, [key: string]: any }

function mock (t: Test, receiver: Receiver | undefined, options: Partial<MockOptions> = {}): FastifyInstance {
  const app = buildMock({
    ...MOCK_CREDENTIALS,
    whatsappAppSecret: APP_SECRET,
    ...(receiver !== undefined && { receiptsUrl: receiver.url }),
    receiptRetry: { retries: 3, minTimeoutMs: 20, timeoutMs: 2000 },
    ...options
  })
  t.teardown(() => app.close())
  return app
}

/** Fast receipts for a messenger, plus whatever else the test sets. */
const fast = (receipts: Record<string, unknown> = {}): BehaviourConfig => ({
  whatsapp: { receipts: { delayMs: [0, 5], ...receipts } },
  viber: { reject: false, receipts: { delayMs: [0, 5], ...receipts } }
})

async function sendWhatsApp (app: FastifyInstance, to: string, text = 'hello'): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/whatsapp/v21.0/${PHONE}/messages`,
    headers: { authorization: `Bearer ${TOKENS.whatsapp}` },
    payload: { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: text } }
  })
  if (res.statusCode !== 200) throw new Error(`WhatsApp send: ${res.statusCode} ${res.body}`)
  return res.json().messages[0].id
}

/** A Viber send's message_token, as the digits the answer carried. */
async function sendViber (app: FastifyInstance, receiver = 'jc9HsWTZ2Yf2NkRZ8KcNug==', text = 'hello'): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/viber/pa/send_message',
    headers: { 'x-viber-auth-token': TOKENS.viber },
    payload: { receiver, min_api_version: 1, sender: { name: 'Fanout' }, type: 'text', text }
  })
  const token = /"message_token":(\d+)[,}]/.exec(res.body)?.[1]
  if (token === undefined) throw new Error(`Viber send: ${res.body}`)
  return token
}

const whatsappPosts = (requests: ReceivedRequest[]) => requests.filter((r) => r.path === '/webhooks/whatsapp')
const viberPosts = (requests: ReceivedRequest[]) => requests.filter((r) => r.path === '/webhooks/viber')
const statusesOf = (request: ReceivedRequest): Status[] => JSON.parse(request.body).entry[0].changes[0].value.statuses ?? []
const allStatuses = (requests: ReceivedRequest[]) => whatsappPosts(requests).flatMap(statusesOf)
const untilStatuses = (receiver: Receiver, count: number) =>
  receiver.until((rs) => allStatuses(rs).length >= count, 15_000, `${count} WhatsApp statuses`)

/** A loopback port nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

function hmacHex (key: string, raw: Buffer): string {
  return createHmac('sha256', key).update(raw).digest('hex')
}

function signatureHolds (key: string, raw: Buffer, hex: string): boolean {
  const expected = Buffer.from(hmacHex(key, raw), 'hex')
  const given = Buffer.from(hex, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The statuses of each message in the order the mock sent them (its receipt records are in sending order). */
async function sequences (app: FastifyInstance): Promise<Map<string, string[]>> {
  const records = (await app.inject({ method: 'GET', url: '/_mock/receipts?messenger=whatsapp' })).json().receipts as Array<{ payload: any }>
  const byMessage = new Map<string, string[]>()
  for (const record of records) {
    for (const s of record.payload.entry[0].changes[0].value.statuses as Status[]) byMessage.set(s.id, [...byMessage.get(s.id) ?? [], s.status])
  }
  return byMessage
}

t.test('WhatsApp: sent, delivered, read, in that order, each signed with the app secret over the raw body', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: { whatsapp: { receipts: { delayMs: [30, 60] } } } })
  const id = await sendWhatsApp(app, '+15551234567')
  const other = await sendWhatsApp(app, '15557654321')
  await untilStatuses(receiver, 6)
  await sleep(100)

  const posts = whatsappPosts(receiver.requests)
  t.equal(receiver.requests.length, posts.length, 'every POST went to /webhooks/whatsapp')
  for (const post of posts) {
    t.equal(post.method, 'POST')
    t.match(post.headers['content-type'], /^application\/json/)
    const header = String(post.headers['x-hub-signature-256'])
    t.match(header, /^sha256=[0-9a-f]{64}$/, 'X-Hub-Signature-256: sha256=<hex>')
    t.ok(signatureHolds(APP_SECRET, post.raw, header.slice('sha256='.length)), 'the HMAC of the raw body with the app secret')
    t.notOk(signatureHolds('another-secret', post.raw, header.slice('sha256='.length)), 'which no other key makes')
    t.match(JSON.parse(post.body), {
      object: 'whatsapp_business_account',
      entry: [{
        id: /^\d+$/,
        changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: /^\d+$/, phone_number_id: PHONE }, statuses: Array } }]
      }]
    })
  }

  const statuses = allStatuses(receiver.requests)
  const of = (messageId: string, status: string) => statuses.filter((s) => s.id === messageId && s.status === status)
  t.same(statuses.map((s) => s.id).sort(), [id, id, id, other, other, other].sort(), 'three statuses of each message, no more')
  const [sent] = of(id, 'sent')
  const [delivered] = of(id, 'delivered')
  const [read] = of(id, 'read')
  t.match(sent, {
    id,
    status: 'sent',
    timestamp: /^\d{10}$/,
    recipient_id: '15551234567',
    conversation: { id: /^\w+$/, expiration_timestamp: /^\d{10}$/, origin: { type: 'service' } },
    pricing: { billable: false, pricing_model: 'CBP', category: 'service' }
  })
  t.match(delivered, { id, status: 'delivered', recipient_id: '15551234567', conversation: { id: sent?.conversation.id, origin: { type: 'service' } }, pricing: { pricing_model: 'CBP' } })
  t.same(Object.keys(read ?? {}).sort(), ['id', 'recipient_id', 'status', 'timestamp'], 'read says which message, who and when')
  t.notOk(statuses.some((s) => 'errors' in s), 'errors only on failed')
  t.equal(of(other, 'sent')[0]?.recipient_id, '15557654321', 'a number sent without its + is the same digits')

  t.same(await sequences(app), new Map([[id, ['sent', 'delivered', 'read']], [other, ['sent', 'delivered', 'read']]]), 'in order')

  const records = (await app.inject({ method: 'GET', url: '/_mock/receipts' })).json()
  t.equal(records.count, posts.length, 'every POST recorded')
  for (const record of records.receipts) {
    t.match(record, { messenger: 'whatsapp', url: `${receiver.url}/webhooks/whatsapp`, status: 200, attempts: 1, outcome: 'answered', signature: /^sha256=/ })
    t.ok(posts.some((p) => p.headers['x-hub-signature-256'] === record.signature && p.body === JSON.stringify(record.payload)), 'the payload and signature as POSTed')
  }
})

t.test('WhatsApp statuses due at the same moment share one POST', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: { whatsapp: { receipts: { delayMs: [150, 150] } } } })
  const ids = await Promise.all(['+15551230001', '+15551230002', '+15551230003', '+15551230004'].map((to) => sendWhatsApp(app, to)))
  await untilStatuses(receiver, 12)
  const posts = whatsappPosts(receiver.requests)
  const mixed = posts.filter((p) => new Set(statusesOf(p).map((s) => s.id)).size > 1)
  t.ok(mixed.length >= 1, `a POST carried statuses of several messages (${posts.length} POSTs for 12 statuses)`)
  t.ok(posts.length < 12, 'fewer POSTs than statuses')
  t.same(new Set(allStatuses(receiver.requests).map((s) => s.id)), new Set(ids))
})

t.test('Viber: delivered then seen, signed with the bot token, about the exact message_token', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: { viber: { reject: false, receipts: { delayMs: [30, 60] } } } })
  const token = await sendViber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')
  t.ok(BigInt(token) > 2n ** 53n, 'a token no JS number holds')
  const posts = viberPosts(await receiver.until((rs) => viberPosts(rs).length >= 2, 10_000, 'two Viber callbacks'))
  await sleep(100)
  t.equal(viberPosts(receiver.requests).length, 2, 'delivered and seen, nothing more')

  for (const post of posts) {
    const signature = String(post.headers['x-viber-content-signature'])
    t.match(signature, /^[0-9a-f]{64}$/, 'X-Viber-Content-Signature: <hex>')
    t.ok(signatureHolds(TOKENS.viber, post.raw, signature), 'the HMAC of the raw body with the auth token')
    t.equal(post.query.get('sig'), signature, 'and the same as ?sig=')
    t.match(post.body, new RegExp(`"message_token":${token}[,}]`), 'message_token: the very digits send_message answered, a raw JSON number')
  }
  const callbacks = posts.map((p) => JSON.parse(p.body))
  const delivered = callbacks.find((c) => c.event === 'delivered')
  const seen = callbacks.find((c) => c.event === 'seen')
  t.match(delivered, { event: 'delivered', timestamp: Number, chat_hostname: /^SN-/, user_id: 'jc9HsWTZ2Yf2NkRZ8KcNug==' })
  t.match(seen, { event: 'seen', timestamp: Number, chat_hostname: /^SN-/, user_id: 'jc9HsWTZ2Yf2NkRZ8KcNug==' })
  t.ok(delivered.timestamp > Date.now() - 60_000 && delivered.timestamp <= seen.timestamp, 'timestamps in ms, in order')
  t.notOk('desc' in delivered)
})

t.test('Viber: callbacks go to the URL given to set_webhook, which is called first and must answer 200', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast() })
  const setWebhook = (payload: object) => app.inject({ method: 'POST', url: '/viber/pa/set_webhook', headers: { 'x-viber-auth-token': TOKENS.viber }, payload })

  receiver.answer((r) => r.path === '/refuses' ? 404 : 200)
  let res = await setWebhook({ url: `${receiver.url}/refuses` })
  t.match(res.json(), { status: 1, status_message: 'invalidUrl' }, 'a URL that does not answer 200 is not set')

  res = await setWebhook({ url: `${receiver.url}/viber-hook`, event_types: ['delivered', 'failed'] })
  t.same(res.json(), { status: 0, status_message: 'ok', chat_hostname: 'SN-CHAT-01_', event_types: ['delivered', 'failed'] })
  const check = receiver.requests.find((r) => r.path === '/viber-hook')
  t.match(JSON.parse(check?.body ?? '{}'), { event: 'webhook', timestamp: Number, chat_hostname: /^SN-/ })
  t.match(check?.body, /"message_token":\d{17,}[,}]/)
  t.ok(signatureHolds(TOKENS.viber, check!.raw, String(check?.headers['x-viber-content-signature'])), 'signed like every callback')

  const token = await sendViber(app)
  await receiver.until((rs) => rs.some((r) => r.path === '/viber-hook' && r.body.includes('"delivered"')))
  await sleep(100)
  const events = receiver.requests.filter((r) => r.path === '/viber-hook').map((r) => JSON.parse(r.body).event)
  t.same(events, ['webhook', 'delivered'], 'only the events asked for: no seen')
  t.ok(receiver.requests.filter((r) => r.path === '/viber-hook').at(-1)?.body.includes(token))
  t.equal(viberPosts(receiver.requests).length, 0, 'nothing to the default /webhooks/viber any more')
})

t.test('failRate 1: a single failed receipt, with failCode on WhatsApp and a desc on Viber', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast({ failRate: 1 }) })
  const id = await sendWhatsApp(app, '+15551234567')
  const token = await sendViber(app)
  await untilStatuses(receiver, 1)
  await receiver.until((rs) => viberPosts(rs).length >= 1)
  await sleep(150)
  t.same(allStatuses(receiver.requests).map((s) => `${s.id} ${s.status}`), [`${id} failed`], 'WhatsApp: only failed')
  t.same(allStatuses(receiver.requests)[0]?.errors, [{
    code: DEFAULT_RECEIPTS.failCode, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' }
  }], 'failCode defaults to 131026')
  t.notOk('pricing' in allStatuses(receiver.requests)[0]!, 'no pricing on a failure')
  const viber = viberPosts(receiver.requests)
  t.equal(viber.length, 1)
  t.match(JSON.parse(viber[0]!.body), { event: 'failed', user_id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', desc: /\w/ })
  t.match(viber[0]!.body, new RegExp(`"message_token":${token}[,}]`))

  const res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload: { receipts: { failCode: 131049 } } })
  t.match(res.json().receipts, { ...DEFAULT_RECEIPTS, delayMs: [0, 5], failRate: 1, failCode: 131049 }, 'a partial receipts change keeps the rest')
  const second = await sendWhatsApp(app, '+15551234567')
  await untilStatuses(receiver, 2)
  t.match(allStatuses(receiver.requests).find((s) => s.id === second), { status: 'failed', errors: [{ code: 131049 }] })
})

t.test('readRate 0: delivered but never read or seen', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast({ readRate: 0 }) })
  for (let i = 0; i < 5; i++) await sendWhatsApp(app, '+15551234567')
  for (let i = 0; i < 5; i++) await sendViber(app)
  await untilStatuses(receiver, 10)
  await receiver.until((rs) => viberPosts(rs).length >= 5)
  await sleep(150)
  t.same([...new Set(allStatuses(receiver.requests).map((s) => s.status))].sort(), ['delivered', 'sent'])
  t.same([...new Set(viberPosts(receiver.requests).map((r) => JSON.parse(r.body).event))], ['delivered'])
})

t.test('duplicateRate 1: every receipt twice, the copy identical', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast({ duplicateRate: 1 }) })
  const id = await sendWhatsApp(app, '+15551234567')
  const token = await sendViber(app)
  await untilStatuses(receiver, 6)
  await receiver.until((rs) => viberPosts(rs).length >= 4)
  await sleep(150)
  const statuses = allStatuses(receiver.requests)
  t.equal(statuses.length, 6)
  for (const status of ['sent', 'delivered', 'read']) {
    const copies = statuses.filter((s) => s.id === id && s.status === status)
    t.equal(copies.length, 2, `${status} twice`)
    t.same(copies[0], copies[1], `${status}: the same status both times`)
  }
  t.ok(whatsappPosts(receiver.requests).every((p) => new Set(statusesOf(p).map((s) => `${s.id} ${s.status}`)).size === statusesOf(p).length),
    'a copy never rides in the same POST as its original')
  const viber = viberPosts(receiver.requests).map((r) => r.body)
  t.equal(viber.length, 4)
  t.equal(new Set(viber).size, 2, 'two callbacks, each sent twice byte for byte')
  t.ok(viber.every((body) => body.includes(token)))
})

t.test('by chance: readRate, failRate and duplicateRate come out near their rates', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: { whatsapp: { receipts: { delayMs: [0, 3], readRate: 0.5, failRate: 0.2, duplicateRate: 0.3 } } } })
  const n = 200
  const ids = new Set<string>()
  for (let i = 0; i < n; i++) ids.add(await sendWhatsApp(app, `+1555200${String(i).padStart(4, '0')}`))
  // Wait for the receipts to stop coming.
  let seen = -1
  while (seen !== receiver.requests.length) {
    seen = receiver.requests.length
    await sleep(300)
  }
  const statuses = allStatuses(receiver.requests)
  const distinct = new Map(statuses.map((s) => [`${s.id} ${s.status}`, s]))
  const failed = [...ids].filter((id) => distinct.has(`${id} failed`))
  const delivered = [...ids].filter((id) => distinct.has(`${id} delivered`))
  const read = [...ids].filter((id) => distinct.has(`${id} read`))
  t.equal(failed.length + delivered.length, n, 'each message either failed or was delivered')
  t.ok(failed.every((id) => !distinct.has(`${id} sent`) && !distinct.has(`${id} read`)), 'a failure is the only receipt of its message')
  // Expected 40 failed (sd 5.7), 80 of the 160 delivered read (sd 6.3), 30% of ~440 receipts doubled (~132, sd 9.6).
  t.ok(failed.length >= 15 && failed.length <= 70, `failRate 0.2: ${failed.length} of ${n} failed`)
  t.ok(read.length >= 0.3 * delivered.length && read.length <= 0.7 * delivered.length, `readRate 0.5: ${read.length} of ${delivered.length} delivered were read`)
  const doubled = statuses.length - distinct.size
  t.ok(doubled >= 0.15 * distinct.size && doubled <= 0.45 * distinct.size, `duplicateRate 0.3: ${doubled} of ${distinct.size} receipts came twice`)
})

t.test('shuffle: a message\'s receipts in every order, not only sent < delivered < read', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: { whatsapp: { receipts: { delayMs: [1, 8], shuffle: true } } } })
  const n = 60
  for (let i = 0; i < n; i++) await sendWhatsApp(app, `+1555300${String(i).padStart(4, '0')}`)
  await untilStatuses(receiver, 3 * n)
  const orders = [...(await sequences(app)).values()].map((s) => s.join(' < '))
  t.equal(orders.length, n)
  const inOrder = orders.filter((o) => o === 'sent < delivered < read').length
  // Shuffled, each of the 6 orders comes with chance 1/6: expected 10 in order (sd 2.9), all six orders seen.
  t.ok(inOrder <= 30, `${inOrder} of ${n} in the usual order`)
  t.ok(new Set(orders).size >= 4, `${new Set(orders).size} different orders`)

  await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload: { receipts: { shuffle: false } } })
  await app.inject({ method: 'DELETE', url: '/_mock/receipts' })
  for (let i = 0; i < 20; i++) await sendWhatsApp(app, `+1555400${String(i).padStart(4, '0')}`)
  await untilStatuses(receiver, 3 * n + 60)
  t.same(new Set([...(await sequences(app)).values()].map((s) => s.join(' < '))), new Set(['sent < delivered < read']), 'unshuffled: always in order')
})

t.test('a receipt answered non-2xx is retried with backoff until answered; the record says how it went', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast({ readRate: 0 }) })
  let answered = 0
  receiver.answer(() => ++answered <= 2 ? 500 : 200)
  await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload: { receipts: { delayMs: [0, 0] } } })
  await sendViber(app)
  await receiver.until((rs) => rs.length >= 3)
  await sleep(100)
  const [first, second, third] = receiver.requests
  t.equal(receiver.requests.length, 3, 'two 500s, then a 200, then nothing more')
  t.equal(first?.body, third?.body, 'the same body each time')
  t.equal(first?.headers['x-viber-content-signature'], third?.headers['x-viber-content-signature'])
  // Waits of 20-40 ms, then 40-80 ms (minTimeoutMs 20, doubling, randomized up to twice).
  t.ok(second!.at - first!.at >= 12, `a wait before the first retry (${second!.at - first!.at} ms)`)
  t.ok(third!.at - second!.at >= 30, `a longer one before the second (${third!.at - second!.at} ms)`)
  const { receipts } = (await app.inject({ method: 'GET', url: '/_mock/receipts' })).json()
  t.match(receipts, [{ messenger: 'viber', status: 200, attempts: 3, outcome: 'answered' }])
  t.notOk('error' in receipts[0], 'no error left once answered')
})

t.test('a receipt nobody takes is dropped after the last retry, and recorded as such', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer(503)
  const app = mock(t, receiver, { behaviour: fast({ readRate: 0 }), receiptRetry: { retries: 2, minTimeoutMs: 10, timeoutMs: 1000 } })
  await sendViber(app)
  await receiver.until((rs) => rs.length >= 3)
  await sleep(200)
  t.equal(receiver.requests.length, 3, 'one attempt and two retries')
  let records = (await app.inject({ method: 'GET', url: '/_mock/receipts?outcome=dropped' })).json()
  t.match(records, { count: 1, receipts: [{ status: 503, attempts: 3, outcome: 'dropped', error: 'HTTP 503' }] })

  // Nobody listening at all: no status, the network error named.
  const port = await closedPort()
  const stopped = mock(t, undefined, { receiptsUrl: `http://127.0.0.1:${port}`, behaviour: fast({ readRate: 0 }), receiptRetry: { retries: 1, minTimeoutMs: 10, timeoutMs: 500 } })
  await sendViber(stopped)
  const deadline = Date.now() + 5000
  do {
    await sleep(20)
    records = (await stopped.inject({ method: 'GET', url: '/_mock/receipts?outcome=dropped' })).json()
  } while (records.count === 0 && Date.now() < deadline)
  t.match(records.receipts, [{ url: new RegExp(`^http://127\\.0\\.0\\.1:${port}/webhooks/viber\\?sig=[0-9a-f]{64}$`), status: null, attempts: 2, outcome: 'dropped', error: /\w/ }])
})

t.test('no receiptsUrl: no receipts; Telegram: never any', async (t) => {
  const silent = mock(t, undefined, { behaviour: fast() })
  await sendWhatsApp(silent, '+15551234567')
  await sendViber(silent)
  await sleep(100)
  t.same((await silent.inject({ method: 'GET', url: '/_mock/receipts' })).json(), { count: 0, scheduled: 0, receipts: [] })

  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast() })
  const res = await app.inject({ method: 'POST', url: `/telegram/bot${TOKENS.telegram}/sendMessage`, payload: { chat_id: 123456789, text: 'hi' } })
  t.equal(res.statusCode, 200)
  await sleep(200)
  t.same(receiver.requests, [], 'a Telegram send is the last word')
})

t.test('DELETE /_mock/receipts forgets them; the receipts knobs are validated like the others', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { behaviour: fast() })
  await sendWhatsApp(app, '+15551234567')
  await untilStatuses(receiver, 3)
  await sleep(50)
  t.ok((await app.inject({ method: 'GET', url: '/_mock/receipts' })).json().count >= 1)
  t.same((await app.inject({ method: 'DELETE', url: '/_mock/receipts' })).json(), { ok: true })
  t.same((await app.inject({ method: 'GET', url: '/_mock/receipts' })).json(), { count: 0, scheduled: 0, receipts: [] })

  for (const receipts of [{ failRate: 2 }, { readRate: -0.1 }, { delayMs: [1] }, { delayMs: [-1, 5] }, { shuffle: 'yes' }, { failCode: 1.5 }, { duplicateRate: '0.5' }, { sometimes: true }, 'all']) {
    const res = await app.inject({ method: 'PUT', url: '/_mock/behaviour/whatsapp', payload: { receipts } })
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(receipts)}`)
  }
  const behaviour = (await app.inject({ method: 'GET', url: '/_mock/behaviour' })).json()
  t.same(behaviour.whatsapp.receipts, { ...DEFAULT_RECEIPTS, delayMs: [0, 5] }, 'nothing changed')
  t.same(behaviour.telegram.receipts, DEFAULT_RECEIPTS, 'Telegram has the knobs too, and nothing to use them on')
})

t.test('closing the mock clears pending receipts and aborts POSTs in flight', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer('hang')
  const app = buildMock({ ...MOCK_CREDENTIALS, receiptsUrl: receiver.url, behaviour: { whatsapp: { receipts: { delayMs: [0, 0] } }, viber: { reject: false, receipts: { delayMs: [60_000, 60_000] } } } })
  await sendWhatsApp(app, '+15551234567')
  await sendViber(app)
  await receiver.until((rs) => rs.length >= 1)
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms, with a POST hanging and a receipt a minute away`)
  const count = receiver.requests.length
  await sleep(200)
  t.equal(receiver.requests.length, count, 'nothing sent after the close')
})
