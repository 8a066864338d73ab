/**
 * 1. The API: requests per second and p50/p99 latency (autocannon, in this
 * process) for creating a contact, listing 100 contacts and accepting a send
 * to 10 contacts, each against the same route written as a minimal
 * implementation would (bench/same-work-routes.ts: the Redis work the route
 * needs and nothing else), in a process started the same way (same Node
 * flags, server options and log level). The ratio is what auth hooks,
 * validation, rate limiting, metrics, logging and our own code cost.
 *
 * The service runs with ROLE=api: what is measured is the API's own work;
 * with the senders in the same process the figure would also carry the
 * deliveries the previous requests created. Every process stays up for the
 * section; each pair is measured three times, alternating which goes first,
 * and the medians compared, so one noisy minute does not decide a figure.
 * References (no target): a bare route answering a constant, and the same
 * doing one Redis round trip (bench/bare-redis-route.ts).
 */
import autocannon from 'autocannon'
import { ROUTES, benchContact, type ApiCall } from './routes.js'
import { startBareRoute, startSameWorkRoutes, startService } from './processes.js'
import { compare, type Figure, type Section } from './report.js'
import type { Settings } from './settings.js'
import { dropPrefix, redisClient, scenarioPrefix, seedContacts } from './support.js'

interface Measured {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  non2xx: number
  errors: number
  seconds: number
}

/** The q-quantile of sorted values (nearest rank). */
function quantile (sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

/**
 * One autocannon run: `next()` gives each request (a fresh one per call when
 * `varies`), or the same one throughout. Latencies are taken from each 2xx
 * answer at microsecond resolution (autocannon's own histogram keeps whole
 * milliseconds, too coarse for a route answering in 0.3 ms).
 */
async function cannon (base: string, next: () => ApiCall, seconds: number, connections: number, varies: boolean): Promise<Measured> {
  const first = next()
  const options: autocannon.Options = varies
    ? {
        url: base,
        requests: [{
          setupRequest: (request) => {
            const c = next()
            return { ...request, method: c.method, path: c.path, headers: { ...c.headers }, body: c.body }
          }
        }]
      }
    : { url: base + first.path, method: first.method, headers: { ...first.headers }, ...(first.body !== undefined && { body: first.body }) }
  const latencies: number[] = []
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ ...options, connections, duration: seconds }, (err, done) => { if (err !== null && err !== undefined) reject(err); else resolve(done) })
    instance.on('response', (_client, statusCode, _bytes, responseTime) => { if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime) })
  })
  const sorted = Float64Array.from(latencies).sort()
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    seconds: result.duration
  }
}

/** Contacts made per user in the create scenario: below MAX_CONTACTS_PER_USER (100,000), so every request creates one. */
const CREATES_PER_USER = 50_000

/** Each pair is measured this many times, alternating which goes first; the medians are reported. */
const ROUNDS = 3

/** The run whose requests per second are the median of `runs` (an odd number of them). */
function medianRun (runs: Measured[]): Measured {
  return [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)]!
}

