/** The shared ioredis client (`fastify.redis`) for records and contacts; closed with the app. */
import fastifyRedis from '@fastify/redis'
import fp from 'fastify-plugin'
import { redisCredentials } from '../../config.js'

export default fp(async function redis (fastify) {
  await fastify.register(fastifyRedis, {
    url: fastify.config.redis.url,
    ...redisCredentials(fastify.config.redis),
    // Fail a request instead of queueing commands forever while Redis is away.
    maxRetriesPerRequest: 2,
    connectionName: 'fanout-api',
    enableAutoPipelining: true
  })
}, { name: 'redis', dependencies: ['config'] })
