/**
 * Limits that keep one client from hurting the others: a rate limit per key
 * (counted in Redis, so shared by every API process), a body size limit, and
 * limits on a book's contacts, a dispatch's deliveries and a text's length;
 * each answers a clear 4xx and writes nothing.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../../src/config.js'
import { client, type Answer } from '../helpers/api.js'
import { AUTH_ENV, build } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'

/** The rate limit as a deployment gets it when nothing is set (the tests' own environment turns it off). */
const defaults = loadConfig({}).rateLimit
const DEFAULT_LIMITS = {
  RATE_LIMIT_MAX: String(defaults.max),
  RATE_LIMIT_WINDOW_MS: String(defaults.windowMs),
  RATE_LIMIT_BURST: String(defaults.burst),
  RATE_LIMIT_BURST_WINDOW_MS: String(defaults.burstWindowMs)
}

t.test('the rate limit: RATE_LIMIT_MAX requests per window per key, then 429 with Retry-After; counted across processes', async (t) => {
  const env = { ...AUTH_ENV, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000', RATE_LIMIT_BURST: '0' }
  const first = await build(t, { env })
  const second = await build(t, { env, prefix: first.prefix, mock: first.mock })
  const alice = await createUser(first.app, 'alice')
  const bob = await createUser(first.app, 'bob')

  const remaining: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await (i % 2 === 0 ? first : second).app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(alice.key) })
    t.equal(res.statusCode, 200, `request ${i + 1} of 5 (through process ${i % 2 === 0 ? 'one' : 'two'})`)
    t.equal(res.headers['ratelimit-limit'], '5')
    remaining.push(Number(res.headers['ratelimit-remaining']))
  }
  t.same(remaining, [4, 3, 2, 1, 0], 'RateLimit-Remaining counts down across both processes')

  const refused = await first.app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(alice.key) })
  t.equal(refused.statusCode, 429, 'the sixth request in the window')
  t.equal(refused.json().error.code, 'RATE_LIMITED')
  t.match(refused.json().error.message, /at most 5 per 60 s/)
  const retryAfter = Number(refused.headers['retry-after'])
  t.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter} s`)
  t.equal(refused.headers['ratelimit-remaining'], '0')
  t.equal((await second.app.inject({ method: 'PUT', url: '/api/contacts', headers: bearer(alice.key), payload: { user_name: 'alice', contact: 'x', message: 'm' } })).statusCode,
    429, 'the legacy routes count against the same key')

  t.equal((await first.app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(bob.key) })).statusCode, 200, 'another key has its own count')
  for (let i = 0; i < 10; i++) t.equal((await first.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, `health ${i + 1}: never limited`)
})

t.test('under the defaults, a script that creates 1,000 contacts one by one over HTTP and then sends to them meets no 429', async (t) => {
  // With a key (a deployment), and without one (the trial on loopback, counted per address): the same allowance.
  for (const auth of ['on', 'off'] as const) {
    const { app } = await build(t, { env: { ...DEFAULT_LIMITS, ...(auth === 'on' ? AUTH_ENV : { AUTH: 'off' }) } })
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const credentials = auth === 'on' ? { headers: bearer((await createUser(app, 'script')).key) } : { user: 'script' }
    const answers: Answer[] = []
    const api = client(base, { ...credentials, onAnswer: (answer) => answers.push(answer) })
    for (let i = 0; i < 1000; i++) await api('POST', '/v1/contacts', { name: `c${i}`, telegram: String(100_000 + i), tags: ['script'] })
    const sent = await api('POST', '/v1/dispatches', { text: 'all added', tags: { any: ['script'] } })
    t.same(answers.filter((a) => a.statusCode !== 201 && a.statusCode !== 202).map((a) => `${a.statusCode} ${a.body}`), [], `AUTH=${auth}: every request served`)
    t.equal(sent.json().deliveries, 1000, `AUTH=${auth}: the send reached every contact`)
    t.equal(sent.headers['ratelimit-limit'], DEFAULT_LIMITS.RATE_LIMIT_MAX, `AUTH=${auth}: the answers say the limit`)
    t.equal(Number(sent.headers['ratelimit-remaining']), Number(DEFAULT_LIMITS.RATE_LIMIT_MAX) - 1000 - 5,
      `AUTH=${auth}: a contact cost a point and the send five; most of the minute's allowance is left`)
  }
})

