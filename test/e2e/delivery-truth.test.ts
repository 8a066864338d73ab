/**
 * Delivery truth, end to end: the service listening on a real port, the mock
 * playing the real platforms' rules (MOCK_PROFILE=realistic) and sending
 * their receipts back, signed, over HTTP.
 *
 * 300 contacts on WhatsApp: a third wrote to the business just now (their
 * 24-hour window is open), a third wrote 25 hours ago (closed), a third was
 * never heard from. With a template every delivery ends delivered or read;
 * without one the closed and unknown ones end failed, with the reason, in
 * both failed lookups. Failures reported after acceptance (131026), receipts
 * shuffled and repeated, and a forged receipt, too.
 */
import t from 'tap'
import type { Test } from 'tap'
import { whatsappWebhookBody } from '../../mock-messengers/whatsapp.js'
import { hmacHex } from '../../src/messengers/webhook-signature.js'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery, type Client } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { startMock, type TestMock } from '../helpers/mock.js'
import { freePort } from '../helpers/processes.js'

const PER_GROUP = 100
const number = (group: number, i: number) => `+1555${group}${String(i).padStart(6, '0')}`
const HOUR = 3600_000

/** The service on a port of its own, and the realistic mock sending receipts to it. */
async function setup (t: Test): Promise<{ alice: Client, mock: TestMock }> {
  const port = await freePort()
  const mock = await startMock(t, { profile: 'realistic', receiptsUrl: `http://127.0.0.1:${port}` })
  const { app } = await build(t, { mock, env: { WHATSAPP_RATE_PER_SECOND: '0' } })
  await app.listen({ host: '127.0.0.1', port })
  const alice = client(app, { user: 'alice' })
  // Group 0 wrote just now, group 1 a day and an hour ago, group 2 never.
  for (let i = 0; i < PER_GROUP; i++) {
    await mock.control('/_mock/whatsapp/inbound', { from: number(0, i), text: 'hi' })
    await mock.control('/_mock/whatsapp/inbound', { from: number(1, i), text: 'hi', at: new Date(Date.now() - 25 * HOUR).toISOString() })
  }
  // The mock delivers those inbound messages to the service, which notes each window.
  await eventually(async () => (await app.addressFacts.whatsappWindow(number(1, PER_GROUP - 1))) === 'closed' &&
    (await app.addressFacts.whatsappWindow(number(0, PER_GROUP - 1))) === 'open', 'the inbound webhooks to arrive')
  const contacts = [0, 1, 2].flatMap((group) => Array.from({ length: PER_GROUP }, (_, i) => ({ name: `g${group}-${i}`, whatsapp: number(group, i) })))
  await addContacts(alice, contacts)
  return { alice, mock }
}

/**
 * The dispatch's deliveries once every receipt is in: nothing pending, and the
 * mock has posted (and the service answered) every receipt it scheduled.
 */
