/**
 * `GET /metrics`: Prometheus text for the administrator only, whose figures
 * follow what the service did: requests by route pattern, sends by messenger
 * and outcome, deliveries by state, queue depths and breaker states.
 */
import t from 'tap'
import { client, settled } from '../helpers/api.js'
import { ADMIN_KEY, AUTH_ENV, build, eventually } from '../helpers/app.js'
import { ADMIN, basic, bearer, createUser } from '../helpers/auth.js'

/** The samples of a Prometheus text answer, keyed by `name{labels}` as printed. */
function samples (text: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    found.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return found
}

t.test('the administrator reads figures that follow what the service did', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  const as = bearer(alice.key)
  t.equal((await app.inject({ method: 'POST', url: '/v1/contacts', headers: as, payload: { name: 'Ann', telegram: '1001', viber: 'ann-viber' } })).statusCode, 201)
  const accepted = await app.inject({ method: 'POST', url: '/v1/dispatches', headers: as, payload: { text: 'hello', contacts: ['Ann'] } })
  t.equal(accepted.statusCode, 202)
  const id = accepted.json().id as string
  await settled(client(app, { headers: as }), id)
  t.equal((await app.inject({ method: 'GET', url: `/v1/dispatches/${id}`, headers: as })).statusCode, 200)
  // A send job leaves BullMQ's `active` just after its delivery's record is final: wait for that too.
  await eventually(async () => (await Promise.all(Object.values(app.sendQueues).map(async (queue) => await queue.getActiveCount()))).every((n) => n === 0),
    'the send jobs to complete')

  const res = await app.inject({ method: 'GET', url: '/metrics', headers: ADMIN })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const got = samples(res.body)

  t.equal(got.get('fanout_http_requests_total{method="POST",route="/v1/dispatches",status_code="202"}'), 1, 'the accepted send')
  t.ok((got.get('fanout_http_requests_total{method="GET",route="/v1/dispatches/:id",status_code="200"}') ?? 0) >= 2,
    'reads of one dispatch are counted under the route pattern, not one series per id')
  t.notOk([...got.keys()].some((name) => name.includes(id)), 'no id in any label')
  t.equal(got.get('fanout_http_request_duration_seconds_count{method="POST",route="/v1/dispatches"}'), 1)

  t.equal(got.get('fanout_sends_total{messenger="telegram",outcome="accepted"}'), 1, 'the Telegram delivery was accepted once')
  const viberSends = [...got].filter(([name]) => name.startsWith('fanout_sends_total{messenger="viber"')).reduce((sum, [, n]) => sum + n, 0)
  t.ok(viberSends >= 1, `the mock's Viber failed every send (${viberSends})`)
  t.notOk(got.has('fanout_sends_total{messenger="viber",outcome="accepted"}'), 'and never accepted')
  t.equal(got.get('fanout_unreachable_sends_total{messenger="viber",reason="not_subscribed"}'), viberSends, 'each with status 6: the address is dead')
  t.equal(got.get('fanout_send_duration_seconds_count{messenger="telegram"}'), 1)

  t.equal(got.get('fanout_deliveries{state="sent"}'), 1, 'deliveries held, by state')
  t.equal(got.get('fanout_deliveries{state="failed"}'), 1)
  t.equal(got.get('fanout_deliveries{state="queued"}'), 0)
  for (const queue of ['telegram', 'whatsapp', 'viber']) {
    t.equal(got.get(`fanout_queue_jobs{queue="${queue}",state="waiting"}`), 0, `${queue}: nothing waiting`)
    t.equal(got.get(`fanout_queue_jobs{queue="${queue}",state="active"}`), 0, `${queue}: nothing active`)
  }
  for (const messenger of ['telegram', 'whatsapp', 'viber']) t.ok(got.has(`fanout_circuit_state{messenger="${messenger}"}`), `${messenger}: breaker state`)
  t.equal(got.get('fanout_circuit_state{messenger="telegram"}'), 0, 'Telegram\'s breaker is closed')
  t.ok((got.get('fanout_process_resident_memory_bytes') ?? 0) > 0, 'process figures')
  // Sample values are left out: a figure such as a byte count may hold the
  // digits 1001 by chance (it did in CI); a user's data could only leak
  // through names, labels or help text.
  const withoutValues = res.body.split('\n').map((line) => line.startsWith('#') ? line : line.slice(0, line.lastIndexOf(' '))).join('\n')
  for (const data of ['hello', '1001', 'ann-viber', 'Ann']) t.notOk(withoutValues.includes(data), `no "${data}" (a user's text, address or name) in any name, label or help`)

  const viaBasic = await app.inject({ method: 'GET', url: '/metrics', headers: basic('admin', ADMIN_KEY) })
  t.equal(viaBasic.statusCode, 200, 'Basic admin:<administrator key> works as a browser or scraper sends it')
})

t.test('only the administrator: no key 401, a user key 403, the admin key under another name 401; also with AUTH=off', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  const none = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /^Basic realm=/)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: bearer(alice.key) })).statusCode, 403)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: basic('alice', ADMIN_KEY) })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { ...basic('admin', ADMIN_KEY), 'sec-fetch-site': 'cross-site' } })).statusCode, 403,
    'browser-saved credentials sent for another site\'s page are refused')
  t.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { ...basic('admin', ADMIN_KEY), 'sec-fetch-site': 'same-origin' } })).statusCode, 200)

  const open = await build(t, { env: { ADMIN_API_KEY: ADMIN_KEY } })
  t.equal((await open.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401, 'AUTH=off still needs the administrator key here')
})

t.test('each app counts only its own requests (a registry per app, not a global one)', async (t) => {
  const first = await build(t, { env: AUTH_ENV })
  const second = await build(t, { env: AUTH_ENV, prefix: first.prefix, mock: first.mock })
  for (let i = 0; i < 3; i++) await first.app.inject({ method: 'GET', url: '/health' })
  const count = async (app: typeof first.app) => samples((await app.inject({ method: 'GET', url: '/metrics', headers: ADMIN })).body)
    .get('fanout_http_requests_total{method="GET",route="/health",status_code="200"}')
  t.equal(await count(first.app), 3)
  t.equal(await count(second.app), undefined, 'the other app answered no /health')
})
