/**
 * The messengers' sending rules in the adapters, against small real HTTP
 * servers that answer as the real APIs do and keep what they were sent:
 * WhatsApp's 24-hour window (text inside it, the template outside it or for
 * people never heard from, nothing at all when it is closed and there is no
 * template) and Telegram's supergroup migration (the same text once more, to
 * the new id).
 */
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SendOutcome } from '../../src/messengers/adapter.js'
import { createTelegramAdapter } from '../../src/messengers/telegram.js'
import { createWhatsAppAdapter, WINDOW_CLOSED } from '../../src/messengers/whatsapp.js'

interface Received { path: string, body: Record<string, unknown> }

/** A server answering each request with `answer(body)`; `received` is what it got. */
async function apiServer (t: Test, answer: (body: Record<string, unknown>) => [number, unknown]): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => { text += chunk.toString() })
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>
      received.push({ path: req.url ?? '', body })
      const [status, json] = answer(body)
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

const TEMPLATE = { name: 'appointment_reminder', language: 'en_US', parameters: ['Ann', 'Tuesday'] }

t.test('WhatsApp: the window decides between the text and the template', async (t) => {
  const api = await apiServer(t, (body) => [200, { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: '15551234567' }], messages: [{ id: `wamid.${api.received.length}` }] }])
  const adapter = createWhatsAppAdapter({ baseUrl: api.url, token: 'EAAGtesttoken', phoneNumberId: '1', apiVersion: 'v21.0', connections: 2, timeoutMs: 2000 })
  t.teardown(() => adapter.close())
  const send = async (window: 'open' | 'closed' | 'unknown', template?: typeof TEMPLATE): Promise<SendOutcome> =>
    await adapter.send({ address: '+15551234567', text: 'Your table is ready', idempotencyKey: 'k', whatsapp: { window, ...(template !== undefined && { template }) } })

  t.match(await send('open', TEMPLATE), { result: 'accepted' }, 'inside the window: the text, even with a template')
  t.notOk((await send('open', TEMPLATE) as { sentAs?: string }).sentAs)
  t.match(api.received[0]?.body, { type: 'text', text: { body: 'Your table is ready' } })

  const outside = await send('closed', TEMPLATE)
  t.match(outside, { result: 'accepted', sentAs: 'template' }, 'outside it: the template')
  t.same(api.received[2]?.body, {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: '+15551234567',
    type: 'template',
    template: { name: 'appointment_reminder', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ann' }, { type: 'text', text: 'Tuesday' }] }] }
  }, 'in the Cloud API\'s template shape')
  t.match(await send('unknown', TEMPLATE), { result: 'accepted', sentAs: 'template' }, 'never heard from: the template')
  t.match(await send('unknown'), { result: 'accepted' }, 'never heard from, no template: the text (its receipt decides)')
  t.equal(api.received[4]?.body.type, 'text')

  const before = api.received.length
  t.same(await send('closed'), { result: 'permanent', error: WINDOW_CLOSED }, 'closed and no template: refused here')
  t.equal(api.received.length, before, 'nothing was sent for it')
  t.match(WINDOW_CLOSED, /^WHATSAPP_WINDOW_CLOSED: /)
})

t.test('WhatsApp: an unknown template is a permanent failure, with WhatsApp\'s reason', async (t) => {
  const api = await apiServer(t, () => [404, {
    error: { message: '(#132001) Template name does not exist in the translation', type: 'OAuthException', code: 132001, error_data: { messaging_product: 'whatsapp', details: 'template name (nope) does not exist in en_US' }, fbtrace_id: 'A' }
  }])
  const adapter = createWhatsAppAdapter({ baseUrl: api.url, token: 'EAAGtesttoken', phoneNumberId: '1', apiVersion: 'v21.0', connections: 2, timeoutMs: 2000 })
  t.teardown(() => adapter.close())
  t.same(await adapter.send({ address: '+15551234567', text: 'x', idempotencyKey: 'k', whatsapp: { window: 'closed', template: { name: 'nope', language: 'en_US' } } }),
    { result: 'permanent', error: 'whatsapp 132001: (#132001) Template name does not exist in the translation' })
})

t.test('Telegram: a group that became a supergroup gets the text once more, at its new id', async (t) => {
  const api = await apiServer(t, (body) => body.chat_id === -100555
    ? [200, { ok: true, result: { message_id: 7, date: 1, chat: { id: -100555, type: 'supergroup' }, text: body.text } }]
    : body.chat_id === -200666
      ? [400, { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -200777 } }]
      : body.chat_id === -200777
        ? [400, { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -200888 } }]
        : [400, { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -100555 } }])
  const adapter = createTelegramAdapter({ baseUrl: api.url, token: '123:abc', connections: 2, timeoutMs: 2000 })
  t.teardown(() => adapter.close())
  t.same(await adapter.send({ address: '-4001', text: 'Standup', idempotencyKey: 'k' }), { result: 'accepted', providerMessageId: '7', address: '-100555' })
  t.same(api.received.map((r) => [r.body.chat_id, r.body.text]), [[-4001, 'Standup'], [-100555, 'Standup']], 'the same text, to the new id')
  t.match(await adapter.send({ address: '-200666', text: 'Again', idempotencyKey: 'k2' }), { result: 'permanent', error: /moved again/ }, 'once only')
  t.equal(api.received.length, 4)
})