async function outcome (alice: Client, mock: TestMock, id: string): Promise<ApiDelivery[]> {
  await settled(alice, id, 60_000)
  await eventually(async () => {
    const [all, pending] = await Promise.all([mock.receipts(), mock.receipts({ outcome: 'pending' })])
    return all.scheduled === 0 && pending.count === 0
  }, 'every receipt to be posted and answered', 60_000)
  return await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${id}`, 'deliveries', 1000)
}

const group = (d: ApiDelivery) => Number((d.contact ?? '').slice(1, 2))

t.test('with a template: every WhatsApp delivery ends delivered or read (the text inside the window, the template outside it)', async (t) => {
  const { alice, mock } = await setup(t)
  const sent = await dispatch(alice, { text: 'Your order has shipped', all_contacts: true, whatsapp_template: { name: 'hello_world', language: 'en_US' } })
  t.equal(sent.deliveries, 3 * PER_GROUP)
  const deliveries = await outcome(alice, mock, sent.id)
  t.same(deliveries.filter((d) => !['delivered', 'read'].includes(d.state)).map((d) => `${d.address} ${d.state} ${d.last_error ?? ''}`), [], 'none failed')
  t.same([...new Set(deliveries.filter((d) => group(d) === 0).map((d) => d.sent_as ?? 'text'))], ['text'], 'inside the window: the text')
  t.same([...new Set(deliveries.filter((d) => group(d) !== 0).map((d) => d.sent_as ?? 'text'))], ['template'], 'outside it, or never heard from: the template')
  const atMock = await mock.received({ messenger: 'whatsapp' })
  t.equal(atMock.messages.filter((m) => m.type === 'template').length, 2 * PER_GROUP, 'the mock got 200 templates')
  t.ok(deliveries.every((d) => d.receipts.some((r) => r.state === 'delivered')), 'each one\'s timeline has its delivered receipt')
})

t.test('without a template: the closed and unknown windows fail with the reason, in both failed lookups', async (t) => {
  const { alice, mock } = await setup(t)
  const sent = await dispatch(alice, { text: 'Free-form text', all_contacts: true })
  const deliveries = await outcome(alice, mock, sent.id)
  const byGroup = (g: number) => deliveries.filter((d) => group(d) === g)
  t.ok(byGroup(0).every((d) => ['delivered', 'read'].includes(d.state)), 'inside the window: delivered or read')
  t.ok(byGroup(1).every((d) => d.state === 'failed' && /^WHATSAPP_WINDOW_CLOSED: /.test(d.last_error ?? '') && d.attempts === 1),
    'closed: failed at once, with the reason')
  t.equal((await mock.received({ messenger: 'whatsapp' })).messages.filter((m) => byGroup(1).some((d) => d.address === m.recipient)).length, 0,
    'and nothing was sent for them: a send that would fail costs money')
  t.ok(byGroup(2).every((d) => d.state === 'failed' && /131047/.test(d.last_error ?? '') && d.receipts.some((r) => r.state === 'failed' && r.code === 131047)),
    'never heard from: accepted, then failed by receipt (131047, re-engagement)')

  const failed = await listAll<ApiDelivery>(alice, '/v1/deliveries?state=failed', 'deliveries', 500)
  t.equal(failed.length, 2 * PER_GROUP, 'GET /v1/deliveries?state=failed lists them')
  const legacy = (await alice('GET', '/api/get_failed_mess?user_name=alice&limit=1000')).json() as { total: number, data: Array<{ delivery_id: string, error: string }> }
  t.equal(legacy.total, 2 * PER_GROUP, 'and so does the legacy get_failed_mess')
  t.same(new Set(legacy.data.map((d) => d.delivery_id)), new Set(failed.map((d) => d.id)))
  t.ok(legacy.data.every((d) => /WHATSAPP_WINDOW_CLOSED|131047/.test(d.error)), 'each with its reason')
})

t.test('a failure reported after acceptance (131026), and receipts shuffled and repeated: the same truth', async (t) => {
  const { alice, mock } = await setup(t)
  const open = Array.from({ length: PER_GROUP }, (_, i) => `g0-${i}`)
  await mock.behave('whatsapp', { receipts: { failRate: 1, failCode: 131026 } })
  const undeliverable = await dispatch(alice, { text: 'Nobody home', contacts: open.slice(0, 20) })
  const failed = await outcome(alice, mock, undeliverable.id)
  t.ok(failed.every((d) => d.state === 'failed' && /131026/.test(d.last_error ?? '')), 'accepted, then failed: 131026')
  const legacy = (await alice('GET', '/api/get_failed_mess?user_name=alice')).json() as { data: Array<{ delivery_id: string }> }
  t.same(new Set(legacy.data.map((d) => d.delivery_id)), new Set(failed.map((d) => d.id)), 'in the legacy failed lookup too')

  // Every message is read; the receipts come in any order, many twice.
  await mock.behave('whatsapp', { receipts: { failRate: 0, readRate: 1, shuffle: true, duplicateRate: 0.5, delayMs: [0, 300] } })
  const shuffled = await dispatch(alice, { text: 'Shuffled', contacts: open.slice(20) })
  const read = await outcome(alice, mock, shuffled.id)
  t.same([...new Set(read.map((d) => d.state))], ['read'], 'all read, whatever the order')
  t.ok(read.every((d) => d.receipts.map((r) => r.state).sort().join() === 'delivered,read,sent'), 'each status once in each timeline')
  const posted = await mock.receipts({ messenger: 'whatsapp' })
  t.ok(posted.count > 3 * read.length, `the mock did send repeats (${posted.count} posts for ${3 * read.length} statuses)`)
})

t.test('a forged receipt changes nothing', async (t) => {
  const { alice, mock } = await setup(t)
  const sent = await dispatch(alice, { text: 'Hello', contacts: ['g0-0'] })
  const [delivery] = await outcome(alice, mock, sent.id)
  const body = whatsappWebhookBody('100000000000001', {
    statuses: [{ id: delivery!.provider_message_id, status: 'failed', timestamp: '1', recipient_id: '1', errors: [{ code: 131026, title: 'forged' }] }]
  })
  const forged = await alice('POST', '/webhooks/whatsapp', body, { headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmacHex(body, 'not-the-app-secret')}` } })
  t.equal(forged.statusCode, 401)
  t.same((await alice('GET', `/v1/deliveries/${delivery!.id}`)).json(), delivery, 'the delivery is exactly as it was')
})

