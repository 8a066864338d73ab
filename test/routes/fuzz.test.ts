/**
 * Property-based fuzz (fast-check) of every documented route, over real HTTP
 * to a listening service: random and half-valid JSON bodies, broken JSON,
 * odd content types, random query strings (repeated keys, empty values,
 * numbers, Unicode) and path parameters, with a valid key. The property: no
 * answer is a 5xx, every error is our JSON error shape, and the service keeps
 * serving (/health after each route, and a normal request at the end).
 */
import t from 'tap'
import fc from 'fast-check'
import { request } from 'undici'
import { AUTH_ENV, ADMIN_KEY, build } from '../helpers/app.js'
import { createUser, issueKey } from '../helpers/auth.js'

type Json = Record<string, any>

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 150)

/** Query parameter names the routes know, so the fuzz reaches their checks and not only "unknown field". */
const QUERY_KEYS = ['limit', 'cursor', 'state', 'dispatch', 'contact', 'messenger', 'from', 'to', 'before', 'tags_any', 'tags_all', 'user_name']
/** Body field names the routes know, for the same reason. */
const BODY_KEYS = ['name', 'telegram', 'whatsapp', 'viber', 'tags', 'timezone', 'text', 'contacts', 'contact', 'addresses', 'messengers',
  'send_at', 'expires_at', 'all_contacts', 'label', 'user_name', 'message', 'time', 'messangers', 'limit']

const scalar = fc.oneof(
  fc.string(), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('', ' ', 'telegram', 'viber', 'failed', '+15551234567', '2030-01-01T00:00:00Z', '-1', '1e309', '\u0000', '../..', '%00')
)
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 5 }), fc.dictionary(fc.constantFrom(...BODY_KEYS), scalar, { maxKeys: 3 }))
/** A body: random JSON, an object of known fields with random values, or text that is not JSON at all. */
const body = fc.oneof(
  fc.jsonValue().map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
  fc.dictionary(fc.oneof(fc.constantFrom(...BODY_KEYS), fc.string()), value, { maxKeys: 6 }).map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
  fc.string().map((raw) => ({ raw, type: 'application/json' })),
  fc.tuple(fc.string(), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''))
    .map(([raw, type]) => ({ raw, type })),
  fc.constant(undefined)
)
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string()), fc.oneof(scalar.map(String), fc.string())), { maxLength: 5 })
  .map((pairs) => new URLSearchParams(pairs).toString())

t.test(`fuzz: ${RUNS_PER_ROUTE} random requests per route, no 5xx, always our error shape, always serving`, async (t) => {
  const { app } = await build(t, { env: { ...AUTH_ENV, RATE_LIMIT_MAX: '0' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const user = await createUser(app, 'fuzzer')
  const spare = await issueKey(app, user.key, 'spare')
  const asUser = { authorization: `Bearer ${user.key}` }
  await app.inject({ method: 'POST', url: '/v1/contacts', headers: asUser, payload: { name: 'Artem', telegram: '123456', viber: 'artem-viber', tags: ['team'] } })
  const accepted = await app.inject({ method: 'POST', url: '/v1/dispatches', headers: asUser, payload: { text: 'seed', contacts: ['Artem'] } })
  const dispatchId = accepted.json().id as string

  // Path parameters: the real ids (so routes get past "not found"), and anything at all.
  const param = fc.oneof(
    fc.constantFrom('Artem', dispatchId, `${dispatchId}.00000`, spare.id, 'fuzzer', '0123456789abcdef'),
    fc.string({ minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }), fc.constantFrom('..', '%2F', ' ', 'x'.repeat(3000))
  ).map((p) => encodeURIComponent(p))

  const documented = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const routes = Object.entries(documented.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })))
  t.ok(routes.length >= 30, `${routes.length} routes to fuzz`)

  let sent = 0
  const statuses = new Map<number, number>()
  for (const route of routes) {
    const auth = route.path.startsWith('/v1/admin/') || route.path === '/metrics' ? { authorization: `Bearer ${ADMIN_KEY}` } : asUser
    const params = (route.path.match(/\{[^}]+\}/g) ?? []).length
    await fc.assert(fc.asyncProperty(fc.array(param, { minLength: params, maxLength: params }), query, body, fc.option(fc.string({ maxLength: 300 })),
      async (values, search, payload, idempotencyKey) => {
        let i = 0
        const path = route.path.replace(/\{[^}]+\}/g, () => values[i++] ?? 'x')
        const res = await request(`${base}${path}${search === '' ? '' : `?${search}`}`, {
          method: route.method as 'GET',
          headers: {
            ...auth,
            ...(payload !== undefined && payload.type !== '' && { 'content-type': payload.type }),
            ...(idempotencyKey !== null && { 'idempotency-key': idempotencyKey })
          },
          ...(payload !== undefined && { body: payload.raw })
        })
        const text = await res.body.text()
        sent++
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        if (res.statusCode >= 500) throw new Error(`${route.method} ${path}?${search} -> ${res.statusCode} ${text}`)
        if (res.statusCode >= 400) {
          const error = (JSON.parse(text) as Json).error
          if (typeof error?.code !== 'string' || typeof error?.message !== 'string') throw new Error(`not our error shape: ${text}`)
        }
      }), { numRuns: RUNS_PER_ROUTE })
    const health = await request(`${base}/health`)
    t.equal(health.statusCode, 200, `${route.method} ${route.path}: ${RUNS_PER_ROUTE} runs without a 5xx; still serving`)
    await health.body.dump()
  }

  // The fuzz may have deleted Artem (the DELETE route with his name): a new contact, read back, shows all is well.
  const created = await request(`${base}/v1/contacts`, { method: 'POST', headers: { ...asUser, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'After the fuzz', whatsapp: '+15550001111' }) })
  t.equal(created.statusCode, 201, 'a normal write works after the fuzz')
  await created.body.dump()
  const read = await request(`${base}/v1/contacts/${encodeURIComponent('After the fuzz')}`, { headers: asUser })
  t.same(await read.body.json(), { name: 'After the fuzz', whatsapp: '+15550001111', health: { whatsapp: { reachable: true } } }, 'and reads back')
  t.comment(`fuzz: ${sent} requests over ${routes.length} routes; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`)
})
