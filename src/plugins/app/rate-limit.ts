/**
 * A rate limit per API key (per client address for requests without one,
 * `admin` for the administrator key) that counts what requests cost, not only
 * how many there are: RATE_LIMIT_MAX points per RATE_LIMIT_WINDOW_MS, and past
 * them a burst of RATE_LIMIT_BURST points once per RATE_LIMIT_BURST_WINDOW_MS.
 * Counted in Redis (rate-limiter-flexible's RateLimiterRedis, its
 * BurstyRateLimiter for the burst), so every API process shares the count.
 * RATE_LIMIT_MAX=0 turns it off.
 *
 * What a request costs is in COSTS: 1 point, unless its route says more
 * (`config: { rateLimit: { cost } }`) or its handler learns more once it has
 * read the request (an import's rows, an export's book: `rateLimit.charge`).
 * No request costs more than RATE_LIMIT_MAX, so each can pass in a fresh window.
 * `config: { rateLimit: false }` is never counted: /health (probes poll it)
 * and the messengers' webhooks (a platform delivers in bursts and retries).
 *
 * Answers carry `RateLimit-Limit` (the window's points), `RateLimit-Remaining`
 * (what is left of them; 0 while the burst serves) and `RateLimit-Reset`
 * (seconds until the window starts again); a refused request is a 429
 * `RATE_LIMITED` with `Retry-After`. A refused request's points count too,
 * until its window ends.
 *
 * Its hook is added to each route and runs after the authentication hooks, so
 * the key is known; a request with bad credentials is refused before it counts.
 * The hook runs before the body is read: a client over its limit is refused
 * before its upload is parsed.
 *
 * Each counter is one key (`<prefix>:rate:<who>`, see LIBRARY_PREFIXES in
 * redis-keys.ts), so on a Redis Cluster each lives in a slot of its own and
 * the limiter's script touches that key alone.
 *
 * It has a Redis connection of its own (to the same deployment: one server,
 * a cluster or Sentinel's master; redis-connection.ts). The limiter defines a
 * Lua command when it is made, and ioredis breaks an auto-pipeline that was already queued
 * when a command is defined (the queued pipeline lacks the new command, the
 * call fails, and the pipeline's answer then throws outside any request,
 * ioredis issue #1931). The shared client may have such a pipeline queued by
 * then, since the senders' sweeps start before this plugin; this connection
 * has sent nothing when the limiter defines its command.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { BurstyRateLimiter, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { tooManyRequests } from '../../errors.js'
import { closeRedis, connectRedis } from '../../redis-connection.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What one request of the route costs, in points (absent: COSTS.request); false: never counted. */
    rateLimit?: false | { cost: number }
  }
  interface FastifyInstance {
    rateLimit: {
      /**
       * Brings what this request has cost to `cost` points (at most
       * RATE_LIMIT_MAX) by charging the difference now; throws the 429 when
       * the key has not that much left. Nothing when the limit is off.
       */
      charge: (request: FastifyRequest, reply: FastifyReply, cost: number) => Promise<void>
    }
  }
  interface FastifyRequest {
    /** Points this request has been charged so far. */
    rateCharged: number
  }
}

/** What requests cost, in points (docs/api.md, "Users, keys and limits"). */
export const COSTS = {
  /** Any request: a read, a write, a key or admin route, the admin page. */
  request: 1,
  /** A send (POST /v1/dispatches, PUT /api/contacts), whatever its size: the messengers' own limits pace the sending. */
  send: 5,
  /** An import: a point per this many rows, or part of it. */
  importRowsPerPoint: 100,
  /** An export: a point per this many contacts in the book, or part of it. */
  exportContactsPerPoint: 1000
} as const

export const importCost = (rows: number): number => Math.max(1, Math.ceil(rows / COSTS.importRowsPerPoint))
export const exportCost = (contacts: number): number => Math.max(1, Math.ceil(contacts / COSTS.exportContactsPerPoint))

/** Whose count a request goes to: its API key, the administrator, or (no key: AUTH=off) its client address. */
function counterOf (request: FastifyRequest): string {
  if (request.apiKeyId !== undefined) return `key:${request.apiKeyId}`
  return request.isAdmin ? 'admin' : `ip:${request.ip}`
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

export default fp(async function rateLimit (fastify) {
  fastify.decorateRequest('rateCharged', 0)
  const { max, windowMs, burst, burstWindowMs } = fastify.config.rateLimit
  if (max === 0) {
    fastify.decorate('rateLimit', { charge: async () => {} })
    return
  }
  const redis = connectRedis(fastify.config.redis, 'commands', 'fanout-rate-limit', fastify.log)
  fastify.addHook('onClose', async () => { await closeRedis(redis) })
  const window = new RateLimiterRedis({ storeClient: redis, keyPrefix: fastify.redisKeys.rateLimit, points: max, duration: windowMs / 1000 })
  const limiter = burst === 0
    ? window
    : new BurstyRateLimiter(window,
      new RateLimiterRedis({ storeClient: redis, keyPrefix: fastify.redisKeys.rateLimitBurst, points: burst, duration: burstWindowMs / 1000 }))
  const allowance = `at most ${max} per ${windowMs / 1000} s for one key, counted in points` +
    (burst === 0 ? '' : `, and past them ${burst} more once per ${burstWindowMs / 1000} s`)

  function showLimit (reply: FastifyReply, state: RateLimiterRes): void {
    reply.header('ratelimit-limit', max)
    reply.header('ratelimit-remaining', state.remainingPoints)
    reply.header('ratelimit-reset', seconds(state.msBeforeNext))
  }

  async function charge (request: FastifyRequest, reply: FastifyReply, cost: number): Promise<void> {
    const points = Math.min(cost, max) - request.rateCharged
    if (points <= 0) return
    request.rateCharged += points
    let state: RateLimiterRes
    try {
      state = await limiter.consume(counterOf(request), points)
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err
      showLimit(reply, err)
      const retry = seconds(err.msBeforeNext)
      reply.header('retry-after', retry)
      throw tooManyRequests(`too many requests: ${allowance} (this request: ${request.rateCharged}); retry in ${retry} s`)
    }
    showLimit(reply, state)
  }

  fastify.decorate('rateLimit', { charge })
  fastify.addHook('onRoute', (route) => {
    const setting = route.config?.rateLimit
    if (setting === false) return
    const cost = setting?.cost ?? COSTS.request
    const hook: onRequestHookHandler = async function (request, reply) { await charge(request, reply, cost) }
    // After the route's own onRequest hooks (the admin page's authentication is one).
    route.onRequest = [...[route.onRequest ?? []].flat(), hook]
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis', 'auth'] })
