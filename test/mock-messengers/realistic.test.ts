/**
 * MOCK_PROFILE=realistic: the rules of docs/messengers.md "What happens after the
 * API said yes" (WhatsApp's 24-hour window and templates, Telegram's started
 * bots, Viber's webhook and subscribers), with the receipts they lead to
 * arriving at a bare HTTP server standing in for the service; and the default
 * profile, which has none of these rules (its Viber always fails).
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildMock } from '../../mock-messengers/app.js'
import type { MockOptions } from '../../mock-messengers/config.js'
import { MOCK_CREDENTIALS } from '../helpers/mock.js'
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js'

const TOKENS = MOCK_CREDENTIALS.tokens
const PHONE = MOCK_CREDENTIALS.whatsappPhoneNumberId
const APP_SECRET = 'realistic-test-app-secret'
const HOUR = 3600_000
const FAST = { receipts: { delayMs: [0, 5] as [number, number] } }

function mock (t: Test, receiver: Receiver | undefined, options: Partial<MockOptions> = {}): FastifyInstance {
  const app = buildMock({
    ...MOCK_CREDENTIALS,
    profile: 'realistic',
    whatsappAppSecret: APP_SECRET,
    ...(receiver !== undefined && { receiptsUrl: receiver.url }),
    behaviour: { whatsapp: FAST, viber: FAST },
    ...options
  })
  t.teardown(() => app.close())
  return app
}

const post = (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers, payload: payload as object })

const whatsapp = (app: FastifyInstance, payload: Record<string, unknown>) =>
  post(app, `/whatsapp/v21.0/${PHONE}/messages`, { messaging_product: 'whatsapp', recipient_type: 'individual', ...payload }, { authorization: `Bearer ${TOKENS.whatsapp}` })
const whatsappText = (app: FastifyInstance, to: string, body = 'hello') => whatsapp(app, { to, type: 'text', text: { body } })
const whatsappTemplate = (app: FastifyInstance, to: string, name: string, code = 'en_US') =>
  whatsapp(app, { to, type: 'template', template: { name, language: { code } } })
const telegram = (app: FastifyInstance, chatId: unknown) => post(app, `/telegram/bot${TOKENS.telegram}/sendMessage`, { chat_id: chatId, text: 'hi' })
const viber = (app: FastifyInstance, receiver: string, payload: Record<string, unknown> = {}) =>
  post(app, '/viber/pa/send_message', { receiver, min_api_version: 1, sender: { name: 'Fanout' }, type: 'text', text: 'hi', ...payload }, { 'x-viber-auth-token': TOKENS.viber })
const setWebhook = (app: FastifyInstance, payload: Record<string, unknown>) =>
  post(app, '/viber/pa/set_webhook', payload, { 'x-viber-auth-token': TOKENS.viber })

const valueOf = (r: ReceivedRequest) => JSON.parse(r.body).entry[0].changes[0].value
const statusesOf = (receiver: Receiver) => receiver.requests.filter((r) => r.path === '/webhooks/whatsapp').flatMap((r) => valueOf(r).statuses ?? [])
const statusesFor = (receiver: Receiver, id: string) => statusesOf(receiver).filter((s: { id: string }) => s.id === id)
/** A message's statuses by name, sorted: separate POSTs in flight at once may arrive in any order. */
const statusNames = (receiver: Receiver, id: string) => statusesFor(receiver, id).map((s: { status: string }) => s.status).sort()
const eventsAt = (receiver: Receiver, path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body))

