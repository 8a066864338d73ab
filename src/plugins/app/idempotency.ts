/** The `Idempotency-Key` records of POST requests (`fastify.idempotency`), in Redis. */
import fp from 'fastify-plugin'
import { createIdempotencyStore, type IdempotencyStore } from '../../idempotency/idempotency-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    idempotency: IdempotencyStore
  }
}

export default fp(async function idempotency (fastify) {
  fastify.decorate('idempotency', createIdempotencyStore(fastify.redis, fastify.redisKeys))
}, { name: 'idempotency', dependencies: ['config', 'redis'] })
