/**
 * The messengers' webhooks through the real app: WhatsApp's set-up
 * handshake; signatures over the raw body (missing or wrong: 401, nothing
 * changes); receipts in the vendors' documented shapes, several in one POST;
 * WhatsApp's inbound messages opening a window; Viber's 64-bit message
 * tokens kept exact; malformed bodies answered 400, never 5xx.
 */
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { whatsappWebhookBody } from '../../mock-messengers/whatsapp.js'
import { hmacHex } from '../../src/messengers/webhook-signature.js'
import { build, eventually, type Built } from '../helpers/app.js'

const APP_SECRET = 'mock-whatsapp-app-secret'
const VIBER_TOKEN = 'mock-viber-token'

const PHONE_NUMBER_ID = '100000000000001'

/** A WhatsApp status webhook, field by field as Meta documents it (the envelope is the mock's, which sends the same). */
function statuses (list: Array<{ id: string, status: string, at: number, recipient?: string, error?: { code: number, title: string, details: string } }>) {
  return JSON.parse(whatsappWebhookBody(PHONE_NUMBER_ID, {
    statuses: list.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(Math.floor(s.at / 1000)),
      recipient_id: s.recipient ?? '15551234567',
      ...(s.status !== 'failed' && {
        conversation: { id: 'b3b3d8f8c8d6c2e1', origin: { type: 'utility' } },
        pricing: { billable: true, pricing_model: 'CBP', category: 'utility' }
      }),
      ...(s.error !== undefined && { errors: [{ code: s.error.code, title: s.error.title, message: s.error.title, error_data: { details: s.error.details } }] })
    }))
  })) as unknown
}

function inboundMessage (from: string, at: number, text = 'hi') {
  return JSON.parse(whatsappWebhookBody(PHONE_NUMBER_ID, {
    contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: from }],
    messages: [{ from, id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: text } }]
  })) as unknown
}

async function postWhatsApp (app: FastifyInstance, body: unknown, signature?: string | null) {
  const raw = JSON.stringify(body)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== null) headers['x-hub-signature-256'] = signature ?? `sha256=${hmacHex(raw, APP_SECRET)}`
  return await app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers, payload: raw })
}

async function postViber (app: FastifyInstance, raw: string, signature?: string | null) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== null) headers['x-viber-content-signature'] = signature ?? hmacHex(raw, VIBER_TOKEN)
  return await app.inject({ method: 'POST', url: '/webhooks/viber', headers, payload: raw })
}

/** A user's delivery sent through the app to the mock (which accepts WhatsApp and, told so, Viber). */
async function sentDelivery (t: Test, built: Built, messenger: 'whatsapp' | 'viber', address: string) {
  const headers = { 'x-user-name': 'alice' }
  const res = await built.app.inject({ method: 'POST', url: '/v1/dispatches', headers, payload: { text: 'Hello', addresses: [{ messenger, address }] } })
  t.equal(res.statusCode, 202, res.body)
  const id = `${res.json().id as string}.00000`
  return await eventually(async () => {
    const delivery = (await built.app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers })).json()
    return delivery.state === 'sent' ? delivery : undefined
  }, `${messenger} delivery to be sent`)
}

const getDelivery = async (app: FastifyInstance, id: string) =>
  (await app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: { 'x-user-name': 'alice' } })).json()

