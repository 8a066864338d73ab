/**
 * Invite links end to end, against the mock's realistic profile (Telegram
 * sends only to people who started the bot, Viber only to subscribers,
 * WhatsApp free text only inside the 24-hour window): the service listens on
 * a real port and registers its Telegram and Viber webhooks with the mock at
 * start; a contact created with a name only gets a link per messenger; the
 * mock plays the person opening each (over HTTP, signed or with the secret
 * token, as the platforms do); then one dispatch reaches all three.
 */
import t from 'tap'
import { CONNECTED_TEXT, NOT_CONNECTED_TEXT } from '../../src/invites/invite-texts.js'
import { client, dispatch, listAll, settled, type ApiDelivery } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { freePort } from '../helpers/processes.js'

const VIBER_ID = 'LeraViber0000000000000=='
const CHAT_ID = 5550001
const NUMBER = '+15557770001'

t.test('a contact with a name only, connected on all three messengers by its invite links, then reached on all three', async (t) => {
  const port = await freePort()
  const service = `http://127.0.0.1:${port}`
  const mock = await startMock(t, { profile: 'realistic', receiptsUrl: service })
  const { app } = await build(t, {
    mock,
    env: {
      TELEGRAM_BOT_USERNAME: 'fanout_mock_bot',
      VIBER_CHAT_URI: 'fanoutmock',
      WHATSAPP_BUSINESS_NUMBER: '+15550001111',
      TELEGRAM_WEBHOOK_URL: `${service}/webhooks/telegram`,
      TELEGRAM_WEBHOOK_SECRET: 'e2e-telegram-secret',
      VIBER_WEBHOOK_URL: `${service}/webhooks/viber`
    }
  })
  await app.listen({ host: '127.0.0.1', port })
  const alice = client(app, { user: 'alice' })
  const post = async (path: string) => await fetch(`${mock.url}${path}`, { method: 'POST', headers: { 'x-viber-auth-token': 'mock-viber-token' } }).then(async (r) => await r.json() as Record<string, any>)
  await eventually(async () => (await post('/telegram/botmock-telegram-token/getWebhookInfo')).result.url === `${service}/webhooks/telegram` &&
    (await post('/viber/pa/get_account_info')).webhook === `${service}/webhooks/viber`, 'both webhooks to be registered at start')

  await alice('POST', '/v1/contacts', { name: 'Lera' }, { expectStatus: 201 })
  const { links, unavailable } = (await alice('POST', '/v1/contacts/Lera/invites', undefined, { expectStatus: 201 })).json()
  t.same(unavailable, [], 'a link for every messenger')

  // Telegram: the person opens t.me/fanout_mock_bot?start=<token>; their app sends /start <token>.
  const started = await mock.control('/_mock/telegram/start', { chat_id: CHAT_ID, payload: new URL(links.telegram.url as string).searchParams.get('start') })
  t.match(started.webhook, { url: `${service}/webhooks/telegram`, status: 200, answer: { method: 'sendMessage', chat_id: CHAT_ID, text: CONNECTED_TEXT } })
  t.match((await mock.received({ messenger: 'telegram', recipient: String(CHAT_ID) })).messages, [{ text: CONNECTED_TEXT }], 'and Telegram showed the person the answer')
  const updates = (await (await fetch(`${mock.url}/_mock/telegram/updates`)).json()) as { updates: Array<{ update: { message: { text: string } } }> }
  t.equal(updates.updates[0]!.update.message.text, `/start ${links.telegram.token as string}`)

  // Viber: viber://pa?chatURI=fanoutmock&context=<token>, then subscribe.
  await mock.control('/_mock/viber/subscribe', { id: VIBER_ID, context: new URL(links.viber.url as string).searchParams.get('context') })
  // WhatsApp: wa.me/15550001111?text=invite%3A<token>: the person sends the prefilled text.
  await mock.control('/_mock/whatsapp/inbound', { from: NUMBER, text: new URL(links.whatsapp.url as string).searchParams.get('text') })

  const contact = await eventually(async () => {
    const shown = (await alice('GET', '/v1/contacts/Lera')).json()
    return shown.connections?.length === 3 ? shown : undefined
  }, 'all three connections')
  t.match(contact, { name: 'Lera', telegram: String(CHAT_ID), viber: VIBER_ID, whatsapp: NUMBER })
  t.same(contact.connections.map((c: { messenger: string }) => c.messenger).sort(), ['telegram', 'viber', 'whatsapp'])
  await eventually(async () => (await mock.received({ messenger: 'viber', recipient: VIBER_ID })).count > 0 &&
    (await mock.received({ messenger: 'whatsapp', recipient: NUMBER })).count > 0, 'the connected texts')
  t.match((await mock.received({ messenger: 'viber', recipient: VIBER_ID })).messages, [{ text: CONNECTED_TEXT, outcome: 'accepted' }])
  t.match((await mock.received({ messenger: 'whatsapp', recipient: NUMBER })).messages, [{ text: CONNECTED_TEXT, outcome: 'accepted' }])

  const sent = await dispatch(alice, { text: 'Hello Lera', contacts: ['Lera'] })
  t.equal(sent.deliveries, 3)
  await settled(alice, sent.id, 30_000)
  const deliveries = await eventually(async () => {
    const all = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${sent.id}`, 'deliveries', 10)
    // Viber's and WhatsApp's receipts follow the acceptance.
    return all.every((d) => d.messenger === 'telegram' ? d.state === 'sent' : ['delivered', 'read'].includes(d.state)) ? all : undefined
  }, 'every delivery to be accepted, and delivered where receipts exist', 30_000)
  t.same(deliveries.map((d) => `${d.messenger} ${d.address}`).sort(), [`telegram ${CHAT_ID}`, `viber ${VIBER_ID}`, `whatsapp ${NUMBER}`])

  // The link again (someone forwarded it): a polite no, and Lera keeps her chat.
  const again = await mock.control('/_mock/telegram/start', { chat_id: 5550002, payload: links.telegram.token })
  t.match(again.webhook, { status: 200, answer: { text: NOT_CONNECTED_TEXT } })
  t.equal((await alice('GET', '/v1/contacts/Lera')).json().telegram, String(CHAT_ID))
})
