/**
 * 1. The API: requests per second and p50/p99 latency (autocannon, in this
 * process) for creating a contact, listing contacts and accepting a send to
 * 10 contacts, against a bare Fastify route answering a constant in a process
 * started the same way (same Node flags, server options and log level).
 *
 * The service runs with ROLE=api: what is measured is the API's own work
 * (validation, contact store, the fan-out's records and queueing); with the
 * senders in the same process the figure would also carry the deliveries the
 * previous requests created. Both processes stay up for the section, and the
 * bare route is measured right before each of our routes, so that each pair
 * sees the same machine (others' work on it comes and goes within minutes).
 * A reference figure (no target) pairs the bare route with the same route
 * doing one Redis round trip (bench/bare-redis-route.ts).
 */
import autocannon from 'autocannon'
import { ROUTES, benchContact, type ApiCall } from './routes.js'
import { startBareRoute, startService } from './processes.js'
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

export async function runApi (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const s = settings.api
  const SECTION = 'API'
  const prefix = scenarioPrefix('api')
  const bare = await startBareRoute()
  const bareCall = (): ApiCall => ({ method: 'GET', path: '/bare', headers: {} })
  const measured: Array<{ label: string, call: ApiCall, ours: Measured, bare: Measured }> = []
  let reference: { ours: Measured, bare: Measured } | undefined
  try {
    const bareRedis = await startBareRoute({ prefix })
    const service = await startService(prefix, undefined, { ROLE: 'api' })
    try {
      const listUser = 'bench-list'
      const sendUser = 'bench-send'
      await seedContacts(service.url, listUser, s.listContacts)
      const sendNames = await seedContacts(service.url, sendUser, s.sendContacts)
      if (s.warmupSeconds > 0) await cannon(bare.url, bareCall, s.warmupSeconds, s.connections, false)

      // Each scenario: warm the route up, then the bare route and ours back to back, so the pair sees the same machine.
      const pair = async (label: string, next: () => ApiCall, varies = false) => {
        if (s.warmupSeconds > 0) await cannon(service.url, next, s.warmupSeconds, s.connections, varies)
        const bareRun = await cannon(bare.url, bareCall, s.seconds, s.connections, false)
        const ours = await cannon(service.url, next, s.seconds, s.connections, varies)
        measured.push({ label, call: next(), ours, bare: bareRun })
      }

      // Each request creates a new contact (a name never used before) in one growing book.
      let created = 0
      await pair('create contact', () => ROUTES.createContact('bench-create', benchContact(created++)), true)
      await pair(`list ${s.listContacts} contacts`, () => ROUTES.listContacts(listUser))
      await pair(`send to ${s.sendContacts} contacts (${3 * s.sendContacts} deliveries)`, () => ROUTES.send.call({ user: sendUser, contacts: sendNames, text: 'api benchmark' }))

      // The reference: the same bare route with one Redis round trip, paired with the bare route in the same way.
      if (s.warmupSeconds > 0) await cannon(bareRedis.url, bareCall, s.warmupSeconds, s.connections, false)
      const bareRun = await cannon(bare.url, bareCall, s.seconds, s.connections, false)
      reference = { ours: await cannon(bareRedis.url, bareCall, s.seconds, s.connections, false), bare: bareRun }
    } finally {
      await service.stop()
      await bareRedis.stop()
    }
  } finally {
    await bare.stop()
  }
  const redis = redisClient('bench-api')
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const bareName = 'bare route'
  const figures: Figure[] = []
  const notes = [
    `autocannon in this process, ${s.connections} connections, ${s.seconds} s per run after ${s.warmupSeconds} s of warm-up; service with ROLE=api (HTTP only); both processes LOG_LEVEL=info, as in production`,
    'baseline: GET /bare answering a constant on a bare Fastify with the service\'s server options, run right before each of ours',
    'throughput counts 2xx answers only; ratio = ours / bare (for latencies: times slower); one load generator on 2 shared cores caps the bare route too'
  ]
  for (const { label, call, ours, bare: b } of measured) {
    const name = `${label} (${call.method} ${call.path.split('?')[0]})`
    const detail = { route: `${call.method} ${call.path}`, ours, bare: b }
    figures.push(compare(SECTION, `${name}: throughput`, ours.requestsPerSecond, 'req/s', { name: bareName, value: b.requestsPerSecond },
      { target: 'ratio >= 0.5', met: ours.requestsPerSecond / b.requestsPerSecond >= 0.5, detail }))
    figures.push(compare(SECTION, `${name}: p50`, ours.p50Ms, 'ms', { name: bareName, value: b.p50Ms }))
    figures.push(compare(SECTION, `${name}: p99`, ours.p99Ms, 'ms', { name: bareName, value: b.p99Ms }))
    if (ours.non2xx > 0 || ours.errors > 0) notes.push(`${label}: ${ours.non2xx} non-2xx answers and ${ours.errors} errors (not counted)`)
  }
  if (reference !== undefined) {
    figures.push(compare(SECTION, 'reference: bare route + one Redis round trip (GET /bare): throughput', reference.ours.requestsPerSecond, 'req/s',
      { name: bareName, value: reference.bare.requestsPerSecond }, { detail: { ours: reference.ours, bare: reference.bare } }))
    notes.push('reference (no target): the bare route doing one Redis HGET first, through an auto-pipelined client as the service\'s; ' +
      'what any route that touches Redis once keeps of the bare route here (ours make one to four round trips)')
  }
  return { section: SECTION, figures, notes }
}
