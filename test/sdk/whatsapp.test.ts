/**
 * @kapso/whatsapp-cloud-api, a maintained WhatsApp Cloud API client nobody
 * here wrote, pointed at the mock by its own `baseUrl` option: a text, a
 * template, an unknown template as its GraphApiError (132001), a wrong token;
 * and the mock's status webhooks checked by its server half: verifySignature
 * (X-Hub-Signature-256 with the app secret) and normalizeWebhook.
 */
import t from 'tap'
import { GraphApiError, WhatsAppClient } from '@kapso/whatsapp-cloud-api'
import { normalizeWebhook, verifySignature } from '@kapso/whatsapp-cloud-api/server'
import { MOCK_CREDENTIALS, startMock, type TestMock } from '../helpers/mock.js'
import { startReceiver } from '../helpers/receiver.js'

const PHONE = MOCK_CREDENTIALS.whatsappPhoneNumberId
const APP_SECRET = 'sdk-test-app-secret'

const client = (mock: TestMock, accessToken = MOCK_CREDENTIALS.tokens.whatsapp) =>
  new WhatsAppClient({ accessToken, baseUrl: `${mock.url}/whatsapp`, graphVersion: 'v21.0' })

t.test('a text and a template through the SDK; their statuses verified and read by the SDK\'s webhook half', async (t) => {
  const receiver = await startReceiver(t)
  const mock = await startMock(t, { receiptsUrl: receiver.url, whatsappAppSecret: APP_SECRET, behaviour: { whatsapp: { receipts: { delayMs: [0, 20] } } } })
  const wa = client(mock)

  const text = await wa.messages.sendText({ phoneNumberId: PHONE, to: '+15551234567', body: 'Hello from the SDK' })
  t.match(text, { messagingProduct: 'whatsapp', contacts: [{ input: '+15551234567', waId: '15551234567' }], messages: [{ id: /^wamid\./ }] })
  const template = await wa.messages.sendTemplate({ phoneNumberId: PHONE, to: '15557654321', template: { name: 'hello_world', language: { code: 'en_US' } } })
  t.match(template, { contacts: [{ input: '15557654321', waId: '15557654321' }], messages: [{ id: /^wamid\./ }] })
  t.same((await mock.received({ messenger: 'whatsapp' })).messages.map((m) => `${m.type} ${m.text} ${m.outcome}`),
    ['text Hello from the SDK accepted', 'template hello_world accepted'])

  const ids = [text.messages[0]!.id, template.messages[0]!.id]
  const posts = await receiver.until((rs) => rs.flatMap((r) => normalizeWebhook(JSON.parse(r.body)).statuses).length >= 6, 10_000, 'six statuses')
  const statuses = []
  for (const post of posts) {
    t.ok(verifySignature({ appSecret: APP_SECRET, rawBody: post.raw, signatureHeader: String(post.headers['x-hub-signature-256']) }), 'verifySignature takes it')
    t.notOk(verifySignature({ appSecret: 'not-the-secret', rawBody: post.raw, signatureHeader: String(post.headers['x-hub-signature-256']) }), 'and no other secret')
    const events = normalizeWebhook(JSON.parse(post.body))
    t.equal(events.phoneNumberId, PHONE)
    statuses.push(...events.statuses)
  }
  for (const id of ids) {
    t.same(statuses.filter((s) => s.id === id).map((s) => s.status).sort(), ['delivered', 'read', 'sent'], `sent, delivered and read for ${id}`)
  }
  t.match(statuses.find((s) => s.id === ids[1] && s.status === 'sent'), { recipientId: '15557654321', pricing: { category: 'utility' } })
})

t.test('WhatsApp\'s errors through the SDK: an unknown template (132001), a wrong token (190)', async (t) => {
  const mock = await startMock(t)
  let err = await client(mock).messages.sendTemplate({ phoneNumberId: PHONE, to: '+15551234567', template: { name: 'no_such_template', language: { code: 'en_US' } } })
    .then(() => undefined, (e: unknown) => e)
  t.type(err, GraphApiError, 'the SDK\'s GraphApiError')
  const template = err as GraphApiError
  t.equal(template.httpStatus, 404)
  t.equal(template.code, 132001)
  t.equal(template.message, '(#132001) Template name does not exist in the translation')
  t.equal(template.details, 'template name (no_such_template) does not exist in en_US')
  t.ok(template.isTemplateError(), 'which the SDK knows for a template error')
  t.match(template.fbtraceId, /\w/)

  err = await client(mock, 'wrong-token').messages.sendText({ phoneNumberId: PHONE, to: '+15551234567', body: 'hi' }).then(() => undefined, (e: unknown) => e)
  t.type(err, GraphApiError)
  t.equal((err as GraphApiError).code, 190)
  t.ok((err as GraphApiError).isAuthError())
})

t.test('realistic profile through the SDK: text outside the window is accepted, its failure comes by webhook', async (t) => {
  const receiver = await startReceiver(t)
  const mock = await startMock(t, { profile: 'realistic', receiptsUrl: receiver.url, whatsappAppSecret: APP_SECRET, behaviour: { whatsapp: { receipts: { delayMs: [0, 5] } } } })
  const sent = await client(mock).messages.sendText({ phoneNumberId: PHONE, to: '+15551230000', body: 'Out of the blue' })
  const posts = await receiver.until((rs) => rs.length >= 1)
  const [failed] = normalizeWebhook(JSON.parse(posts[0]!.body)).statuses
  t.match(failed, { id: sent.messages[0]!.id, status: 'failed', errors: [{ code: 131047, title: 'Re-engagement message' }] })
})
