/**
 * Invite links through the real app and the real mock: the links per
 * messenger (and the reason when a setting is missing), the person's answer
 * on each messenger's webhook connecting the contact's id (or replacing it,
 * the old one kept in its connections), and every way a token connects
 * nothing: a wrong Telegram secret (401), a token used twice, expired, or
 * for a deleted contact, each answered politely in the messenger.
 */
import t from 'tap'
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Webhook } from 'standardwebhooks'
import { whatsappWebhookBody } from '../../mock-messengers/whatsapp.js'
import { CONNECTED_TEXT, NOT_CONNECTED_TEXT } from '../../src/invites/invite-texts.js'
import { hmacHex } from '../../src/messengers/webhook-signature.js'
import { client, type Client } from '../helpers/api.js'
import { build, eventually, type Built } from '../helpers/app.js'
import { keysMatching } from '../helpers/redis.js'
import { startReceiver } from '../helpers/receiver.js'

const SECRET = 'test-telegram-secret'
export const INVITE_ENV = {
  TELEGRAM_BOT_USERNAME: 'fanout_mock_bot',
  VIBER_CHAT_URI: 'fanoutmock',
  WHATSAPP_BUSINESS_NUMBER: '+15550001111',
  TELEGRAM_WEBHOOK_SECRET: SECRET
}

interface Links { telegram: { url: string, token: string }, viber: { url: string, token: string }, whatsapp: { url: string, token: string, code: string } }

async function setup (t: Test, env: Record<string, string> = {}): Promise<Built & { alice: Client }> {
  const built = await build(t, { env: { ...INVITE_ENV, ...env } })
  const alice = client(built.app, { user: 'alice' })
  await alice('POST', '/v1/contacts', { name: 'Lera' }, { expectStatus: 201 })
  return { ...built, alice }
}

async function invite (alice: Client, name = 'Lera'): Promise<Links> {
  return (await alice('POST', `/v1/contacts/${encodeURIComponent(name)}/invites`, undefined, { expectStatus: 201 })).json().links as Links
}

async function telegramStart (built: Built, chatId: number, text: string, secret: string | null = SECRET) {
  return await built.app.inject({
    method: 'POST',
    url: '/webhooks/telegram',
    headers: { 'content-type': 'application/json', ...(secret !== null && { 'x-telegram-bot-api-secret-token': secret }) },
    payload: JSON.stringify({ update_id: 1, message: { message_id: 1, from: { id: chatId, is_bot: false, first_name: 'Lera' }, chat: { id: chatId, type: 'private' }, date: 1, text } })
  })
}

async function postViber (built: Built, fields: Record<string, unknown>) {
  const raw = `${JSON.stringify({ timestamp: Date.now(), chat_hostname: 'SN-CHAT-01_', ...fields }).slice(0, -1)},"message_token":5491941592133582393}`
  return await built.app.inject({ method: 'POST', url: '/webhooks/viber', headers: { 'content-type': 'application/json', 'x-viber-content-signature': hmacHex(raw, 'mock-viber-token') }, payload: raw })
}

