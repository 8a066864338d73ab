/**
 * A rate limit per API key (per client address for requests without one),
 * counted in Redis so every API process shares the count (@fastify/rate-limit
 * with its Redis store). Answers carry `RateLimit-Limit`, `RateLimit-Remaining`
 * and `RateLimit-Reset`; a refused request is a 429 with `Retry-After`.
 * RATE_LIMIT_MAX=0 turns it off. /health is never limited (probes poll it).
 *
 * Its hook is added to each route and runs after the authentication hooks, so
 * the key is known; a request with bad credentials is refused before it counts.
 *
 * It has a Redis connection of its own. Its store defines Lua commands when it
 * is registered, and ioredis breaks an auto-pipeline that was already queued
 * when a command is defined (the queued pipeline lacks the new command, the
 * call fails, and the pipeline's answer then throws outside any request,
 * ioredis issue #1931). The shared client may have such a pipeline queued by
 * then, since the senders' sweeps start before this plugin; this connection
 * has sent nothing when the store defines its commands.
 */
import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { closeRedis, logErrors } from '../../redis-connection.js'

export default fp(async function rateLimit (fastify) {
  const { max, windowMs } = fastify.config.rateLimit
  if (max === 0) return
  const redis = fastify.redis.duplicate({ connectionName: 'fanout-rate-limit' })
  // A duplicate has none of the original's listeners.
  logErrors(redis, 'fanout-rate-limit', fastify.log)
  fastify.addHook('onClose', async () => { await closeRedis(redis) })
  await fastify.register(fastifyRateLimit, {
    global: true,
    max,
    timeWindow: windowMs,
    redis,
    nameSpace: fastify.redisKeys.rateLimit,
    enableDraftSpec: true,
    keyGenerator: (request) => request.apiKeyId !== undefined
      ? `key:${request.apiKeyId}`
      : request.isAdmin ? 'admin' : `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => Object.assign(
      new Error(`too many requests: at most ${context.max} per ${windowMs / 1000} s for one key; retry in ${context.after}`),
      { statusCode: context.statusCode, code: 'RATE_LIMITED' }
    )
  })
}, { name: 'rate-limit', dependencies: ['config', 'redis', 'auth'] })
