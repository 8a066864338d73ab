/**
 * Prometheus metrics (prom-client), served by `GET /metrics` to the
 * administrator. Two kinds of figures:
 *
 *   - this process's own: HTTP requests and their durations, sends and their
 *     outcomes per messenger, each messenger's circuit breaker, and Node's
 *     process figures (CPU, memory, event loop lag). Sum them over processes.
 *   - the whole service's, read from Redis at each scrape: jobs in every queue
 *     by state, and deliveries held by state. Every process reports the same
 *     values; take one (`max`), do not sum.
 *
 * A registry per app, not prom-client's global one: a process may hold more
 * than one app (the tests do), and each must count only its own.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { TakenReceipt } from '../../deliveries/receipts.js'
import { DELIVERY_STATES, type ReceiptStatus } from '../../model/delivery.js'
import { redisMemory } from '../../redis-connection.js'
import { plainQueueName } from '../../redis-keys.js'
import type { MessengerAdapter } from '../../messengers/adapter.js'
import type { Messenger } from '../../model/messenger.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** What the metrics read of a messenger's circuit breaker (opossum's CircuitBreaker has these). */
export interface BreakerView {
  readonly opened: boolean
  readonly halfOpen: boolean
}

export interface Metrics {
  registry: Registry
  /** The adapter, counting each send's outcome and duration. */
  countSends: (adapter: MessengerAdapter) => MessengerAdapter
  /** Reports the messenger's breaker state at each scrape. */
  watchBreaker: (messenger: Messenger, breaker: BreakerView) => void
  /** Counts a receipt from a messenger's webhook, by what became of it. */
  countReceipt: (messenger: Messenger, status: ReceiptStatus, outcome: TakenReceipt) => void
}

const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const

