/**
 * 1. The API: requests per second and p50/p99 latency (autocannon, in this
 * process) for creating a contact, listing contacts and accepting a send to
 * 10 contacts, against a bare Fastify route answering a constant in a process
 * started the same way (same Node flags, server options and log level).
 *
 * The service runs with ROLE=api: what is measured is the API's own work
 * (validation, contact store, the fan-out's records and queueing); with the
 * senders in the same process the figure would also carry the deliveries the
 * previous requests created. The bare route is measured before and after the
 * service's runs, and their mean is the baseline, so a change in the
 * machine's other load during the section weighs on both sides alike.
 */
import autocannon from 'autocannon'
import { ROUTES, benchContact, type ApiCall } from './routes.js'
import { startBareRoute, startService } from './processes.js'
import { compare, type Figure, type Section } from './report.js'
import type { Settings } from './settings.js'
import { dropPrefix, redisClient, round, scenarioPrefix, seedContacts } from './support.js'

interface Measured {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  non2xx: number
  errors: number
  seconds: number
}

/** One autocannon run: `next()` gives each request (a fresh one per call when `varies`), or the same one throughout. */
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
  const result = await autocannon({ ...options, connections, duration: seconds })
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    seconds: result.duration
  }
}

async function warmAndMeasure (base: string, next: () => ApiCall, settings: Settings['api'], varies = false): Promise<Measured> {
  if (settings.warmupSeconds > 0) await cannon(base, next, settings.warmupSeconds, settings.connections, varies)
  return await cannon(base, next, settings.seconds, settings.connections, varies)
}

async function measureBare (settings: Settings['api']): Promise<Measured> {
  const bare = await startBareRoute()
  try {
    return await warmAndMeasure(bare.url, () => ({ method: 'GET', path: '/bare', headers: {} }), settings)
  } finally {
    await bare.stop()
  }
}

export async function runApi (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const s = settings.api
  const SECTION = 'API'
  const before = await measureBare(s)

  const prefix = scenarioPrefix('api')
  const service = await startService(prefix, undefined, { ROLE: 'api' })
  const measured: Array<{ label: string, call: ApiCall, result: Measured }> = []
  try {
    const listUser = 'bench-list'
    const sendUser = 'bench-send'
    await seedContacts(service.url, listUser, s.listContacts)
    const sendNames = await seedContacts(service.url, sendUser, s.sendContacts)

    // Each request creates a new contact (a name never used before) in one growing book.
    let created = 0
    const create = () => ROUTES.createContact('bench-create', benchContact(created++))
    measured.push({ label: 'create contact', call: create(), result: await warmAndMeasure(service.url, create, s, true) })

    const list = () => ROUTES.listContacts(listUser)
    measured.push({ label: `list ${s.listContacts} contacts`, call: list(), result: await warmAndMeasure(service.url, list, s) })

    const send = () => ROUTES.send.call({ user: sendUser, contacts: sendNames, text: 'api benchmark' })
    measured.push({ label: `send to ${s.sendContacts} contacts (${3 * s.sendContacts} deliveries)`, call: send(), result: await warmAndMeasure(service.url, send, s) })
  } finally {
    await service.stop()
  }
  const after = await measureBare(s)
  const redis = redisClient('bench-api')
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const mean = (pick: (m: Measured) => number) => (pick(before) + pick(after)) / 2
  const bareName = 'bare route'
  const figures: Figure[] = []
  const notes = [
    `autocannon ${s.connections} connections, ${s.seconds} s per run after ${s.warmupSeconds} s of warm-up; service with ROLE=api, LOG_LEVEL=warn`,
    `baseline: GET /bare on a bare Fastify with the service's server options, measured before and after (${round(before.requestsPerSecond)} and ${round(after.requestsPerSecond)} req/s), mean used`,
    'throughput counts 2xx answers only; ratio = ours / bare (latency ratios: higher is slower)'
  ]
  for (const { label, call, result } of measured) {
    const name = `${label} (${call.method} ${call.path.split('?')[0]})`
    const detail = { ours: result, route: `${call.method} ${call.path}`, bare: { before, after } }
    figures.push(compare(SECTION, `${name}: throughput`, result.requestsPerSecond, 'req/s',
      { name: bareName, value: mean((m) => m.requestsPerSecond) },
      { target: 'ratio >= 0.5', met: result.requestsPerSecond / mean((m) => m.requestsPerSecond) >= 0.5, detail }))
    figures.push(compare(SECTION, `${name}: p50`, result.p50Ms, 'ms', { name: bareName, value: mean((m) => m.p50Ms) }))
    figures.push(compare(SECTION, `${name}: p99`, result.p99Ms, 'ms', { name: bareName, value: mean((m) => m.p99Ms) }))
    if (result.non2xx > 0 || result.errors > 0) notes.push(`${label}: ${result.non2xx} non-2xx answers and ${result.errors} errors (not counted as throughput)`)
  }
  return { section: SECTION, figures, notes }
}
