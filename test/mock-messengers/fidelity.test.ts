/**
 * What client libraries run into first, over real HTTP: Telegram's parameter
 * encodings (query string, form, JSON, multipart), method names in any case,
 * getMe, its own 404 and error bodies, and a 429's Retry-After header;
 * WhatsApp's `to` with or without its +; Viber's required sender name; and
 * the mock reached as an HTTP proxy for the real hosts.
 */
import t from 'tap'
import { request as httpRequest } from 'node:http'
import { MOCK_CREDENTIALS, startMock } from '../helpers/mock.js'

const TOKENS = MOCK_CREDENTIALS.tokens
const PHONE = MOCK_CREDENTIALS.whatsappPhoneNumberId

t.test('Telegram takes its parameters as a query string, a form, JSON or multipart, and method names in any case', async (t) => {
  const mock = await startMock(t)
  const bot = `${mock.url}/telegram/bot${TOKENS.telegram}`
  const answers = [
    await fetch(`${bot}/sendMessage?chat_id=123456789&text=by+query`),
    await fetch(`${bot}/sendMessage?chat_id=123456789&text=by+query+post`, { method: 'POST' }),
    await fetch(`${bot}/sendmessage`, { method: 'POST', body: new URLSearchParams({ chat_id: '123456789', text: 'by form' }) }),
    await fetch(`${bot}/SendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: 123456789, text: 'by json' }) }),
    await fetch(`${bot}/SENDMESSAGE`, { method: 'POST', body: (() => { const f = new FormData(); f.append('chat_id', '-1001234567890'); f.append('text', 'by multipart'); return f })() })
  ]
  for (const answer of answers) {
    t.equal(answer.status, 200)
    t.match(await answer.json(), { ok: true, result: { message_id: Number, chat: { id: Number }, text: /^by / } })
  }
  const got = await mock.received({ messenger: 'telegram' })
  t.same(got.messages.map((m) => `${m.recipient} ${m.text}`), [
    '123456789 by query',
    '123456789 by query post',
    '123456789 by form',
    '123456789 by json',
    '-1001234567890 by multipart'
  ])
})

t.test('Telegram getMe, and Telegram\'s own bodies for unknown methods and paths and for bad requests', async (t) => {
  const mock = await startMock(t)
  const bot = `${mock.url}/telegram/bot${TOKENS.telegram}`
  let res = await fetch(`${bot}/getMe`, { method: 'POST', headers: { 'content-type': 'application/json' } })
  t.equal(res.status, 200, 'an empty JSON body is no parameters')
  t.match(await res.json(), { ok: true, result: { id: Number, is_bot: true, first_name: String, username: /_bot$/ } })

  for (const url of [`${bot}/sendSticker`, `${bot}/`, `${mock.url}/telegram/nothing/here`, `${mock.url}/telegram`]) {
    res = await fetch(url, { method: 'POST' })
    t.equal(res.status, 404, url)
    t.same(await res.json(), { ok: false, error_code: 404, description: 'Not Found' })
  }
  res = await fetch(`${mock.url}/telegram/botwrong-token/getMe`)
  t.equal(res.status, 401)
  t.same(await res.json(), { ok: false, error_code: 401, description: 'Unauthorized' })

  res = await fetch(`${bot}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"chat_id": 1,' })
  t.equal(res.status, 400)
  t.match(await res.json(), { ok: false, error_code: 400, description: /^Bad Request: / })
})

t.test('Telegram\'s 429 carries parameters.retry_after and a Retry-After header', async (t) => {
  const mock = await startMock(t)
  await mock.behave('telegram', { ratePerSecond: 1 })
  const send = () => fetch(`${mock.url}/telegram/bot${TOKENS.telegram}/sendMessage`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: 123456789, text: 'hi' })
  })
  t.equal((await send()).status, 200)
  const res = await send()
  t.equal(res.status, 429)
  const body = await res.json() as { parameters: { retry_after: number } }
  t.match(body, { ok: false, error_code: 429, description: /^Too Many Requests: retry after \d+$/, parameters: { retry_after: Number } })
  t.equal(res.headers.get('retry-after'), String(body.parameters.retry_after))
})

t.test('WhatsApp takes `to` with or without its +: contacts echo the input, wa_id is digits', async (t) => {
  const mock = await startMock(t)
  for (const to of ['+15551234567', '15551234567']) {
    const res = await fetch(`${mock.url}/whatsapp/v21.0/${PHONE}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.whatsapp}` },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: 'hi' } })
    })
    t.equal(res.status, 200, to)
    t.match(await res.json(), { contacts: [{ input: to, wa_id: '15551234567' }], messages: [{ id: /^wamid\./ }] })
  }
})

t.test('Viber: sender.name is required (4 missingData), at most 28 characters; min_api_version is optional', async (t) => {
  const mock = await startMock(t, { behaviour: { viber: { reject: false } } })
  const send = async (payload: Record<string, unknown>) => {
    const res = await fetch(`${mock.url}/viber/pa/send_message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-viber-auth-token': TOKENS.viber },
      body: JSON.stringify({ receiver: 'jc9HsWTZ2Yf2NkRZ8KcNug==', type: 'text', text: 'hi', ...payload })
    })
    return await res.json()
  }
  t.match(await send({}), { status: 4, status_message: 'missingData' }, 'no sender')
  t.match(await send({ sender: { avatar: 'x' } }), { status: 4, status_message: 'missingData' }, 'a sender without a name')
  t.match(await send({ sender: { name: 'x'.repeat(29) } }), { status: 3, status_message: 'badData' }, 'a name over 28 characters')
  t.match(await send({ sender: { name: 'Fanout' }, min_api_version: 'one' }), { status: 3, status_message: 'badData' })
  t.match(await send({ sender: { name: 'Fanout' } }), { status: 0, status_message: 'ok' }, 'no min_api_version is fine')
})

t.test('a client with a fixed base URL reaches the mock as its HTTP proxy', async (t) => {
  const mock = await startMock(t)
  // What a proxy-aware client sends: the absolute URL of the real API, to the proxy.
  const viaProxy = (url: string, body: string, headers: Record<string, string>) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: mock.port, method: 'POST', path: url, headers: { host: new URL(url).host, 'content-type': 'application/json', ...headers } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
  let res = await viaProxy(`https://api.telegram.org/bot${TOKENS.telegram}/sendMessage`, JSON.stringify({ chat_id: 123456789, text: 'proxied' }), {})
  t.equal(res.status, 200)
  t.match(JSON.parse(res.body), { ok: true, result: { text: 'proxied' } })
  res = await viaProxy('https://chatapi.viber.com/pa/send_message', JSON.stringify({ receiver: 'jc9HsWTZ2Yf2NkRZ8KcNug==', sender: { name: 'F' }, type: 'text', text: 'proxied' }), { 'x-viber-auth-token': TOKENS.viber })
  t.match(JSON.parse(res.body), { status: 6 }, 'Viber, as the mock\'s /viber (failing by default)')
  res = await viaProxy(`https://graph.facebook.com/v21.0/${PHONE}/messages`, JSON.stringify({ messaging_product: 'whatsapp', to: '+15551234567', type: 'text', text: { body: 'proxied' } }), { authorization: `Bearer ${TOKENS.whatsapp}` })
  t.equal(res.status, 200)
  res = await viaProxy('https://elsewhere.example/x', '{}', {})
  t.equal(res.status, 404, 'any other host is nothing the mock answers for')
  t.same((await mock.received()).messages.map((m) => `${m.messenger} ${m.text}`), ['telegram proxied', 'viber proxied', 'whatsapp proxied'])
})
