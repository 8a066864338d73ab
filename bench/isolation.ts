/**
 * Isolation of a failing messenger: the Telegram delivery rate and the API's
 * latency with every messenger healthy, then with Viber hanging and WhatsApp
 * answering 5xx, in the same run. Prints one JSON line per configuration.
 *
 *   npm run bench:isolation
 *
 * Measured twice: with Telegram at its configured default limit (30/s), and
 * with no limit (how fast our senders go when nothing holds them back).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import app from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { serverOptions } from '../src/server-options.js'
import { callJson, freePort } from './support.js'
import { buildMock } from '../mock-messengers/app.js'
import type { BehaviourConfig } from '../mock-messengers/behaviour.js'

const CONTACTS = Number(process.env.CONTACTS ?? 300)
const TOKENS = { telegram: 'mock-telegram-token', whatsapp: 'mock-whatsapp-token', viber: 'mock-viber-token' }

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

async function run (label: string, behaviour: BehaviourConfig, env: Record<string, string>) {
  const mock = buildMock({ tokens: TOKENS, whatsappPhoneNumberId: '100000000000001', behaviour })
  const mockUrl = await mock.listen({ host: '127.0.0.1', port: 0 })
  const config = loadConfig({
    AUTH: 'off',
    RATE_LIMIT_MAX: '0',
    ...process.env,
    REDIS_PREFIX: `bench${Date.now()}`,
    LOG_LEVEL: 'silent',
    PORT: String(await freePort()),
    TELEGRAM_API_URL: `${mockUrl}/telegram`,
    WHATSAPP_API_URL: `${mockUrl}/whatsapp`,
    VIBER_API_URL: `${mockUrl}/viber`,
    SEND_TIMEOUT_MS: '2000',
    ...env
  })
  const fastify: FastifyInstance = Fastify(serverOptions(config))
  await fastify.register(app, { config })
  const base = await fastify.listen({ host: '127.0.0.1', port: config.port })

  const names = Array.from({ length: CONTACTS }, (_, i) => `c${i}`)
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((name, j) => callJson(`${base}/api/contacts`, 'POST', {
      user_name: 'bench', contact: { name, messangers: { telegram: String(1_000_000 + i + j), whatsApp: `+1555${2_000_000 + i + j}`, viber: `viber-${i + j}` } }
    })))
  }
  const started = Date.now()
  const sent = await callJson(`${base}/api/contacts`, 'PUT', { user_name: 'bench', contacts: names, message: label })

  // The API's latency while the send is being delivered: one request at a time, like a user.
  const latencies: number[] = []
  const telegramDone = async () => {
    const res = await mock.inject({ method: 'GET', url: '/_mock/messages?messenger=telegram&outcome=accepted' })
    return (res.json() as { count: number }).count >= CONTACTS
  }
  while (!await telegramDone()) {
    const t0 = performance.now()
    await callJson(`${base}/api/contacts?user_name=bench`, 'GET')
    latencies.push(performance.now() - t0)
  }
  const arrivals = ((await mock.inject({ method: 'GET', url: '/_mock/messages?messenger=telegram&outcome=accepted' })).json() as { messages: Array<{ receivedAt: string }> })
    .messages.map((m) => Date.parse(m.receivedAt))
  const seconds = (Math.max(...arrivals) - started) / 1000
  latencies.sort((a, b) => a - b)
  await fastify.close()
  await mock.close()
  return {
    label,
    deliveries: sent.deliveries,
    telegramPerSecond: Math.round(CONTACTS / seconds),
    apiP50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
    apiP99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
    apiRequests: latencies.length
  }
}

const HEALTHY: BehaviourConfig = { viber: { reject: false } }
const BROKEN: BehaviourConfig = { viber: { reject: false, outage: 'hang' }, whatsapp: { errorRate: 1 } }

for (const [limit, env] of [['Telegram limited to 30/s (default)', {}], ['no rate limits', { TELEGRAM_RATE_PER_SECOND: '0', WHATSAPP_RATE_PER_SECOND: '0', VIBER_RATE_PER_SECOND: '0' }]] as const) {
  const healthy = await run(`${limit}: all healthy`, HEALTHY, env)
  const broken = await run(`${limit}: Viber hanging, WhatsApp 5xx`, BROKEN, env)
  console.log(JSON.stringify(healthy))
  console.log(JSON.stringify(broken))
  console.log(JSON.stringify({
    limit,
    telegramRateRatio: Math.round(broken.telegramPerSecond / healthy.telegramPerSecond * 100) / 100,
    apiP50Ratio: Math.round(broken.apiP50Ms / healthy.apiP50Ms * 100) / 100,
    apiP99Ratio: Math.round(broken.apiP99Ms / healthy.apiP99Ms * 100) / 100
  }))
}
