/**
 * A rate limit per API key (per client address for requests without one),
 * counted in Redis so every API process shares the count (@fastify/rate-limit
 * with its Redis store). Answers carry `RateLimit-Limit`, `RateLimit-Remaining`
 * and `RateLimit-Reset`; a refused request is a 429 with `Retry-After`.
 * RATE_LIMIT_MAX=0 turns it off. /health is never limited (probes poll it).
 *
 * Its hook is added to each route and runs after the authentication hooks, so
 * the key is known; a request with bad credentials is refused before it counts.
 */
import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'

export default fp(async function rateLimit (fastify) {
  const { max, windowMs } = fastify.config.rateLimit
  if (max === 0) return
  await fastify.register(fastifyRateLimit, {
    global: true,
    max,
    timeWindow: windowMs,
    redis: fastify.redis,
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