t.test('WhatsApp: free-form text outside the 24-hour window is accepted, then fails with 131047; inside it, delivered', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver)

  // Never wrote.
  let res = await whatsappText(app, '+15551110001')
  t.equal(res.statusCode, 200, 'accepted: the API says yes')
  t.match(res.json(), { messaging_product: 'whatsapp', contacts: [{ input: '+15551110001', wa_id: '15551110001' }], messages: [{ id: /^wamid\./ }] })
  const never = res.json().messages[0].id
  await receiver.until(() => statusesFor(receiver, never).length >= 1)

  // Wrote 25 hours ago: the window closed an hour ago.
  const at = new Date(Date.now() - 25 * HOUR).toISOString()
  res = await post(app, '/_mock/whatsapp/inbound', { from: '+15551110002', text: 'hi there', at, name: 'Lera' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: /^wamid\./, wa_id: '15551110002', at, webhook: `${receiver.url}/webhooks/whatsapp` })
  t.ok(Date.parse(res.json().windowOpenUntil) < Date.now() - 0.9 * HOUR, 'the window closed an hour ago')
  const inbound = await receiver.until((rs) => rs.some((r) => r.path === '/webhooks/whatsapp' && valueOf(r).messages !== undefined))
  const message = inbound.find((r) => valueOf(r).messages !== undefined)!
  t.equal(message.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', APP_SECRET).update(message.raw).digest('hex')}`, 'the inbound webhook is signed too')
  t.match(valueOf(message), {
    messaging_product: 'whatsapp',
    metadata: { phone_number_id: PHONE },
    contacts: [{ profile: { name: 'Lera' }, wa_id: '15551110002' }],
    messages: [{ from: '15551110002', id: res.json().id, timestamp: String(Math.floor(Date.parse(at) / 1000)), type: 'text', text: { body: 'hi there' } }]
  })
  res = await whatsappText(app, '15551110002')
  t.equal(res.statusCode, 200)
  const closed = res.json().messages[0].id

  // Wrote just now (given without its +).
  t.equal((await post(app, '/_mock/whatsapp/inbound', { from: '15551110003', text: 'hello?' })).statusCode, 200)
  res = await whatsappText(app, '+15551110003')
  const open = res.json().messages[0].id

  await receiver.until(() => statusesFor(receiver, closed).length >= 1 && statusesFor(receiver, open).length >= 3)
  await sleep(100)
  const reEngagement = [{
    code: 131047,
    title: 'Re-engagement message',
    message: 'Re-engagement message',
    error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' }
  }]
  for (const [id, who] of [[never, 'never wrote'], [closed, 'wrote 25 h ago']]) {
    const statuses = statusesFor(receiver, id)
    t.equal(statuses.length, 1, `${who}: one status`)
    t.match(statuses[0], { status: 'failed', recipient_id: /^\d+$/, timestamp: /^\d+$/ })
    t.same(statuses[0].errors, reEngagement, `${who}: 131047 Re-engagement message`)
  }
  t.same(statusNames(receiver, open), ['delivered', 'read', 'sent'], 'inside the window: sent, delivered and read')
  t.same((await app.inject({ method: 'GET', url: '/_mock/messages?outcome=accepted' })).json().count, 3, 'all three were accepted')
})

t.test('WhatsApp templates: approved ones go out any time; an unknown name is WhatsApp\'s 132001', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver)
  t.same((await app.inject({ method: 'GET', url: '/_mock/whatsapp/templates' })).json(), { templates: [{ name: 'hello_world', category: 'utility' }] },
    'a new business account has hello_world')

  let res = await whatsappTemplate(app, '+15551110009', 'hello_world')
  t.equal(res.statusCode, 200, 'no window needed')
  const id = res.json().messages[0].id
  await receiver.until(() => statusesFor(receiver, id).length >= 3)
  t.match(statusesFor(receiver, id).find((s: { status: string }) => s.status === 'sent'), { status: 'sent', conversation: { origin: { type: 'utility' } }, pricing: { billable: true, pricing_model: 'CBP', category: 'utility' } })

  res = await whatsappTemplate(app, '+15551110009', 'order_update', 'en_GB')
  t.equal(res.statusCode, 404)
  t.match(res.json(), {
    error: {
      message: '(#132001) Template name does not exist in the translation',
      type: 'OAuthException',
      code: 132001,
      error_data: { messaging_product: 'whatsapp', details: 'template name (order_update) does not exist in en_GB' },
      fbtrace_id: /^\w+$/
    }
  })
  res = await whatsapp(app, { to: '+15551110009', type: 'template', template: { name: 'hello_world' } })
  t.equal(res.statusCode, 400, 'a template needs its language')
  t.equal(res.json().error.code, 100)

  res = await post(app, '/_mock/whatsapp/templates', { name: 'order_update', category: 'marketing' })
  t.same(res.json(), { templates: [{ name: 'hello_world', category: 'utility' }, { name: 'order_update', category: 'marketing' }] })
  t.equal((await whatsappTemplate(app, '+15551110009', 'order_update', 'en_GB')).statusCode, 200, 'approved now')
  for (const bad of [{ name: 'Order Update' }, { name: '' }, { name: 'x', category: 'spam' }, { category: 'utility' }]) {
    t.equal((await post(app, '/_mock/whatsapp/templates', bad)).statusCode, 400, `400 for ${JSON.stringify(bad)}`)
  }

  const records = (await app.inject({ method: 'GET', url: '/_mock/messages' })).json().messages
  t.same(records.map((m: { text: string, type: string, outcome: string }) => `${m.type} ${m.text} ${m.outcome}`), [
    'template hello_world accepted',
    'template order_update 132001 (#132001) Template name does not exist in the translation',
    'template hello_world 100 (#100) The parameter template[\'language\'] is required.',
    'template order_update accepted'
  ], 'recorded with the template name as the text and type template')

  const plain = mock(t, undefined, { profile: 'default' })
  t.equal((await whatsappTemplate(plain, '+15551110009', 'hello_world')).statusCode, 200, 'the default profile takes templates too')
  t.equal((await whatsappTemplate(plain, '+15551110009', 'nope')).json().error.code, 132001)
})