async function postWhatsApp (built: Built, from: string, text: string) {
  const raw = whatsappWebhookBody('100000000000001', {
    contacts: [{ profile: { name: 'Lera' }, wa_id: from }],
    messages: [{ from, id: `wamid.${Math.random()}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }]
  })
  return await built.app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmacHex(raw, 'mock-whatsapp-app-secret')}` }, payload: raw })
}

const lera = async (alice: Client) => (await alice('GET', '/v1/contacts/Lera', undefined, { expectStatus: 200 })).json()

t.test('a contact with a name only gets a link per messenger; without a messenger\'s setting, the reason instead', async (t) => {
  const { alice } = await setup(t)
  t.same(await lera(alice), { name: 'Lera', health: {} }, 'a name is a contact, with no address to be healthy or not')
  const answer = (await alice('POST', '/v1/contacts/Lera/invites', undefined, { expectStatus: 201 })).json()
  t.match(answer, { contact: 'Lera', expires_at: String, unavailable: [] })
  const { telegram, viber, whatsapp } = answer.links as Links
  t.match(telegram.url, /^https:\/\/t\.me\/fanout_mock_bot\?start=[A-Za-z0-9_-]{32}$/)
  t.equal(telegram.url.split('start=')[1], telegram.token)
  t.match(viber.url, /^viber:\/\/pa\?chatURI=fanoutmock&context=[A-Za-z0-9_-]{32}$/)
  t.match(whatsapp.url, /^https:\/\/wa\.me\/15550001111\?text=invite%3A[A-Za-z0-9_-]{32}$/)
  t.equal(whatsapp.code, `invite:${whatsapp.token}`)
  t.equal(new Set([telegram.token, viber.token, whatsapp.token]).size, 3, 'a token per messenger')
  const days = (Date.parse(answer.expires_at as string) - Date.now()) / 86_400_000
  t.ok(days > 6.99 && days <= 7, 'expiring in 7 days by default')

  const qr = (await alice('POST', '/v1/contacts/Lera/invites?qr=svg', undefined, { expectStatus: 201 })).json()
  t.match(qr.links.telegram.qr_svg, /^<svg[^>]*>.*<\/svg>\s*$/s, 'with ?qr=svg, each link as a QR code')

  t.equal((await alice('POST', '/v1/contacts/Nobody/invites')).statusCode, 404)
  t.equal((await client((await setup(t)).app, { user: 'bob' })('POST', '/v1/contacts/Lera/invites')).statusCode, 404, 'another user\'s contact is nobody\'s')
  t.equal((await alice('POST', '/v1/contacts/Lera/invites?qr=png')).statusCode, 400)

  const bare = client((await build(t)).app, { user: 'alice' })
  await bare('POST', '/v1/contacts', { name: 'Lera' }, { expectStatus: 201 })
  const none = (await bare('POST', '/v1/contacts/Lera/invites', undefined, { expectStatus: 201 })).json()
  t.same(none.links, {}, 'no settings: no links')
  t.same(none.unavailable.map((u: { messenger: string }) => u.messenger), ['telegram', 'whatsapp', 'viber'])
  t.match(none.unavailable, [{ reason: /TELEGRAM_BOT_USERNAME/ }, { reason: /WHATSAPP_BUSINESS_NUMBER/ }, { reason: /VIBER_CHAT_URI/ }])
})

t.test('Telegram: a wrong or missing secret is a 401 that changes nothing; /start <token> connects the chat once', async (t) => {
  const built = await setup(t)
  const { alice } = built
  const links = await invite(alice)
  for (const secret of [null, 'wrong', `${SECRET}x`, `${SECRET.slice(0, -1)}\u00e9`]) { // the last: as many characters as the secret, one byte more
    const res = await telegramStart(built, 42, `/start ${links.telegram.token}`, secret)
    t.equal(res.statusCode, 401, `secret ${String(secret)}`)
    t.match(res.json(), { error: { code: 'INVALID_SIGNATURE' } })
  }
  t.same(await lera(alice), { name: 'Lera', health: {} }, 'nothing connected')

  let res = await telegramStart(built, 42, `/start ${links.telegram.token}`)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { method: 'sendMessage', chat_id: 42, text: CONNECTED_TEXT }, 'the answer tells the person, through the reply')
  t.match(await lera(alice), { name: 'Lera', telegram: '42', connections: [{ messenger: 'telegram', id: '42', at: String, via: 'invite' }] })
  t.notOk((await lera(alice)).connections[0].previous_id, 'nothing replaced')

  res = await telegramStart(built, 43, `/start ${links.telegram.token}`)
  t.same(res.json(), { method: 'sendMessage', chat_id: 43, text: NOT_CONNECTED_TEXT }, 'used twice: a polite no')
  t.equal((await lera(alice)).telegram, '42', 'and nothing changed')

  for (const other of ['/start', 'hello', `/start ${links.viber.token}`]) {
    res = await telegramStart(built, 44, other)
    t.equal(res.statusCode, 200, other)
  }
  t.same((await telegramStart(built, 44, '/start')).json(), {}, 'a /start without a token asks nothing')
  t.same((await telegramStart(built, 44, `/start ${links.viber.token}`)).json().text, NOT_CONNECTED_TEXT, 'another messenger\'s token is no token here')
  const garbled = await built.app.inject({ method: 'POST', url: '/webhooks/telegram', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, payload: '{nope' })
  t.equal(garbled.statusCode, 200, 'a body that is not JSON is still answered 200')

  // A new invite: another chat replaces the id, the old one kept in the history.
  const again = await invite(alice)
  t.equal((await telegramStart(built, 77, `/start ${again.telegram.token}`)).json().text, CONNECTED_TEXT)
  t.match(await lera(alice), {
    telegram: '77',
    connections: [{ messenger: 'telegram', id: '77', previous_id: '42', via: 'invite' }, { messenger: 'telegram', id: '42' }]
  }, 'replaced; the history newest first')
  t.equal((await alice('GET', '/v1/contacts?limit=10')).json().contacts[0].connections, undefined, 'the history shows on the contact itself only')
})

