/**
 * viber-bot, Viber's own Node SDK, against the mock, both ways: its sends
 * reach the mock, and the mock's callbacks reach its webhook middleware,
 * which checks every signature with the bot's token before it emits events.
 *
 * viber-bot has no option for its API's address (lib/viber-bot.js fixes
 * https://chatapi.viber.com/pa). Its HTTP client, needle, takes a proxy
 * (needle.defaults({ proxy })) and sends an https URL to a plain-HTTP proxy in
 * absolute form, which the mock answers as its own /viber/...: the package is
 * used as it is, not a file of it touched.
 */
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import viber, { type Bot } from 'viber-bot'
import { MOCK_CREDENTIALS, startMock, type TestMock } from '../helpers/mock.js'

const TOKEN = MOCK_CREDENTIALS.tokens.viber
const USER = 'jc9HsWTZ2Yf2NkRZ8KcNug=='

/** The needle viber-bot itself loads (resolved from viber-bot's own folder). */
const needle = createRequire(createRequire(import.meta.url).resolve('viber-bot'))('needle') as { defaults: (options: { proxy: string | null }) => unknown }

function newBot (token = TOKEN): Bot {
  return new viber.Bot({ authToken: token, name: 'Fanout', avatar: 'https://avatars.example/fanout.jpg' })
}

/** viber-bot's webhook middleware listening on a free loopback port; its URL. */
async function serveWebhook (t: Test, bot: Bot): Promise<string> {
  const server = createServer(bot.middleware())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

/** The mock as viber-bot's proxy, for this test. */
async function mockAsProxy (t: Test): Promise<TestMock> {
  const mock = await startMock(t, { profile: 'realistic', receiptRetry: { retries: 1, minTimeoutMs: 20, timeoutMs: 1000 } })
  needle.defaults({ proxy: mock.url })
  t.teardown(() => { needle.defaults({ proxy: null }) })
  return mock
}

/** Resolves with the arguments of the next `event` the bot emits. */
const next = (bot: Bot, event: string) => new Promise<unknown[]>((resolve) => bot.once(event, (...args: unknown[]) => resolve(args)))

t.test('viber-bot sets its webhook (the mock calls it, signed), sends to a subscriber and hears the receipts', async (t) => {
  const mock = await mockAsProxy(t)
  const bot = newBot()
  const webhook = await serveWebhook(t, bot)

  const early = await bot.sendMessage({ id: USER }, new viber.Message.Text('too early')).then(() => undefined, (e: unknown) => e)
  t.match(early, { status: 10, status_message: 'webhookNotSet' }, 'no send before set_webhook')

  const checked = next(bot, 'webhook')
  t.match(await bot.setWebhook(webhook), { status: 0, status_message: 'ok' })
  t.match((await checked)[0], { event: 'webhook', chat_hostname: /^SN-/ }, 'the check reached the bot: its middleware took the signature')

  const subscribed = next(bot, viber.Events.SUBSCRIBED!)
  await mock.control('/_mock/viber/subscribe', { id: USER, name: 'Lera' })
  const [response] = await subscribed as [{ userProfile: { id: string, name?: string } }]
  t.equal(response.userProfile.id, USER, 'onSubscribe: the user who subscribed')
  t.equal(response.userProfile.name, undefined, 'no name: viber-bot\'s set_webhook does not ask for send_name')

  const delivered = next(bot, 'delivered')
  const seen = next(bot, 'seen')
  const tokens = await bot.sendMessage({ id: USER }, new viber.Message.Text('Hello from viber-bot'))
  t.equal(tokens.length, 1, 'sendMessage resolves with the message token')
  t.match((await mock.received({ messenger: 'viber', outcome: 'accepted' })).messages, [{ recipient: USER, text: 'Hello from viber-bot' }])
  const [receipt] = await delivered as [{ event: string, message_token: string, user_id: string }]
  t.match(receipt, { event: 'delivered', user_id: USER })
  // viber-bot parses callbacks with json-bigint (every digit kept); its send answer goes through JSON.parse, which rounds.
  const raw = await (await fetch(`${mock.url}/_mock/receipts?messenger=viber`)).text()
  t.match(raw, new RegExp(`"event":"delivered".*"message_token":${receipt.message_token}[,}]`), 'the token in the callback, every digit of it')
  t.match((await seen)[0], { event: 'seen', message_token: receipt.message_token })
  t.match(await bot.getBotProfile(), { status: 0, webhook, subscribers_count: 1 })
})

t.test('viber-bot hears what users do: a text message, and sees Viber\'s errors', async (t) => {
  const mock = await mockAsProxy(t)
  const bot = newBot()
  await bot.setWebhook(await serveWebhook(t, bot))

  const text = new Promise<{ text: string, from: string }>((resolve) => bot.onTextMessage(/hello/, (message, response) => resolve({ text: message.text, from: response.userProfile.id })))
  await mock.control('/_mock/viber/inbound', { id: USER, text: 'hello bot', name: 'Ann' })
  t.same(await text, { text: 'hello bot', from: USER }, 'onTextMessage')

  const unsubscribed = next(bot, viber.Events.UNSUBSCRIBED!)
  await mock.control('/_mock/viber/unsubscribe', { id: USER })
  t.same(await unsubscribed, [USER], 'onUnsubscribe: the user id')
  for (const [receiver, status, message] of [[USER, 6, 'receiverNotSubscribed'], ['+15551234567', 999, 'Bad receiver ID']] as const) {
    const err = await bot.sendMessage({ id: receiver }, new viber.Message.Text('hi')).then(() => undefined, (e: unknown) => e)
    t.match(err, { status, status_message: message }, `${receiver}: ${status}`)
  }
})

t.test('a webhook whose bot has another token refuses the mock\'s callbacks: set_webhook fails', async (t) => {
  await mockAsProxy(t)
  const stranger = newBot('a-different-token')
  const bot = newBot()
  // The stranger's middleware computes the signature with its own token, finds it wrong, and never answers.
  t.match(await bot.setWebhook(await serveWebhook(t, stranger)).then(() => undefined, (e: unknown) => e), { status: 1, status_message: 'invalidUrl' })
})
