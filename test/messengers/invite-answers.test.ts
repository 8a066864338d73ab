/**
 * Reading the people's answers to invite links, without the app: Telegram's
 * /start updates and WhatsApp's invite codes; and setWebhook against the
 * real mock (refused with a wrong token, never echoing it; a bad URL).
 */
import t from 'tap'
import { inviteLink, missingSetting, tokenInText, whatsappCode } from '../../src/invites/invite-links.js'
import { readTelegramUpdate } from '../../src/messengers/telegram-webhook.js'
import { setTelegramWebhook } from '../../src/messengers/telegram.js'
import { startMock } from '../helpers/mock.js'

const message = (text: unknown, chat: unknown = { id: 42, type: 'private' }) => ({ update_id: 1, message: { message_id: 1, chat, date: 1, text } })

t.test('Telegram updates: /start with and without a payload; anything else is no start', async (t) => {
  t.same(readTelegramUpdate(message('/start abc_DEF-123')), { kind: 'start', chatId: '42', payload: 'abc_DEF-123' })
  t.same(readTelegramUpdate(message('/start@fanout_bot abc')), { kind: 'start', chatId: '42', payload: 'abc' }, 'as groups write it')
  t.same(readTelegramUpdate(message('/start')), { kind: 'start', chatId: '42' })
  for (const other of [message('hello'), message('/starting x'), message('/start a b'), message(5), message('/start x', { id: 'x' }), message('/start x', { id: 2 ** 60 }),
    { update_id: 1, edited_message: {} }, null, 'text', { message: { text: '/start x' } }]) {
    t.same(readTelegramUpdate(other), { kind: 'other' }, JSON.stringify(other))
  }
})

t.test('WhatsApp codes: invite:<token> anywhere in the text, as a word', async (t) => {
  const token = 'A'.repeat(32)
  t.equal(tokenInText(whatsappCode(token)), token)
  t.equal(tokenInText(`hi! my code: ${whatsappCode(token)} thanks`), token)
  for (const text of [undefined, '', 'hello', `xinvite:${token}`, 'invite:', 'invite: abc']) t.equal(tokenInText(text), undefined, String(text))
  t.equal(inviteLink('whatsapp', token, { whatsappNumber: '+15550001111' }), `https://wa.me/15550001111?text=invite%3A${token}`)
  t.equal(inviteLink('viber', token, { viberChatUri: 'my.bot' }), `viber://pa?chatURI=my.bot&context=${token}`)
  t.equal(missingSetting('viber', { viberChatUri: 'x' }), undefined)
})

t.test('setWebhook: registered with the mock, or why not (never with the token)', async (t) => {
  const mock = await startMock(t)
  const base = `${mock.url}/telegram`
  t.equal(await setTelegramWebhook({ baseUrl: base, token: 'mock-telegram-token', timeoutMs: 2000 }, 'https://fanout.example/webhooks/telegram', 's3cret'), undefined)
  const info = await (await fetch(`${base}/botmock-telegram-token/getWebhookInfo`)).json() as { result: { url: string } }
  t.equal(info.result.url, 'https://fanout.example/webhooks/telegram')
  t.equal(await setTelegramWebhook({ baseUrl: base, token: 'wrong-token', timeoutMs: 2000 }, 'https://fanout.example/x', 's'), 'telegram setWebhook: HTTP 401 Unauthorized')
  t.match(await setTelegramWebhook({ baseUrl: base, token: 'mock-telegram-token', timeoutMs: 2000 }, 'not a url', 's'), /HTTP 400 Bad Request: bad webhook/)
  t.match(await setTelegramWebhook({ baseUrl: base, token: 'mock-telegram-token', timeoutMs: 2000 }, 'https://x.example', 'bad secret'), /secret token/)
  const down = await setTelegramWebhook({ baseUrl: 'http://127.0.0.1:1', token: 'mock-telegram-token', timeoutMs: 500 }, 'https://x.example', 's')
  t.match(down, /^telegram setWebhook: /)
  t.notMatch(down, /mock-telegram-token/)
  const deleted = await (await fetch(`${base}/botmock-telegram-token/deleteWebhook`, { method: 'POST' })).json() as { ok: boolean }
  t.equal(deleted.ok, true)
  t.match(await (await fetch(`${base}/botmock-telegram-token/setWebhook?url=`)).json(), { ok: true, description: 'Webhook was deleted' })
  // No webhook: a /start is noted, and goes nowhere.
  t.notOk((await mock.control('/_mock/telegram/start', { chat_id: 1, payload: 'x' })).webhook)
})