t.test('an expired token connects nothing', async (t) => {
  const built = await setup(t, { INVITE_TTL_SECONDS: '1' })
  const links = await invite(built.alice)
  await sleep(1200)
  t.equal((await telegramStart(built, 42, `/start ${links.telegram.token}`)).json().text, NOT_CONNECTED_TEXT)
  t.same(await lera(built.alice), { name: 'Lera', health: {} })
})

t.test('a deleted contact: its tokens go with it, and connect nothing even if it comes back', async (t) => {
  const built = await setup(t)
  const { alice } = built
  const first = await invite(alice)
  t.equal((await telegramStart(built, 42, `/start ${first.telegram.token}`)).json().text, CONNECTED_TEXT)
  const links = await invite(alice)
  t.ok((await keysMatching(built.redis, `${built.prefix}:invite:*`)).length >= 3)
  await alice('DELETE', '/v1/contacts/Lera', undefined, { expectStatus: 204 })
  t.same(await keysMatching(built.redis, `${built.prefix}:invite:*`), [], 'its tokens are deleted')
  t.same(await keysMatching(built.redis, `${built.prefix}:contact-*`), [], 'and its history')
  await alice('POST', '/v1/contacts', { name: 'Lera' }, { expectStatus: 201 })
  t.equal((await telegramStart(built, 43, `/start ${links.telegram.token}`)).json().text, NOT_CONNECTED_TEXT)
  t.same(await lera(alice), { name: 'Lera', health: {} }, 'the new Lera is not connected by the old one\'s link')

  // Deleted by the legacy API, between issuing and answering.
  const later = await invite(alice)
  t.same((await alice('DELETE', '/api/contacts', { user_name: 'alice', contact: 'Lera' })).json(), { success: true })
  t.equal((await telegramStart(built, 44, `/start ${later.telegram.token}`)).json().text, NOT_CONNECTED_TEXT)
})

