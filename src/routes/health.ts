/**
 * Liveness and readiness: up when Redis answers (and MongoDB, when
 * configured); when not, it says which is down. It answers within about
 * REDIS_COMMAND_TIMEOUT_MS even when Redis hangs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { RequestErrors } from '../schemas/common.js'

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  redis: Type.Boolean({ description: 'Redis answered a PING' }),
  redis_mode: Type.Union([Type.Literal('single'), Type.Literal('cluster'), Type.Literal('sentinel')]),
  redis_error: Type.Optional(Type.String({ description: 'Why Redis did not answer' })),
  mongodb: Type.Optional(Type.Boolean())
})

const health: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/health', {
    // Probes poll it; it holds no user data.
    config: { rateLimit: false },
    schema: { tags: ['health'], summary: 'Is the service able to serve? If not, what is down', response: { 200: Health, ...RequestErrors, 503: Health } }
  }, async (_request, reply) => {
    const redisError = await fastify.redis.ping().then(() => undefined, (err: Error) => err.message)
    const mongodb = fastify.config.mongodb === undefined
      ? undefined
      : await fastify.mongo.db?.command({ ping: 1 }).then(() => true, () => false) ?? false
    const ok = redisError === undefined && mongodb !== false
    return reply.status(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'unavailable',
      redis: redisError === undefined,
      redis_mode: fastify.config.redis.mode,
      ...(redisError !== undefined && { redis_error: redisError }),
      ...(mongodb !== undefined && { mongodb })
    })
  })
}

export default health
