/**
 * /v1/webhooks through the real app: endpoints kept per user (secrets shown
 * once), bad input answered naming the field, other users' endpoints
 * invisible, test events signed as the reference `standardwebhooks` package
 * verifies them (both secrets during a rotation), attempts listed and sent
 * again, and the forbidden targets refused with nothing sent.
 */
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { client } from '../helpers/api.js'
import { build } from '../helpers/app.js'
import { startReceiver, type ReceivedRequest } from '../helpers/receiver.js'
import { allowedAddress } from '../../src/webhooks/safe-agent.js'

type Json = Record<string, any>

const headersOf = (r: ReceivedRequest) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature'])
})

t.test('endpoints: the secret shown once, listed, changed, removed; bad input names the field; another user sees 404', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  const bob = client(app, { user: 'bob' })

  const created = await alice('POST', '/v1/webhooks', { url: 'https://example.com/hooks', events: ['delivery.sent', 'delivery.failed'] }, { expectStatus: 201 })
  const endpoint = created.json()
  t.match(endpoint, { id: /^ep_[0-9a-f]{16}$/, url: 'https://example.com/hooks', events: ['delivery.sent', 'delivery.failed'], enabled: true, secret: /^whsec_/ })
  const listed = (await alice('GET', '/v1/webhooks', undefined, { expectStatus: 200 })).json() as Json
  t.equal(listed.endpoints.length, 1)
  t.notOk('secret' in listed.endpoints[0], 'the secret is never shown again')
  t.notOk((await alice('GET', `/v1/webhooks/${endpoint.id as string}`)).body.includes(endpoint.secret), 'nor by id')

  const patched = (await alice('PATCH', `/v1/webhooks/${endpoint.id as string}`, { enabled: false, events: ['dispatch.finished'] }, { expectStatus: 200 })).json()
  t.match(patched, { enabled: false, events: ['dispatch.finished'] })

  for (const [body, field] of [
    [{ url: 'ftp://example.com/x', events: ['delivery.sent'] }, 'url'],
    [{ url: 'not a url', events: ['delivery.sent'] }, 'url'],
    [{ url: 'https://example.com', events: [] }, 'events'],
    [{ url: 'https://example.com', events: ['delivery.lost'] }, 'events'],
    [{ url: 'https://example.com', events: ['delivery.sent'], secret: 'mine' }, 'body'],
    [{ events: ['delivery.sent'] }, 'url']
  ] as const) {
    const res = await alice('POST', '/v1/webhooks', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.match(res.json(), { error: { details: [{ field: new RegExp(field) }] } }, `names ${field}`)
  }
  t.equal((await alice('PATCH', `/v1/webhooks/${endpoint.id as string}`, {})).statusCode, 400, 'a PATCH that changes nothing')
  t.equal((await alice('GET', '/v1/webhooks/nope')).statusCode, 400, 'an id of the wrong form')
  t.equal((await alice('GET', '/v1/webhooks/ep_0000000000000000')).statusCode, 404, 'an unknown id')

  for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/rotate'], ['POST', '/test'], ['GET', '/attempts']] as const) {
    const res = await bob(method, `/v1/webhooks/${endpoint.id as string}${path}`, method === 'PATCH' ? { enabled: true } : undefined)
    t.equal(res.statusCode, 404, `${method} ${path}: another user's endpoint is unknown`)
    t.equal(res.json().error.code, 'NOT_FOUND')
  }
  t.same((await bob('GET', '/v1/webhooks')).json(), { endpoints: [] })

  await alice('DELETE', `/v1/webhooks/${endpoint.id as string}`, undefined, { expectStatus: 204 })
  t.equal((await alice('GET', `/v1/webhooks/${endpoint.id as string}`)).statusCode, 404, 'gone')
})

