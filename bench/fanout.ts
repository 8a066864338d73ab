/**
 * Fan-out end to end: a send to CONTACTS contacts with all three messengers
 * (3 x CONTACTS deliveries), from the HTTP request to every delivery finished
 * at the mock messengers, which answer at once, through the /v1 API; while it
 * is delivered, the dispatch's detail is read every 20 ms and each read timed.
 * Prints one JSON line.
 * It measures our pipeline, so the messengers' rate limits are off unless
 * set in the environment (with Telegram's default 30/s it would measure that).
 *
 *   npm run bench:fanout                 (1,000 deliveries)
 *   CONTACTS=3334 npm run bench:fanout   (10,002 deliveries)
 *
 * The service runs in this process with its production configuration; the
 * mock runs as its own process, as `npm start` runs it; Redis is a throwaway
 * one (scripts/with-redis.sh).
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { request } from 'undici'
import app from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { serverOptions } from '../src/server-options.js'
import { freePort } from './support.js'

const CONTACTS = Number(process.env.CONTACTS ?? 334)
const here = dirname(fileURLToPath(import.meta.url))

const mockPort = await freePort()
const mock = spawn(process.execPath, [join(here, '..', 'mock-messengers', 'server.js')], {
  env: { ...process.env, MOCK_PORT: String(mockPort) },
  stdio: 'ignore'
})
const config = loadConfig({
  TELEGRAM_RATE_PER_SECOND: '0',
  WHATSAPP_RATE_PER_SECOND: '0',
  VIBER_RATE_PER_SECOND: '0',
  // In this process, on loopback: users named by X-User-Name, no per-key request limit.
  AUTH: 'off',
  RATE_LIMIT_MAX: '0',
  ...process.env,
  REDIS_PREFIX: `bench${Date.now()}`,
  LOG_LEVEL: 'warn',
  MOCK_PORT: String(mockPort),
  PORT: String(await freePort())
})
const fastify = Fastify(serverOptions(config))
await fastify.register(app, { config })
const base = await fastify.listen({ host: '127.0.0.1', port: config.port })
for (let i = 0; ; i++) {
  const up = await request(`http://127.0.0.1:${mockPort}/_mock/behaviour`).then(async (r) => { await r.body.dump(); return true }, () => false)
  if (up) break
  if (i > 100) throw new Error('the mock did not start')
  await sleep(100)
}

/** A /v1 call as the bench user; anything but a 2xx is an error (a benchmark must not count failures as work). */
async function v1 (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await request(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-user-name': 'bench' },
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
  const answer = await res.body.json() as Record<string, unknown>
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(answer)}`)
  return answer
}

const names = Array.from({ length: CONTACTS }, (_, i) => `contact-${i}`)
for (let i = 0; i < names.length; i += 50) {
  await Promise.all(names.slice(i, i + 50).map((name, j) => v1('POST', '/v1/contacts', {
    name, telegram: String(1_000_000 + i + j), whatsapp: `+1555${2_000_000 + i + j}`, viber: `viber-${i + j}`
  })))
}

const started = performance.now()
const sent = await v1('POST', '/v1/dispatches', { text: 'benchmark', all_contacts: true })
const acceptedMs = performance.now() - started

// While it is being delivered, read its progress as a client would, and time each read.
const detailMs: number[] = []
let detail: Record<string, any>
for (;;) {
  const t0 = performance.now()
  detail = await v1('GET', `/v1/dispatches/${String(sent.id)}`)
  detailMs.push(performance.now() - t0)
  if (detail.status === 'finished') break
  await sleep(20)
}
const finishedMs = performance.now() - started
detailMs.sort((a, b) => a - b)
const percentile = (p: number) => Math.round((detailMs[Math.min(detailMs.length - 1, Math.floor(p * detailMs.length))] ?? 0) * 10) / 10

console.log(JSON.stringify({
  deliveries: sent.deliveries,
  acceptMs: Math.round(acceptedMs),
  endToEndMs: Math.round(finishedMs),
  deliveriesPerSecond: Math.round(Number(sent.deliveries) / (finishedMs / 1000)),
  delivered: detail.counts.delivered,
  failed: detail.counts.failed,
  detailReads: detailMs.length,
  detailP50Ms: percentile(0.5),
  detailP99Ms: percentile(0.99),
  concurrencyPerMessenger: config.messengers.telegram.concurrency
}))

await fastify.close()
mock.kill('SIGTERM')
