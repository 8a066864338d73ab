/**
 * grammy, a maintained Telegram bot framework nobody here wrote, pointed at
 * the mock by its own `client.apiRoot` option: getMe, a send, and Telegram's
 * errors as grammy reads them (GrammyError with error_code, description and
 * parameters.retry_after).
 */
import t, { type Test } from 'tap'
import { Api, Bot, GrammyError } from 'grammy'
import { MOCK_CREDENTIALS, startMock, type TestMock } from '../helpers/mock.js'

const TOKEN = MOCK_CREDENTIALS.tokens.telegram

const api = (mock: TestMock, token = TOKEN) => new Api(token, { apiRoot: `${mock.url}/telegram` })

/** The GrammyError a call rejects with. */
async function grammyError (t: Test, call: Promise<unknown>): Promise<GrammyError> {
  const err = await call.then(() => undefined, (e: unknown) => e)
  t.type(err, GrammyError, 'grammy\'s own error type')
  return err as GrammyError
}

t.test('getMe and sendMessage through grammy', async (t) => {
  const mock = await startMock(t)
  const me = await api(mock).getMe()
  t.match(me, { id: Number, is_bot: true, first_name: String, username: String })

  const bot = new Bot(TOKEN, { client: { apiRoot: `${mock.url}/telegram` } })
  await bot.init()
  t.equal(bot.botInfo.username, me.username, 'Bot.init() asks getMe')

  const sent = await bot.api.sendMessage(123456789, 'Hello from grammy', { disable_notification: true })
  t.match(sent, { message_id: Number, date: Number, chat: { id: 123456789, type: 'private' }, text: 'Hello from grammy' })
  const channel = await bot.api.sendMessage('@fanout_news', 'To a channel')
  t.match(channel, { chat: { type: 'channel', username: 'fanout_news' } })
  const got = await mock.received({ messenger: 'telegram' })
  t.same(got.messages.map((m) => `${m.recipient} ${m.text} ${m.outcome}`), ['123456789 Hello from grammy accepted', '@fanout_news To a channel accepted'])
})

t.test('Telegram\'s errors through grammy: 403 not started (realistic), 400 chat not found, 401, 429 with retry_after', async (t) => {
  const mock = await startMock(t, { profile: 'realistic' })
  let err = await grammyError(t, api(mock).sendMessage(123456789, 'hi'))
  t.equal(err.error_code, 403)
  t.equal(err.description, 'Forbidden: bot can\'t initiate conversation with a user')
  t.equal(err.method, 'sendMessage')

  await mock.control('/_mock/telegram/start', { chat_id: 123456789 })
  t.match(await api(mock).sendMessage(123456789, 'hi'), { message_id: Number }, 'once started, it goes')

  err = await grammyError(t, api(mock).sendMessage('no chat here!', 'hi'))
  t.equal(err.error_code, 400)
  t.equal(err.description, 'Bad Request: chat not found')

  err = await grammyError(t, api(mock, '123:wrong').getMe())
  t.equal(err.error_code, 401)
  t.equal(err.description, 'Unauthorized')

  await mock.behave('telegram', { ratePerSecond: 1 })
  await api(mock).sendMessage(123456789, 'one')
  err = await grammyError(t, api(mock).sendMessage(123456789, 'two'))
  t.equal(err.error_code, 429)
  t.match(err.description, /^Too Many Requests: retry after \d+$/)
  t.match(err.parameters, { retry_after: Number }, 'parameters.retry_after, as grammy exposes it')
  t.ok((err.parameters.retry_after ?? 0) >= 1)
})
