/**
 * The three adapters over real HTTP: against the real mock messengers, against
 * a closed port, and against small real servers that answer garbage.
 */
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import type { MessengerAdapter, SendOutcome } from '../../src/messengers/adapter.js'
import { createTelegramAdapter } from '../../src/messengers/telegram.js'
import { createViberAdapter } from '../../src/messengers/viber.js'
import { createWhatsAppAdapter } from '../../src/messengers/whatsapp.js'
import type { Messenger } from '../../src/model/messenger.js'
import { MOCK_CREDENTIALS, startMock, type TestMock } from '../helpers/mock.js'

const TOKENS = MOCK_CREDENTIALS.tokens
const PHONE_NUMBER_ID = MOCK_CREDENTIALS.whatsappPhoneNumberId
const API_VERSION = 'v21.0'
const SENDER_NAME = 'Fanout'

const ADDRESSES: Record<Messenger, string> = {
  telegram: '123456789',
  whatsapp: '+15551234567',
  viber: 'jc9HsWTZ2Yf2NkRZ8KcNug=='
}

interface AdapterSetup {
  token?: string
  timeoutMs?: number
}

function telegram (t: Test, baseUrl: string, setup: AdapterSetup = {}): MessengerAdapter {
  const adapter = createTelegramAdapter({ baseUrl, token: setup.token ?? TOKENS.telegram, connections: 4, timeoutMs: setup.timeoutMs ?? 2000 })
  t.teardown(() => adapter.close())
  return adapter
}

function whatsapp (t: Test, baseUrl: string, setup: AdapterSetup = {}): MessengerAdapter {
  const adapter = createWhatsAppAdapter({
    baseUrl, token: setup.token ?? TOKENS.whatsapp, phoneNumberId: PHONE_NUMBER_ID, apiVersion: API_VERSION, connections: 4, timeoutMs: setup.timeoutMs ?? 2000
  })
  t.teardown(() => adapter.close())
  return adapter
}

function viber (t: Test, baseUrl: string, setup: AdapterSetup = {}): MessengerAdapter {
  const adapter = createViberAdapter({ baseUrl, token: setup.token ?? TOKENS.viber, senderName: SENDER_NAME, connections: 4, timeoutMs: setup.timeoutMs ?? 2000 })
  t.teardown(() => adapter.close())
  return adapter
}

const FACTORIES: Record<Messenger, (t: Test, baseUrl: string, setup?: AdapterSetup) => MessengerAdapter> = { telegram, whatsapp, viber }

/** The adapter of `messenger` pointed at its path on the mock. */
function atMock (t: Test, mock: TestMock, messenger: Messenger, setup: AdapterSetup = {}): MessengerAdapter {
  return FACTORIES[messenger](t, `${mock.url}/${messenger}`, setup)
}

let keys = 0
function key (): string {
  keys += 1
  return `01JTESTDISPATCH${String(keys).padStart(6, '0')}.${keys}`
}

function noToken (t: Test, outcome: SendOutcome, token: string, what: string) {
  if (outcome.result !== 'accepted') t.notOk(outcome.error.includes(token), `${what}: the token is not in the error (${outcome.error})`)
}