t.test('Viber: the context of conversation_started or subscribed connects the user; the answer is the welcome message, or a message', async (t) => {
  const built = await setup(t)
  const { alice, mock } = built
  await mock.behave('viber', { reject: false })
  const links = await invite(alice)
  let res = await postViber(built, { event: 'conversation_started', type: 'open', context: links.viber.token, user: { id: 'LeraViber0000000000000==', name: 'Lera' }, subscribed: false })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sender: { name: 'Fanout' }, type: 'text', text: CONNECTED_TEXT }, 'answered with the welcome message')
  t.match(await lera(alice), { viber: 'LeraViber0000000000000==', connections: [{ messenger: 'viber', id: 'LeraViber0000000000000==', via: 'invite' }] })

  res = await postViber(built, { event: 'subscribed', context: links.viber.token, user: { id: 'Other0000000000000000==' } })
  t.same(res.json(), { receipts: 0, applied: 0, waiting: 0, inbound: 1 }, 'a subscription is noted as ever')
  await eventually(async () => (await mock.received({ messenger: 'viber', recipient: 'Other0000000000000000==' })).messages[0], 'the answer to reach Viber')
  t.match((await mock.received({ messenger: 'viber', recipient: 'Other0000000000000000==' })).messages, [{ text: NOT_CONNECTED_TEXT, outcome: 'accepted' }],
    'used twice: told so by a message (subscribed takes no welcome message)')
  t.equal((await lera(alice)).viber, 'LeraViber0000000000000==')

  const next = await invite(alice)
  res = await postViber(built, { event: 'subscribed', context: next.viber.token, user: { id: 'NewLera00000000000000==' } })
  t.match((await mock.received({ messenger: 'viber', recipient: 'NewLera00000000000000==' })).messages, [{ text: CONNECTED_TEXT }])
  t.match(await lera(alice), { viber: 'NewLera00000000000000==', connections: [{ id: 'NewLera00000000000000==', previous_id: 'LeraViber0000000000000==' }, {}] })

  const third = await invite(alice)
  res = await postViber(built, { event: 'conversation_started', context: third.viber.token, user: { id: 'NewLera00000000000000==' }, subscribed: true })
  t.same(res.json().text, CONNECTED_TEXT, 'a subscriber opening the chat again: the welcome message too')
  res = await postViber(built, { event: 'conversation_started', user: { id: 'NoContext000000000000==' }, subscribed: false })
  t.same(res.json(), { receipts: 0, applied: 0, waiting: 0, inbound: 0 }, 'without a context, nothing to do')
})

t.test('WhatsApp: a message with the code connects the number; the person gets a text back either way', async (t) => {
  const built = await setup(t)
  const { alice, mock } = built
  const links = await invite(alice)
  t.equal((await postWhatsApp(built, '15557770001', decodeURIComponent(links.whatsapp.url.split('text=')[1]!))).statusCode, 200)
  t.match(await lera(alice), { whatsapp: '+15557770001', connections: [{ messenger: 'whatsapp', id: '+15557770001' }] })
  t.match((await mock.received({ messenger: 'whatsapp', recipient: '+15557770001' })).messages, [{ text: CONNECTED_TEXT, outcome: 'accepted' }])

  t.equal((await postWhatsApp(built, '15557770002', `hello, my code is ${links.whatsapp.code}`)).statusCode, 200)
  t.match((await mock.received({ messenger: 'whatsapp', recipient: '+15557770002' })).messages, [{ text: NOT_CONNECTED_TEXT }], 'used twice: a polite no')
  t.equal((await lera(alice)).whatsapp, '+15557770001')
  await postWhatsApp(built, '15557770003', 'just saying hi')
  t.equal((await mock.received({ messenger: 'whatsapp', recipient: '+15557770003' })).count, 0, 'a message without a code gets no answer')
})

t.test('a connection is sent to status webhooks as contact.connected, with the contact as GET shows it', async (t) => {
  const built = await setup(t)
  const { alice } = built
  const receiver = await startReceiver(t)
  const endpoint = (await alice('POST', '/v1/webhooks', { url: `${receiver.url}/hook`, events: ['contact.connected'] }, { expectStatus: 201 })).json()
  const links = await invite(alice)
  await telegramStart(built, 42, `/start ${links.telegram.token}`)
  const [request] = await receiver.until((requests) => requests.length > 0)
  const message = new Webhook(endpoint.secret as string).verify(request!.body, request!.headers as Record<string, string>) as { type: string, data: unknown }
  t.equal(message.type, 'contact.connected')
  t.same(message.data, { contact: await lera(alice), messenger: 'telegram', id: '42' })
})