t.test('a test event arrives signed; after a rotation both secrets sign; attempts are listed and one is sent again', async (t) => {
  const { app } = await build(t)
  const receiver = await startReceiver(t)
  const alice = client(app, { user: 'alice' })
  const endpoint = (await alice('POST', '/v1/webhooks', { url: `${receiver.url}/in`, events: ['delivery.sent'] }, { expectStatus: 201 })).json()
  const id = endpoint.id as string

  const test = (await alice('POST', `/v1/webhooks/${id}/test`, undefined, { expectStatus: 202 })).json()
  const [first] = await receiver.until((r) => r.length === 1, 5000, 'the test event')
  t.equal(first!.headers['webhook-id'], test.message_id)
  t.match(new Webhook(endpoint.secret).verify(first!.body, headersOf(first!)), { type: 'webhook.test', data: { endpoint_id: id } }, 'verified by the reference package')

  const rotated = (await alice('POST', `/v1/webhooks/${id}/rotate`, undefined, { expectStatus: 201 })).json()
  t.not(rotated.secret, endpoint.secret)
  await alice('POST', `/v1/webhooks/${id}/test`, undefined, { expectStatus: 202 })
  const [, second] = await receiver.until((r) => r.length === 2, 5000, 'the second test event')
  t.equal(String(second!.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the overlap')
  t.ok(new Webhook(rotated.secret).verify(second!.body, headersOf(second!)), 'the new secret verifies')
  t.ok(new Webhook(endpoint.secret).verify(second!.body, headersOf(second!)), 'and so does the old one')

  receiver.answer(503)
  await alice('POST', `/v1/webhooks/${id}/test`, undefined, { expectStatus: 202 })
  await receiver.until((r) => r.length === 3, 5000, 'the third test event')
  let attempts: Json[] = []
  for (let tries = 0; tries < 100 && attempts.length < 3; tries++) {
    attempts = (await alice('GET', `/v1/webhooks/${id}/attempts`, undefined, { expectStatus: 200 })).json().attempts
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.match(attempts[0], { type: 'webhook.test', ok: false, status: 503, error: /answered 503/, attempt: 1 }, 'newest first, with its status and error')
  t.match(attempts[1], { ok: true, status: 200 })
  t.ok(attempts.every((a) => typeof a.duration_ms === 'number' && !Number.isNaN(Date.parse(a.at))))

  receiver.answer(200)
  const failed = attempts[0]!
  const again = (await alice('POST', `/v1/webhooks/${id}/attempts/${failed.id as string}/retry`, undefined, { expectStatus: 202 })).json()
  t.equal(again.message_id, failed.message_id)
  const requests = await receiver.until((r) => r.length === 4, 5000, 'the retry')
  t.equal(requests[3]!.headers['webhook-id'], failed.message_id, 'the same webhook-id')
  t.equal(requests[3]!.body, requests[2]!.body, 'and the same body')
  t.equal((await alice('POST', `/v1/webhooks/${id}/attempts/01ARZ3NDEKTSV4RRFFQ69G5FAV/retry`)).statusCode, 404, 'an unknown attempt')
})

/** Targets that must never be reached from the service: each with what the refusal names. */
const FORBIDDEN = [
  { host: '127.0.0.1', range: 'loopback' },
  { host: '[::1]', range: 'loopback' },
  { host: '10.0.0.1', range: 'private' },
  { host: '172.16.0.1', range: 'private' },
  { host: '192.168.1.1', range: 'private' },
  { host: '169.254.169.254', range: 'linkLocal' },
  { host: '[fd00::1]', range: 'uniqueLocal' },
  { host: '[::ffff:127.0.0.1]', range: 'loopback' }
]

t.test('forbidden targets are refused with a clear error, and nothing is sent', async (t) => {
  const { app } = await build(t, { env: { WEBHOOK_ALLOW_PRIVATE: 'false' } })
  const receiver = await startReceiver(t)
  const port = new URL(receiver.url).port
  const alice = client(app, { user: 'alice' })

  for (const { host, range } of FORBIDDEN) {
    const res = await alice('POST', '/v1/webhooks', { url: `http://${host}:${port}/in`, events: ['delivery.sent'] })
    t.equal(res.statusCode, 422, `${host} refused when the endpoint is made`)
    t.match(res.json(), { error: { code: 'WEBHOOK_FORBIDDEN_ADDRESS', details: [{ field: 'url', message: new RegExp(range) }] } })
    // And at connect time, should a literal ever get that far (the check the sender makes).
    await t.rejects(allowedAddress(host, false), { code: 'WEBHOOK_FORBIDDEN_ADDRESS', message: new RegExp(range) }, `${host} refused at connect time`)
  }
  await t.rejects(allowedAddress('localhost', false), { code: 'WEBHOOK_FORBIDDEN_ADDRESS', message: /localhost resolves to .* \(loopback\)/ })
  t.resolves(allowedAddress('8.8.8.8', false), 'a public address is allowed')

  // A name that resolves to loopback is taken when made, and refused at each send: the attempt says why.
  const endpoint = (await alice('POST', '/v1/webhooks', { url: `http://localhost:${port}/in`, events: ['delivery.sent'] }, { expectStatus: 201 })).json()
  await alice('POST', `/v1/webhooks/${endpoint.id as string}/test`, undefined, { expectStatus: 202 })
  let attempts: Json[] = []
  for (let tries = 0; tries < 200 && attempts.length === 0; tries++) {
    attempts = (await alice('GET', `/v1/webhooks/${endpoint.id as string}/attempts`)).json().attempts
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.match(attempts, [{ ok: false, error: /localhost resolves to .*loopback.*nothing was sent/ }])
  t.notOk(attempts[0]!.status, 'no answer: no request was made')
  t.equal(receiver.requests.length, 0, 'nothing reached the listening receiver')
})