t.test('requests cost points: an import by its rows, a send five, an export by the book; past the window, the burst', async (t) => {
  const { app } = await build(t, { env: { ...AUTH_ENV, RATE_LIMIT_MAX: '20', RATE_LIMIT_BURST: '10' } })
  const alice = await createUser(app, 'alice')
  const as = bearer(alice.key)
  const remaining = (res: { headers: Record<string, unknown> }) => Number(res.headers['ratelimit-remaining'])
  const rows = Array.from({ length: 250 }, (_, i) => `c${i},${1000 + i}`).join('\n')
  const imported = await app.inject({ method: 'POST', url: '/v1/contacts/import', headers: { ...as, 'content-type': 'text/csv' }, payload: `name,telegram\n${rows}\n` })
  t.equal(imported.statusCode, 200)
  t.equal(remaining(imported), 17, '250 rows cost 3 points (1 per 100 rows, or part of it)')
  const sent = await app.inject({ method: 'POST', url: '/v1/dispatches', headers: as, payload: { text: 'hi', contacts: ['c1'] } })
  t.equal(sent.statusCode, 202)
  t.equal(remaining(sent), 12, 'a send costs 5')
  const exported = await app.inject({ method: 'GET', url: '/v1/contacts/export?format=csv', headers: as })
  t.equal(exported.statusCode, 200)
  t.equal(remaining(exported), 11, 'an export of 250 contacts costs 1 (1 per 1,000)')
  const statuses: number[] = []
  for (let i = 0; i < 22; i++) statuses.push((await app.inject({ method: 'GET', url: '/v1/contacts/c1', headers: as })).statusCode)
  t.same(statuses, [...Array(21).fill(200), 429], 'the 11 points left, then the burst of 10, then refused')
  const big = await app.inject({ method: 'GET', url: '/v1/contacts/c1', headers: as })
  t.equal(big.statusCode, 429)
  t.ok(Number(big.headers['retry-after']) > 0, 'with Retry-After')
})

t.test('a refused client is served again once Retry-After has passed', async (t) => {
  const { app } = await build(t, { env: { ...AUTH_ENV, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '1000', RATE_LIMIT_BURST: '0' } })
  const alice = await createUser(app, 'alice')
  let refused
  for (let i = 0; i < 50 && refused === undefined; i++) {
    const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(alice.key) })
    if (res.statusCode === 429) refused = res
  }
  t.ok(refused, 'a burst reaches the limit')
  await sleep(Number(refused?.headers['retry-after']) * 1000 + 100)
  t.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(alice.key) })).statusCode, 200, 'served after waiting Retry-After')
})

t.test('without a key (AUTH=off), the count is per client address', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_BURST: '0' } })
  const statuses = []
  for (const user of ['a', 'b', 'c']) statuses.push((await app.inject({ method: 'GET', url: '/v1/contacts', headers: { 'x-user-name': user } })).statusCode)
  t.same(statuses, [200, 200, 429], 'naming other users in the header does not escape the limit')
  const spoofed = await app.inject({ method: 'GET', url: '/v1/contacts', headers: { 'x-user-name': 'd', 'x-forwarded-for': '203.0.113.9' } })
  t.equal(spoofed.statusCode, 429, 'nor does an X-Forwarded-For header when no proxy is trusted')
})