t.test('Viber and Telegram by their rules: the webhook registered at start, subscribers only; started bots only', async (t) => {
  const port = await freePort()
  const mock = await startMock(t, { profile: 'realistic', receiptsUrl: `http://127.0.0.1:${port}` })
  const { app } = await build(t, { mock, env: { VIBER_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/viber` } })
  await app.listen({ host: '127.0.0.1', port })
  const alice = client(app, { user: 'alice' })
  // The service calls set_webhook once it listens; until the mock has it, Viber would answer status 10.
  await eventually(async () => ((await mock.received({ messenger: 'viber' })).count === 0 &&
    (await fetch(`${mock.url}/viber/pa/get_account_info`, { method: 'POST', headers: { 'x-viber-auth-token': 'mock-viber-token' } }).then(async (r) => await r.json() as { webhook?: string })).webhook === `http://127.0.0.1:${port}/webhooks/viber`), 'the webhook to be registered')

  await mock.control('/_mock/viber/subscribe', { id: 'viber-subscriber' })
  await eventually(async () => (await app.addressFacts.viberSubscription('viber-subscriber')).subscribedAt !== undefined, 'the subscribed callback')
  await mock.control('/_mock/telegram/start', { chat_id: 5550001 })
  await addContacts(alice, [
    { name: 'Sub', viber: 'viber-subscriber', telegram: '5550001' },
    { name: 'Stranger', viber: 'viber-stranger', telegram: '5550002' }
  ])
  const sent = await dispatch(alice, { text: 'Hello', contacts: ['Sub', 'Stranger'] })
  const deliveries = await outcome(alice, mock, sent.id)
  const state = (contact: string, messenger: string) => deliveries.find((d) => d.contact === contact && d.messenger === messenger)
  t.match(state('Sub', 'viber'), { state: /^(delivered|read)$/ }, 'a subscriber gets it, and Viber says so')
  t.match(state('Stranger', 'viber'), { state: 'failed', last_error: 'viber 6: receiverNotSubscribed' }, 'one who never subscribed: failed, with the reason')
  t.match(state('Sub', 'telegram'), { state: 'sent' }, 'a person who started the bot: sent, Telegram\'s last word')
  t.match(state('Stranger', 'telegram'), { state: 'failed', last_error: 'telegram 403: Forbidden: bot can\'t initiate conversation with a user' })

  await mock.control('/_mock/viber/unsubscribe', { id: 'viber-subscriber' })
  await eventually(async () => (await app.addressFacts.viberSubscription('viber-subscriber')).unsubscribedAt !== undefined, 'the unsubscribed callback, noted on the address')
})
