/**
 * Fan-out end to end: a send to CONTACTS contacts with all three messengers
 * (3 x CONTACTS deliveries), from the HTTP request to every delivery finished
 * at the mock messengers, which answer at once. Prints one JSON line.
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
import { loadConfig, serverOptions } from '../src/config.js'
import { callJson, freePort } from './support.js'

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

const names = Array.from({ length: CONTACTS }, (_, i) => `contact-${i}`)
for (let i = 0; i < names.length; i += 50) {
  await Promise.all(names.slice(i, i + 50).map((name, j) => callJson(`${base}/api/contacts`, 'POST', {
    user_name: 'bench',
    contact: { name, messangers: { telegram: String(1_000_000 + i + j), whatsApp: `+1555${2_000_000 + i + j}`, viber: `viber-${i + j}` } }
  })))
}

const started = performance.now()
const sent = await callJson(`${base}/api/contacts`, 'PUT', { user_name: 'bench', contacts: names, message: 'benchmark' })
const acceptedMs = performance.now() - started
const dispatchKey = `${config.redis.prefix}:dispatch:${String(sent.dispatch_id)}`
while (await fastify.redis.hget(dispatchKey, 'open') !== '0') await sleep(5)
const finishedMs = performance.now() - started
const counts = await fastify.redis.hmget(dispatchKey, 'n:delivered', 'n:failed')

console.log(JSON.stringify({
  deliveries: sent.deliveries,
  acceptMs: Math.round(acceptedMs),
  endToEndMs: Math.round(finishedMs),
  deliveriesPerSecond: Math.round(Number(sent.deliveries) / (finishedMs / 1000)),
  delivered: Number(counts[0]),
  failed: Number(counts[1]),
  concurrencyPerMessenger: config.messengers.telegram.concurrency
}))

await fastify.close()
mock.kill('SIGTERM')