t.test('behind a trusted proxy (TRUST_PROXY), each client behind it has its own count', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_BURST: '0', TRUST_PROXY: '127.0.0.1' } })
  const from = async (client: string) => (await app.inject({ method: 'GET', url: '/v1/contacts', headers: { 'x-user-name': 'a', 'x-forwarded-for': client } })).statusCode
  t.same([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')], [200, 200, 429], 'one client reaches the limit')
  t.equal(await from('203.0.113.2'), 200, 'another client behind the same proxy is still served')
})

t.test('bodies, books, dispatches and texts have limits, each a clear 4xx that writes nothing', async (t) => {
  const { app } = await build(t, { env: { BODY_LIMIT: '16384', MAX_CONTACTS_PER_USER: '3', MAX_DELIVERIES_PER_DISPATCH: '4' } })
  const as = { 'x-user-name': 'alice' }

  const huge = await app.inject({ method: 'POST', url: '/v1/contacts', headers: { ...as, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'Big', tags: ['x'.repeat(20_000)] }) })
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().error.code, 'BODY_TOO_LARGE')

  for (const name of ['A', 'B', 'C']) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/contacts', headers: as, payload: { name, telegram: '100', whatsapp: '+15550000001' } })).statusCode, 201)
  }
  const full = await app.inject({ method: 'POST', url: '/v1/contacts', headers: as, payload: { name: 'D', telegram: '100' } })
  t.equal(full.statusCode, 422)
  t.match(full.json().error, { code: 'CONTACT_LIMIT_REACHED', message: /at most 3 contacts/ })
  const legacyFull = await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'alice', contact: { name: 'D', messangers: { telegram: '100' } } } })
  t.equal(legacyFull.statusCode, 422)
  t.match(legacyFull.json(), { success: false, error: { code: 'CONTACT_LIMIT_REACHED' } }, 'the legacy shape, with success: false')
  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts/D', headers: as })).statusCode, 404, 'D was not written')

  const tooMany = await app.inject({ method: 'POST', url: '/v1/dispatches', headers: as, payload: { text: 'hi', all_contacts: true } })
  t.equal(tooMany.statusCode, 422)
  t.match(tooMany.json().error, { code: 'TOO_MANY_DELIVERIES', message: /would be 6 deliveries; one dispatch makes at most 4/ })
  t.equal((await app.inject({ method: 'POST', url: '/v1/dispatches', headers: as, payload: { text: 'hi', contacts: ['A', 'B'] } })).statusCode, 202, 'four is fine')

  const long = await app.inject({ method: 'POST', url: '/v1/dispatches', headers: as, payload: { text: 'x'.repeat(7001), contacts: ['A'] } })
  t.equal(long.statusCode, 400)
  t.equal(long.json().error.details[0].field, 'text')
  const legacyLong = await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'alice', contacts: ['A'], message: 'x'.repeat(7001) } })
  t.equal(legacyLong.statusCode, 400)
  t.equal(legacyLong.json().error.details[0].field, 'message')
  t.equal((await app.inject({ method: 'GET', url: '/v1/dispatches', headers: as })).json().dispatches.length, 1, 'only the dispatch within the limits was made')
})

t.test('a broken or over-long path gets our error shape naming the path, not Fastify\'s own', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, number, string]> = [
    ['/v1/contacts/%E0%A4%A', 400, 'INVALID_URL'],
    ['/v1/contacts/%', 400, 'INVALID_URL'],
    [`/v1/dispatches/${'x'.repeat(3000)}`, 414, 'URI_TOO_LONG']
  ]
  for (const [url, status, code] of cases) {
    const res = await app.inject({ method: 'GET', url, headers: { 'x-user-name': 'alice' } })
    t.equal(res.statusCode, status, url.slice(0, 40))
    t.same(res.json().error.code, code)
    t.same(res.json().error.details.map((d: { field: string }) => d.field), ['path'])
  }
  const legacy = await app.inject({ method: 'GET', url: '/api/contacts/%' })
  t.match(legacy.json(), { success: false, error: { code: 'INVALID_URL' } }, 'with success: false on the legacy routes')
})