export default fp(async function metrics (fastify: FastifyInstance) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'fanout_' })

  const requests = new Counter({
    name: 'fanout_http_requests_total',
    help: 'HTTP requests answered by this process, by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry]
  })
  const requestSeconds = new Histogram({
    name: 'fanout_http_request_duration_seconds',
    help: 'Time to answer an HTTP request in this process, by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  fastify.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: ids would make a series per request.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ method: request.method, route, status_code: reply.statusCode })
    requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })

  const sends = new Counter({
    name: 'fanout_sends_total',
    help: 'Sends to a messenger from this process, by outcome: accepted, retryable (the messenger\'s trouble) or permanent (a bad recipient)',
    labelNames: ['messenger', 'outcome'] as const,
    registers: [registry]
  })
  const unreachable = new Counter({
    name: 'fanout_unreachable_sends_total',
    help: 'Permanent send failures from this process that say the address itself is dead, by reason (blocked, not_started, chat_not_found, not_on_whatsapp, not_registered, not_subscribed...): the address is marked',
    labelNames: ['messenger', 'reason'] as const,
    registers: [registry]
  })
  const sendSeconds = new Histogram({
    name: 'fanout_send_duration_seconds',
    help: 'Time a messenger took to answer a send from this process',
    labelNames: ['messenger'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const receipts = new Counter({
    name: 'fanout_receipts_total',
    help: 'Receipts from the messengers\' webhooks to this process, by status and what became of them: applied, ignored (nothing new), stale (about an earlier attempt), unknown (no such delivery any more) or waiting (a message id not known, yet or at all)',
    labelNames: ['messenger', 'status', 'outcome'] as const,
    registers: [registry]
  })
  const breakers = new Map<Messenger, BreakerView>()
  // Gauges read at each scrape (`collect`): nothing holds them but our registry (`registers: []`: not prom-client's global one).
  registry.registerMetric(new Gauge({
    registers: [],
    name: 'fanout_circuit_state',
    help: 'A messenger\'s circuit breaker in this process: 0 closed, 1 half-open, 2 open (its deliveries wait, using no attempts)',
    labelNames: ['messenger'] as const,
    collect () {
      for (const [messenger, breaker] of breakers) this.set({ messenger }, breaker.opened ? 2 : breaker.halfOpen ? 1 : 0)
    }
  }))

  const { sendQueues, dispatchQueue, deliveries } = fastify
  const queues = [...Object.values(sendQueues), dispatchQueue]
  registry.registerMetric(new Gauge({
    registers: [],
    name: 'fanout_queue_jobs',
    help: 'Jobs in each queue by state, for the whole service (the same from every process)',
    labelNames: ['queue', 'state'] as const,
    async collect () {
      const counts = await Promise.all(queues.map(async (queue) => await queue.getJobCounts(...QUEUE_STATES)))
      queues.forEach((queue, i) => {
        for (const state of QUEUE_STATES) this.set({ queue: plainQueueName(queue.name), state }, counts[i]![state] ?? 0)
      })
    }
  }))
  registry.registerMetric(new Gauge({
    registers: [],
    name: 'fanout_deliveries',
    help: 'Deliveries held (until retention purges them) by state, over all users, for the whole service (the same from every process)',
    labelNames: ['state'] as const,
    async collect () {
      const users = await deliveries.users()
      const totals = await Promise.all(users.map(async (user) => await deliveries.stateCounts(user)))
      for (const state of DELIVERY_STATES) this.set({ state }, totals.reduce((sum, counts) => sum + counts[state], 0))
    }
  }))

  const redisMemoryRatio = async () => (await redisMemory(fastify.redis)).filter((m) => m.max > 0).map((m) => ({ node: m.node, ratio: m.used / m.max }))
  registry.registerMetric(new Gauge({
    registers: [],
    name: 'fanout_redis_memory_used_ratio',
    help: 'Each Redis master\'s used memory against its maxmemory (with noeviction, at 1 it refuses writes: sends are answered 503 STORE_FULL)',
    labelNames: ['node'] as const,
    async collect () {
      for (const { node, ratio } of await redisMemoryRatio()) this.set({ node }, ratio)
    }
  }))
  // A log line before the store is full, not only after: checked every REDIS_MEMORY_CHECK_MS, said once per crossing.
  const warnAt = fastify.config.redis.memoryWarnPercent / 100
  const warned = new Set<string>()
  const memoryWatch = setInterval(() => {
    redisMemoryRatio().then((masters) => {
      for (const { node, ratio } of masters) {
        if (ratio >= warnAt && !warned.has(node)) {
          warned.add(node)
          fastify.log.warn({ node, usedPercent: Math.round(ratio * 100), warnPercent: fastify.config.redis.memoryWarnPercent }, 'redis is nearly full: at maxmemory it refuses writes and sends are answered 503')
        } else if (ratio < warnAt) warned.delete(node)
      }
    }, () => { /* Redis away: the connection's own listener logs that */ })
  }, fastify.config.redis.memoryCheckMs)
  memoryWatch.unref()
  fastify.addHook('onClose', async () => { clearInterval(memoryWatch) })

  fastify.decorate('metrics', {
    registry,
    countSends: (adapter) => ({
      messenger: adapter.messenger,
      displayUrl: adapter.displayUrl,
      close: async () => { await adapter.close() },
      async send (request) {
        const stop = sendSeconds.startTimer({ messenger: adapter.messenger })
        const outcome = await adapter.send(request)
        stop()
        sends.inc({ messenger: adapter.messenger, outcome: outcome.result })
        if (outcome.result === 'permanent' && outcome.unreachable !== undefined) unreachable.inc({ messenger: adapter.messenger, reason: outcome.unreachable.reason })
        return outcome
      }
    }),
    watchBreaker: (messenger, breaker) => { breakers.set(messenger, breaker) },
    countReceipt: (messenger, status, outcome) => { receipts.inc({ messenger, status, outcome }) }
  } satisfies Metrics)
}, { name: 'metrics', dependencies: ['deliveries'] })
