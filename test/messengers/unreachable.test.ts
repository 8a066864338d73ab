/**
 * Which failures say the address itself is dead (docs/messengers.md): the
 * classifiers put `unreachable: { code, reason }` on those permanent
 * outcomes, and on no other outcome.
 */
import t from 'tap'
import { classifyTelegram } from '../../src/messengers/telegram.js'
import { classifyViber } from '../../src/messengers/viber.js'
import { classifyWhatsApp, whatsappUnreachable } from '../../src/messengers/whatsapp.js'

const json = (value: unknown) => JSON.stringify(value)
const telegram = (code: number, description: string) => classifyTelegram(code, json({ ok: false, error_code: code, description }))
const whatsapp = (status: number, code: number) => classifyWhatsApp(status, json({ error: { message: `(#${code}) x`, type: 'OAuthException', code, fbtrace_id: 'A' } }))
const viber = (status: number, message: string) => classifyViber(200, json({ status, status_message: message, chat_hostname: 'SN-CHAT-01_' }))

t.test('Telegram: every 403 and 400 chat not found; not other 400s, 401, 429 or 5xx', async (t) => {
  t.match(telegram(403, 'Forbidden: bot was blocked by the user'), { result: 'permanent', unreachable: { code: 403, reason: 'blocked' } })
  t.match(telegram(403, 'Forbidden: bot can\'t initiate conversation with a user'), { result: 'permanent', unreachable: { code: 403, reason: 'not_started' } })
  t.match(telegram(403, 'Forbidden: user is deactivated'), { result: 'permanent', unreachable: { code: 403, reason: 'forbidden' } })
  t.match(telegram(400, 'Bad Request: chat not found'), { result: 'permanent', unreachable: { code: 400, reason: 'chat_not_found' } })
  for (const [code, description] of [[400, 'Bad Request: message is too long'], [401, 'Unauthorized'], [404, 'Not Found'], [429, 'Too Many Requests: retry after 3'], [502, 'Bad Gateway']] as const) {
    t.notOk('unreachable' in telegram(code, description), `${code} ${description}: the address is not to blame`)
  }
})

t.test('WhatsApp: 131026, whatever the HTTP status; not the other permanent codes', async (t) => {
  for (const status of [400, 403, 500]) {
    t.match(whatsapp(status, 131026), { result: 'permanent', unreachable: { code: 131026, reason: 'not_on_whatsapp' } }, `HTTP ${status}`)
  }
  for (const code of [0, 190, 100, 131008, 131047, 131051, 368, 130429]) t.notOk('unreachable' in whatsapp(400, code), `code ${code}`)
  t.same(whatsappUnreachable(131026), { code: 131026, reason: 'not_on_whatsapp' }, 'the same judgement for a failed status webhook')
  t.same(whatsappUnreachable('131026'), { code: 131026, reason: 'not_on_whatsapp' }, 'a code given as text')
  t.equal(whatsappUnreachable(131047), undefined)
  t.equal(whatsappUnreachable(undefined), undefined)
})

t.test('Viber: status 5 and 6; not the other statuses', async (t) => {
  t.match(viber(5, 'receiverNotRegistered'), { result: 'permanent', unreachable: { code: 5, reason: 'not_registered' } })
  t.match(viber(6, 'receiverNotSubscribed'), { result: 'permanent', unreachable: { code: 6, reason: 'not_subscribed' } })
  for (const status of [1, 2, 3, 4, 7, 10, 11, 12, 999]) t.notOk('unreachable' in viber(status, `error ${status}`), `status ${status}`)
})