export async function runApi (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const s = settings.api
  const SECTION = 'API'
  const prefix = scenarioPrefix('api')
  const samePrefix = scenarioPrefix('api-same-work')
  const bare = await startBareRoute()
  const bareCall = (): ApiCall => ({ method: 'GET', path: '/bare', headers: {} })
  const measured: Array<{ label: string, call: ApiCall, ours: Measured, same: Measured, oursRuns: number[], sameRuns: number[] }> = []
  let reference: { bare: Measured, redis: Measured } | undefined
  try {
    const bareRedis = await startBareRoute({ prefix })
    const same = await startSameWorkRoutes(samePrefix)
    const service = await startService(prefix, undefined, { ROLE: 'api' })
    try {
      const listUser = 'bench-list'
      const sendUser = 'bench-send'
      for (const base of [service.url, same.url]) await seedContacts(base, listUser, s.listContacts)
      const sendNames = await seedContacts(service.url, sendUser, s.sendContacts)
      await seedContacts(same.url, sendUser, s.sendContacts)

      // Each scenario: both warmed up, then ROUNDS pairs of runs, alternating which goes first, so that
      // neither always meets the machine a run later; the medians are compared.
      const pair = async (label: string, next: (base: 'ours' | 'same') => ApiCall, varies = false) => {
        const oursNext = () => next('ours')
        const sameNext = () => next('same')
        if (s.warmupSeconds > 0) {
          await cannon(service.url, oursNext, s.warmupSeconds, s.connections, varies)
          await cannon(same.url, sameNext, s.warmupSeconds, s.connections, varies)
        }
        const oursRuns: Measured[] = []
        const sameRuns: Measured[] = []
        for (let round = 0; round < ROUNDS; round++) {
          const runOurs = async () => { oursRuns.push(await cannon(service.url, oursNext, s.seconds, s.connections, varies)) }
          const runSame = async () => { sameRuns.push(await cannon(same.url, sameNext, s.seconds, s.connections, varies)) }
          if (round % 2 === 0) { await runSame(); await runOurs() } else { await runOurs(); await runSame() }
        }
        measured.push({
          label,
          call: oursNext(),
          ours: medianRun(oursRuns),
          same: medianRun(sameRuns),
          oursRuns: oursRuns.map((r) => Math.round(r.requestsPerSecond)),
          sameRuns: sameRuns.map((r) => Math.round(r.requestsPerSecond))
        })
      }

      // Each request creates a new contact (a name never used before), a new book every CREATES_PER_USER, so none is refused.
      const created = { ours: 0, same: 0 }
      await pair('create contact', (base) => {
        const i = created[base]++
        return ROUTES.createContact(`bench-create-${Math.floor(i / CREATES_PER_USER)}`, benchContact(i))
      }, true)
      await pair(`list ${s.listContacts} contacts`, () => ROUTES.listContacts(listUser))
      await pair(`send to ${s.sendContacts} contacts (${3 * s.sendContacts} deliveries)`, () => ROUTES.send.call({ user: sendUser, contacts: sendNames, text: 'api benchmark' }))

      // References (no target): a bare route answering a constant, and the same with one Redis round trip.
      if (s.warmupSeconds > 0) await cannon(bare.url, bareCall, s.warmupSeconds, s.connections, false)
      reference = {
        bare: await cannon(bare.url, bareCall, s.seconds, s.connections, false),
        redis: await cannon(bareRedis.url, bareCall, s.seconds, s.connections, false)
      }
    } finally {
      await service.stop()
      await same.stop()
      await bareRedis.stop()
    }
  } finally {
    await bare.stop()
  }
  const redis = redisClient('bench-api')
  await dropPrefix(redis, prefix)
  await dropPrefix(redis, samePrefix)
  redis.disconnect()

  const sameName = 'same-work bare route'
  const figures: Figure[] = []
  const notes = [
    `autocannon in this process, ${s.connections} connections, ${s.seconds} s per run after ${s.warmupSeconds} s of warm-up; service with ROLE=api (HTTP only); every process LOG_LEVEL=info, as in production`,
    `baseline: each route written as a minimal implementation would, on a bare Fastify with the service's server options (bench/same-work-routes.ts: one write; one read; one script writing the records plus one queue add); ${ROUNDS} runs each, alternating, medians compared`,
    'throughput counts 2xx answers only; ratio = ours / same-work (for latencies: times slower); one load generator on 2 shared cores caps both'
  ]
  for (const { label, call, ours, same, oursRuns, sameRuns } of measured) {
    const name = `${label} (${call.method} ${call.path.split('?')[0]})`
    const detail = { route: `${call.method} ${call.path}`, ours, same, oursRuns, sameRuns }
    figures.push(compare(SECTION, `${name}: throughput`, ours.requestsPerSecond, 'req/s', { name: sameName, value: same.requestsPerSecond },
      { target: 'ratio >= 0.8', met: ours.requestsPerSecond / same.requestsPerSecond >= 0.8, detail }))
    figures.push(compare(SECTION, `${name}: p50`, ours.p50Ms, 'ms', { name: sameName, value: same.p50Ms }))
    figures.push(compare(SECTION, `${name}: p99`, ours.p99Ms, 'ms', { name: sameName, value: same.p99Ms }))
    notes.push(`${label}: ours ${oursRuns.join(', ')} req/s, same-work ${sameRuns.join(', ')} req/s`)
    if (ours.non2xx > 0 || ours.errors > 0) notes.push(`${label}: ${ours.non2xx} non-2xx answers and ${ours.errors} errors (not counted)`)
  }
  if (reference !== undefined) {
    const bareName = 'bare route (a constant)'
    figures.push(compare(SECTION, 'reference: bare route + one Redis round trip: throughput', reference.redis.requestsPerSecond, 'req/s',
      { name: bareName, value: reference.bare.requestsPerSecond }, { detail: { redis: reference.redis, bare: reference.bare } }))
    notes.push('references (no target): GET /bare answering a constant, and the same doing one Redis HGET first; what any route that touches Redis once keeps of a bare route here')
  }
  return { section: SECTION, figures, notes }
}