t.test('WhatsApp set-up: the challenge is echoed for the right verify token only', async (t) => {
  const { app } = await build(t)
  const ok = await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=mock-whatsapp-verify-token&hub.challenge=1158201444' })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, '1158201444')
  const wrong = await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1' })
  t.equal(wrong.statusCode, 403)
  t.match(wrong.json(), { error: { code: 'FORBIDDEN', details: [{ field: 'query.hub.verify_token' }] } })
  // As many characters as the token, one byte more: refused as any wrong token, not a 500.
  const wide = await app.inject({ method: 'GET', url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${encodeURIComponent('mock-whatsapp-verify-toke\u00e9')}&hub.challenge=1` })
  t.equal(wide.statusCode, 403, wide.body)
  t.equal((await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=unsubscribe&hub.verify_token=mock-whatsapp-verify-token&hub.challenge=1' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=mock-whatsapp-verify-token' })).statusCode, 400)
})

t.test('WhatsApp receipts: several in one POST, applied by rank; a bad signature changes nothing', async (t) => {
  const built = await build(t)
  const { app } = built
  const first = await sentDelivery(t, built, 'whatsapp', '+15551234567')
  const second = await sentDelivery(t, built, 'whatsapp', '+15557654321')
  const now = Date.now()

  const forged = statuses([{ id: first.provider_message_id, status: 'read', at: now }])
  for (const signature of [null, 'sha256=' + '0'.repeat(64), `sha256=${hmacHex(JSON.stringify(forged), 'another-secret')}`, 'md5=abc', 'sha256=xyz']) {
    const res = await postWhatsApp(app, forged, signature)
    t.equal(res.statusCode, 401, `signature ${String(signature)}`)
    t.match(res.json(), { error: { code: 'INVALID_SIGNATURE', details: [{ field: 'x-hub-signature-256' }] } })
    t.notOk(res.headers['www-authenticate'], 'no API credentials are asked of a platform')
  }
  t.equal((await getDelivery(app, first.id)).state, 'sent', 'nothing changed')

  // Out of order, repeated, two messages in one POST.
  const res = await postWhatsApp(app, statuses([
    { id: first.provider_message_id, status: 'read', at: now + 3000 },
    { id: second.provider_message_id, status: 'failed', at: now + 1000, error: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' } },
    { id: first.provider_message_id, status: 'sent', at: now + 1000 },
    { id: first.provider_message_id, status: 'delivered', at: now + 2000 },
    { id: first.provider_message_id, status: 'delivered', at: now + 2000 }
  ]))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { receipts: 5, applied: 4, waiting: 0, inbound: 0 })
  t.match(await getDelivery(app, first.id), { state: 'read', receipts: [{ state: 'read' }, { state: 'sent' }, { state: 'delivered' }] })
  const failed = await getDelivery(app, second.id)
  t.match(failed, { state: 'failed', last_error: 'whatsapp 131026: Message undeliverable (Message Undeliverable.)', receipts: [{ state: 'failed', code: 131026 }] })
  const lookup = (await app.inject({ method: 'GET', url: '/v1/deliveries?state=failed', headers: { 'x-user-name': 'alice' } })).json()
  t.same(lookup.deliveries.map((d: { id: string }) => d.id), [second.id], 'in the failed lookup')
  const legacy = (await app.inject({ method: 'GET', url: '/api/get_failed_mess?user_name=alice' })).json()
  t.match(legacy, { total: 1, data: [{ delivery_id: second.id, error: /131026/ }] }, 'and in the legacy one')

  const unknown = await postWhatsApp(app, statuses([{ id: 'wamid.not-ours', status: 'delivered', at: now }]))
  t.same(unknown.json(), { receipts: 1, applied: 0, waiting: 1, inbound: 0 }, 'an id not ours is acknowledged')
})

t.test('WhatsApp inbound messages open the person\'s window; bodies the service cannot read get a 400', async (t) => {
  const { app } = await build(t)
  const res = await postWhatsApp(app, inboundMessage('15551234567', Date.now()))
  t.same(res.json(), { receipts: 0, applied: 0, waiting: 0, inbound: 1 })
  t.equal(await app.addressFacts.whatsappWindow('+15551234567'), 'open')
  await postWhatsApp(app, inboundMessage('15550001111', Date.now() - 25 * 3600_000))
  t.equal(await app.addressFacts.whatsappWindow('+15550001111'), 'closed', 'a message 25 hours old opened a window that has closed')
  t.equal(await app.addressFacts.whatsappWindow('+15559999999'), 'unknown')
  // An older message arriving late does not close a window a newer one opened.
  await postWhatsApp(app, inboundMessage('15551234567', Date.now() - 30 * 3600_000))
  t.equal(await app.addressFacts.whatsappWindow('+15551234567'), 'open')

  const raw = '{"object": "whatsapp_business_account", "entry": ['
  const bad = await app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmacHex(raw, APP_SECRET)}` }, payload: raw })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { error: { code: 'INVALID_JSON' } })
  const odd = await postWhatsApp(app, { object: 'page', entry: [{ changes: [{ field: 'feed', value: 1 }, { field: 'messages', value: { statuses: [{ id: 5 }, 'x'] } }] }] })
  t.equal(odd.statusCode, 200, 'shapes it does not use are skipped, not refused (the platform would retry them for days)')
})

t.test('Viber callbacks: 64-bit tokens exact, seen is read, failed keeps its reason; subscriptions noted', async (t) => {
  const built = await build(t)
  const { app, mock } = built
  await mock.behave('viber', { reject: false })
  const sent = await sentDelivery(t, built, 'viber', 'viber-user-1')
  const token = sent.provider_message_id as string
  t.match(token, /^\d{17,20}$/, 'as Viber gave it, unrounded')

  const delivered = `{"event":"delivered","timestamp":${Date.now()},"chat_hostname":"SN-CHAT-01_","message_token":${token},"user_id":"viber-user-1"}`
  t.equal((await postViber(app, delivered, 'ab'.repeat(32))).statusCode, 401, 'a wrong signature')
  t.equal((await postViber(app, delivered, null)).statusCode, 401, 'no signature')
  t.equal((await getDelivery(app, sent.id)).state, 'sent')
  t.same((await postViber(app, delivered)).json(), { receipts: 1, applied: 1, waiting: 0, inbound: 0 })
  const seen = `{"event":"seen","timestamp":${Date.now()},"chat_hostname":"SN-CHAT-01_","message_token":${token},"user_id":"viber-user-1"}`
  await postViber(app, seen)
  t.match(await getDelivery(app, sent.id), { state: 'read', receipts: [{ state: 'delivered' }, { state: 'read' }] })

  const another = await sentDelivery(t, built, 'viber', 'viber-user-2')
  await postViber(app, `{"event":"failed","timestamp":${Date.now()},"chat_hostname":"SN-CHAT-01_","message_token":${another.provider_message_id as string},"user_id":"viber-user-2","desc":"failure description"}`)
  t.match(await getDelivery(app, another.id), { state: 'failed', last_error: 'viber failed: failure description' })

  await postViber(app, `{"event":"unsubscribed","timestamp":${Date.now()},"chat_hostname":"SN-CHAT-01_","user_id":"viber-user-2","message_token":4912661846655238145}`)
  t.match(await app.addressFacts.viberSubscription('viber-user-2'), { unsubscribedAt: Number })
  t.equal((await postViber(app, `{"event":"webhook","timestamp":${Date.now()},"chat_hostname":"SN-CHAT-01_","message_token":4912661846655238145}`)).statusCode, 200,
    'Viber\'s check of the URL while set_webhook runs')
  t.equal((await postViber(app, '{"event": "delivered", ')).statusCode, 400)
})