t.test('Telegram: a person must have started the bot; groups, channels and @usernames need not', async (t) => {
  const app = mock(t, undefined)
  let res = await telegram(app, 123456789)
  t.equal(res.statusCode, 403)
  t.same(res.json(), { ok: false, error_code: 403, description: 'Forbidden: bot can\'t initiate conversation with a user' })
  t.equal((await telegram(app, -1001234567890)).statusCode, 200, 'a supergroup')
  t.equal((await telegram(app, -4012345678)).statusCode, 200, 'a group')
  t.equal((await telegram(app, '@fanout_news')).statusCode, 200, 'a public channel by its @username')

  res = await post(app, '/_mock/telegram/start', { chat_id: 123456789, payload: 'ref-42' })
  t.match(res.json(), { ok: true, chat_id: 123456789, payload: 'ref-42' })
  res = await telegram(app, 123456789)
  t.equal(res.statusCode, 200, 'started: reachable')
  t.match(res.json(), { ok: true, result: { chat: { id: 123456789, type: 'private' } } })
  t.equal((await telegram(app, '123456789')).statusCode, 200, 'the same chat id as a string')
  t.equal((await telegram(app, 987654321)).statusCode, 403, 'another person has not')

  t.match((await app.inject({ method: 'GET', url: '/_mock/telegram/started' })).json(), { chats: [{ chat_id: 123456789, payload: 'ref-42', at: String }] }, 'the payload is kept')
  for (const bad of [{ chat_id: -100123 }, { chat_id: 0 }, { chat_id: '123' }, { chat_id: 1, payload: 'x'.repeat(65) }, {}]) {
    t.equal((await post(app, '/_mock/telegram/start', bad)).statusCode, 400, `400 for ${JSON.stringify(bad)}`)
  }
})