/** A free port on 127.0.0.1 that nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A real HTTP server on 127.0.0.1 that answers whatever `answer` says; it records the paths it was asked. */
async function garbageServer (t: Test, answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string, paths: string[] }> {
  const paths: string[] = []
  const server = createServer((req, res) => {
    paths.push(req.url ?? '')
    req.resume()
    req.on('end', () => answer(req, res))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, paths }
}

interface Garbage {
  name: string
  status: number
  contentType: string
  body: string
}

const GARBAGE: Garbage[] = [
  { name: 'invalid JSON', status: 200, contentType: 'application/json', body: '{"ok":true,"result":{"message_id":' },
  { name: 'an empty body', status: 200, contentType: 'application/json', body: '' },
  { name: 'a JSON array', status: 200, contentType: 'application/json', body: '[1,2,3]' },
  { name: 'a JSON object of the wrong shape', status: 200, contentType: 'application/json', body: '{"hello":"world"}' },
  { name: 'an HTML page as 200', status: 200, contentType: 'text/html', body: '<!DOCTYPE html><html><head><title>Welcome</title></head><body>It works!</body></html>' },
  {
    name: 'a proxy\'s HTML error page',
    status: 502,
    contentType: 'text/html',
    body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>'
  }
]

t.test('Telegram sends to a numeric chat id and to a username', async (t) => {
  const mock = await startMock(t)
  const adapter = telegram(t, `${mock.url}/telegram`)
  t.equal(adapter.messenger, 'telegram')

  for (const address of ['123456789', '-1001234567890', '@ArtemZaitsev']) {
    const idempotencyKey = key()
    const outcome = await adapter.send({ address, text: `Hello ${address}`, idempotencyKey })
    t.match(outcome, { result: 'accepted', providerMessageId: /^\d+$/ }, `${address} is accepted`)
    const got = await mock.received({ messenger: 'telegram', recipient: address })
    t.equal(got.count, 1, `the mock got one message for ${address}`)
    t.match(got.messages[0], { messenger: 'telegram', recipient: address, text: `Hello ${address}`, idempotencyKey, outcome: 'accepted' })
  }
  const all = await mock.received({ messenger: 'telegram' })
  t.equal(new Set(all.messages.map((m) => m.idempotencyKey)).size, 3, 'each send carries its own key')
})

t.test('WhatsApp sends to an E.164 number', async (t) => {
  const mock = await startMock(t)
  const adapter = whatsapp(t, `${mock.url}/whatsapp`)
  t.equal(adapter.messenger, 'whatsapp')
  const idempotencyKey = key()
  const outcome = await adapter.send({ address: '+15551234567', text: 'Hello WhatsApp', idempotencyKey })
  t.match(outcome, { result: 'accepted', providerMessageId: /^wamid\.\S+$/ })
  const got = await mock.received({ messenger: 'whatsapp' })
  t.equal(got.count, 1)
  t.match(got.messages[0], { messenger: 'whatsapp', recipient: '+15551234567', text: 'Hello WhatsApp', idempotencyKey, outcome: 'accepted' })
  t.equal(adapter.displayUrl, `${mock.url}/whatsapp/${API_VERSION}/${PHONE_NUMBER_ID}/messages`)
  t.notOk(adapter.displayUrl.includes(TOKENS.whatsapp), 'the display url has no token')
})

t.test('Viber: by default a permanent error answered as HTTP 200; accepted once the mock accepts', async (t) => {
  const mock = await startMock(t)
  const adapter = viber(t, `${mock.url}/viber`)
  t.equal(adapter.messenger, 'viber')
  t.equal(adapter.displayUrl, `${mock.url}/viber/pa/send_message`)

  const failing = await adapter.send({ address: ADDRESSES.viber, text: 'Hello Viber', idempotencyKey: key() })
  t.match(failing, { result: 'permanent', error: /6/ }, 'the mock\'s default: status 6 with HTTP 200')
  const rejected = await mock.received({ messenger: 'viber' })
  t.equal(rejected.count, 1)
  t.not(rejected.messages[0]?.outcome, 'accepted')

  await mock.behave('viber', { reject: false })
  const idempotencyKey = key()
  const outcome = await adapter.send({ address: ADDRESSES.viber, text: 'Hello again', idempotencyKey })
  t.equal(outcome.result, 'accepted')
  if (outcome.result === 'accepted') {
    t.match(outcome.providerMessageId, /^\d{17,}$/, 'the message token, every digit of it')
    t.ok(BigInt(outcome.providerMessageId) > 2n ** 53n, 'beyond what a JS number would carry')
  }
  const accepted = await mock.received({ messenger: 'viber', outcome: 'accepted' })
  t.equal(accepted.count, 1)
  t.match(accepted.messages[0], { recipient: ADDRESSES.viber, text: 'Hello again', idempotencyKey })
})

t.test('a wrong token is a permanent error on every messenger', async (t) => {
  const mock = await startMock(t, { behaviour: { viber: { reject: false } } })
  for (const messenger of ['telegram', 'whatsapp', 'viber'] as const) {
    const wrong = `wrong-${messenger}-token`
    const adapter = atMock(t, mock, messenger, { token: wrong })
    const outcome = await adapter.send({ address: ADDRESSES[messenger], text: 'hi', idempotencyKey: key() })
    t.equal(outcome.result, 'permanent', `${messenger}: permanent`)
    if (messenger === 'telegram') {
      t.match(outcome, { error: /401/ })
      noToken(t, outcome, wrong, 'telegram wrong token')
    }
    if (messenger === 'whatsapp') t.match(outcome, { error: /190/ })
    if (messenger === 'viber') t.match(outcome, { error: /2/ })
  }
  t.equal((await mock.received({ outcome: 'accepted' })).count, 0, 'nothing was accepted')
})

t.test('one transient failure, then a delivery', async (t) => {
  const mock = await startMock(t, { behaviour: { viber: { reject: false } } })
  for (const messenger of ['telegram', 'whatsapp', 'viber'] as const) {
    const adapter = atMock(t, mock, messenger)
    await mock.behave(messenger, { failNext: 1 })
    const idempotencyKey = key()
    const first = await adapter.send({ address: ADDRESSES[messenger], text: 'retry me', idempotencyKey })
    t.equal(first.result, 'retryable', `${messenger}: the 503 is retryable`)
    if (messenger === 'telegram') noToken(t, first, TOKENS.telegram, 'telegram 503')
    const second = await adapter.send({ address: ADDRESSES[messenger], text: 'retry me', idempotencyKey })
    t.equal(second.result, 'accepted', `${messenger}: the next try is accepted`)
    const got = await mock.received({ messenger })
    t.same(got.messages.map((m) => m.outcome), ['HTTP 503', 'accepted'])
    t.same(got.repeats, { [idempotencyKey]: 2 }, 'the retry carries the same key')
  }
})

t.test('an answer slower than timeoutMs is a retryable timeout', async (t) => {
  const mock = await startMock(t, { behaviour: { viber: { reject: false } } })
  for (const messenger of ['telegram', 'whatsapp', 'viber'] as const) {
    await mock.behave(messenger, { latencyMs: [600, 600] })
    const adapter = atMock(t, mock, messenger, { timeoutMs: 200 })
    const outcome = await adapter.send({ address: ADDRESSES[messenger], text: 'slow', idempotencyKey: key() })
    // The answer would have come (an accepted send) had the adapter waited for it.
    t.match(outcome, { result: 'retryable', error: /time/i }, `${messenger}: a timeout, not the answer`)
    if (messenger === 'telegram') noToken(t, outcome, TOKENS.telegram, 'telegram timeout')
  }
})

t.test('a refused connection is retryable', async (t) => {
  const port = await closedPort()
  for (const messenger of ['telegram', 'whatsapp', 'viber'] as const) {
    const adapter = FACTORIES[messenger](t, `http://127.0.0.1:${port}/${messenger}`)
    const outcome = await adapter.send({ address: ADDRESSES[messenger], text: 'anyone?', idempotencyKey: key() })
    t.match(outcome, { result: 'retryable', error: /ECONNREFUSED|refused|network/i }, `${messenger}: retryable`)
    if (messenger === 'telegram') noToken(t, outcome, TOKENS.telegram, 'telegram refused')
  }
})

t.test('garbage answers are retryable', async (t) => {
  let current: Garbage = GARBAGE[0]!
  const server = await garbageServer(t, (_req, res) => {
    res.writeHead(current.status, { 'content-type': current.contentType })
    res.end(current.body)
  })
  const adapters = {
    telegram: telegram(t, `${server.url}/telegram`),
    whatsapp: whatsapp(t, `${server.url}/whatsapp`),
    viber: viber(t, `${server.url}/viber`)
  }
  for (const garbage of GARBAGE) {
    current = garbage
    for (const messenger of ['telegram', 'whatsapp', 'viber'] as const) {
      const outcome = await adapters[messenger].send({ address: ADDRESSES[messenger], text: 'hi', idempotencyKey: key() })
      t.equal(outcome.result, 'retryable', `${messenger}: ${garbage.name} (HTTP ${garbage.status})`)
      if (messenger === 'telegram') noToken(t, outcome, TOKENS.telegram, `telegram ${garbage.name}`)
    }
  }
  t.same(server.paths.slice(0, 3), [
    `/telegram/bot${TOKENS.telegram}/sendMessage`,
    `/whatsapp/${API_VERSION}/${PHONE_NUMBER_ID}/messages`,
    '/viber/pa/send_message'
  ], 'each adapter asked its messenger\'s path')
})

t.test('Telegram keeps its token out of displayUrl and out of every error', async (t) => {
  const mock = await startMock(t)
  const secret = '123456789:AAEsecretTOKENvalue_xyz-0123456789ab'

  const adapter = telegram(t, `${mock.url}/telegram`, { token: secret })
  t.equal(adapter.displayUrl, `${mock.url}/telegram/bot<token>/sendMessage`)
  t.notOk(adapter.displayUrl.includes(secret), 'displayUrl has no token')
  const right = telegram(t, `${mock.url}/telegram`)
  t.notOk(right.displayUrl.includes(TOKENS.telegram), 'displayUrl has no token')

  // An answer that echoes the request path, as web servers' 404 pages do: here
  // a base URL missing its /telegram, so the mock's own router answers the 404.
  const misrouted = telegram(t, mock.url, { token: secret })
  const outcome = await misrouted.send({ address: '123456789', text: 'hi', idempotencyKey: key() })
  t.equal(outcome.result, 'retryable', 'a 404 page is an unreadable answer')
  noToken(t, outcome, secret, 'a 404 page echoing the path')

  // The same from a plain server whose error page names the path.
  const echo = await garbageServer(t, (req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' })
    res.end(`<pre>Cannot POST ${req.url}</pre>`)
  })
  const echoed = telegram(t, echo.url, { token: secret })
  const outcome2 = await echoed.send({ address: '@ArtemZaitsev', text: 'hi', idempotencyKey: key() })
  t.equal(outcome2.result, 'retryable')
  noToken(t, outcome2, secret, 'an HTML page echoing the path')
  t.ok(echo.paths[0]?.includes(secret), 'the token did travel in the path, as the Bot API wants')

  // A 503 that echoes the path too.
  const echo503 = await garbageServer(t, (req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' })
    res.end(`upstream unavailable for ${req.url}`)
  })
  const outcome3 = await telegram(t, echo503.url, { token: secret }).send({ address: '123456789', text: 'hi', idempotencyKey: key() })
  t.equal(outcome3.result, 'retryable')
  noToken(t, outcome3, secret, 'a 503 echoing the path')
})
