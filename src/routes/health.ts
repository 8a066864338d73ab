/** Liveness and readiness: up when Redis answers (and MongoDB, when configured). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { RequestErrors } from '../schemas/common.js'

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  redis: Type.Boolean(),
  mongodb: Type.Optional(Type.Boolean())
})

const health: FastifyPluginAsyncTypebox = async function (fastify) {
  fastify.get('/health', {
    // Probes poll it; it holds no user data.
    config: { rateLimit: false },
    schema: { tags: ['health'], summary: 'Is the service able to serve?', response: { 200: Health, 503: Health, ...RequestErrors } }
  }, async (_request, reply) => {
    const redis = await fastify.redis.ping().then(() => true, () => false)
    const mongodb = fastify.config.mongodb === undefined
      ? undefined
      : await fastify.mongo.db?.command({ ping: 1 }).then(() => true, () => false) ?? false
    const ok = redis && mongodb !== false
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', redis, ...(mongodb !== undefined && { mongodb }) })
  })
}

export default health