t.test('Viber: no send before set_webhook, only to subscribers, never to a phone number; what users do comes as callbacks', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver)
  t.same((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')).json(), { status: 10, status_message: 'webhookNotSet', chat_hostname: 'SN-CHAT-01_' })

  let res = await setWebhook(app, { url: `${receiver.url}/viber`, send_name: true, send_photo: true })
  t.match(res.json(), { status: 0, status_message: 'ok', event_types: ['delivered', 'seen', 'failed', 'subscribed', 'unsubscribed', 'conversation_started'] })
  t.match(eventsAt(receiver, '/viber'), [{ event: 'webhook' }], 'Viber checked the URL first')

  t.match((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')).json(), { status: 6, status_message: 'receiverNotSubscribed' })
  for (const phone of ['+15551234567', '380501234567']) {
    t.match((await viber(app, phone)).json(), { status: 999, status_message: 'Bad receiver ID' }, `${phone}: a phone number is no receiver id`)
  }
  t.match((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==', { sender: {} })).json(), { status: 4, status_message: 'missingData' }, 'sender.name is required')

  res = await post(app, '/_mock/viber/subscribe', { id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', name: 'Lera', context: 'campaign-7' })
  t.same(res.json(), { ok: true, id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', callback: `${receiver.url}/viber` })
  await receiver.until(() => eventsAt(receiver, '/viber').some((e) => e.event === 'subscribed'))
  t.match(eventsAt(receiver, '/viber').find((e) => e.event === 'subscribed'), {
    event: 'subscribed', timestamp: Number, chat_hostname: /^SN-/, user: { id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', name: 'Lera', avatar: String, country: /^[A-Z]{2}$/, language: String, api_version: Number }
  })
  t.match((await app.inject({ method: 'GET', url: '/_mock/viber/subscribers' })).json(), { subscribers: [{ id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', name: 'Lera', context: 'campaign-7' }] })

  res = await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')
  t.match(res.json(), { status: 0, status_message: 'ok' }, 'subscribed: reachable')
  const token = /"message_token":(\d+)/.exec(res.body)![1]
  await receiver.until(() => eventsAt(receiver, '/viber').filter((e) => e.event === 'delivered' || e.event === 'seen').length >= 2)
  t.ok(receiver.requests.filter((r) => r.body.includes(`"message_token":${token}`)).length >= 2, 'delivered and seen name the message_token sent')

  res = await post(app, '/_mock/viber/conversation_started', { id: 'NewUser0000000000000==', context: 'deep-link-1' })
  t.equal(res.statusCode, 200)
  res = await post(app, '/_mock/viber/unsubscribe', { id: 'jc9HsWTZ2Yf2NkRZ8KcNug==' })
  t.equal(res.statusCode, 200)
  t.match((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')).json(), { status: 6 }, 'unsubscribed: unreachable again')
  res = await post(app, '/_mock/viber/inbound', { id: 'Writer000000000000000==', text: 'hello bot', name: 'Ann' })
  t.equal(res.statusCode, 200)
  await receiver.until(() => ['conversation_started', 'unsubscribed', 'message'].every((e) => eventsAt(receiver, '/viber').some((x) => x.event === e)))
  const events = eventsAt(receiver, '/viber')
  t.match(events.find((e) => e.event === 'conversation_started'), { type: 'open', context: 'deep-link-1', user: { id: 'NewUser0000000000000==' }, subscribed: false })
  t.match(events.find((e) => e.event === 'unsubscribed'), { user_id: 'jc9HsWTZ2Yf2NkRZ8KcNug==', timestamp: Number })
  t.match(events.find((e) => e.event === 'message'), { sender: { id: 'Writer000000000000000==', name: 'Ann' }, message: { type: 'text', text: 'hello bot' } })
  t.ok(receiver.requests.filter((r) => r.path === '/viber').every((r) => /"message_token":\d{17,}[,}]/.test(r.body)), 'every callback has a message_token')
  t.match((await viber(app, 'Writer000000000000000==')).json(), { status: 0 }, 'a user who wrote is subscribed')

  for (const bad of [{ id: 'has spaces' }, { id: '' }, { name: 'x' }, { id: 'ok', context: 5 }]) {
    t.equal((await post(app, '/_mock/viber/subscribe', bad)).statusCode, 400, `400 for ${JSON.stringify(bad)}`)
  }
})

t.test('Viber set_webhook: an empty URL removes it; bad ones are refused in Viber\'s manner; names only when asked for', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver)
  t.match((await setWebhook(app, { url: 'not a url' })).json(), { status: 1, status_message: 'invalidUrl' })
  t.match((await setWebhook(app, {})).json(), { status: 1, status_message: 'invalidUrl' })
  t.match((await setWebhook(app, { url: `${receiver.url}/v`, event_types: ['delivered', 'teleported'] })).json(), { status: 3, status_message: 'badData' })
  t.match((await post(app, '/viber/pa/set_webhook', { url: `${receiver.url}/v` }, { 'x-viber-auth-token': 'wrong' })).json(), { status: 2, status_message: 'invalidAuthToken' })
  t.equal(receiver.requests.length, 0, 'none of those called the URL')

  t.match((await setWebhook(app, { url: `${receiver.url}/v` })).json(), { status: 0 })
  await post(app, '/_mock/viber/subscribe', { id: 'Quiet00000000000000000==', name: 'Hidden' })
  await receiver.until(() => eventsAt(receiver, '/v').some((e) => e.event === 'subscribed'))
  const { user } = eventsAt(receiver, '/v').find((e) => e.event === 'subscribed')
  t.notOk('name' in user || 'avatar' in user, 'without send_name and send_photo, no name and no avatar')

  let account = (await post(app, '/viber/pa/get_account_info', {}, { 'x-viber-auth-token': TOKENS.viber })).json()
  t.match(account, { status: 0, status_message: 'ok', id: /^pa:/, name: String, webhook: `${receiver.url}/v`, subscribers_count: 1, members: Array })
  t.match((await setWebhook(app, { url: '' })).json(), { status: 0, status_message: 'ok' })
  account = (await post(app, '/viber/pa/get_account_info', {}, { 'x-viber-auth-token': TOKENS.viber })).json()
  t.equal(account.webhook, '', 'removed')
  t.match((await viber(app, 'Quiet00000000000000000==')).json(), { status: 10, status_message: 'webhookNotSet' })
})

t.test('the default profile has none of these rules, and its Viber always fails', async (t) => {
  const receiver = await startReceiver(t)
  const app = mock(t, receiver, { profile: 'default' })
  t.equal((await telegram(app, 123456789)).statusCode, 200, 'Telegram: no /start needed')
  const res = await whatsappText(app, '+15551119999')
  const id = res.json().messages[0].id
  await receiver.until(() => statusesFor(receiver, id).length >= 3)
  t.same(statusNames(receiver, id), ['delivered', 'read', 'sent'], 'WhatsApp: no window')
  await post(app, '/_mock/viber/subscribe', { id: 'jc9HsWTZ2Yf2NkRZ8KcNug==' })
  t.match((await viber(app, 'jc9HsWTZ2Yf2NkRZ8KcNug==')).json(), { status: 6, status_message: 'receiverNotSubscribed' }, 'Viber fails, subscribed or not')
  t.equal((await app.inject({ method: 'GET', url: '/_mock/behaviour' })).json().viber.reject, true)
  const realistic = (await mock(t, undefined).inject({ method: 'GET', url: '/_mock/behaviour' })).json()
  t.equal(realistic.viber.reject, false, 'the realistic profile\'s Viber does not reject: it follows the rules')
})
