/**
 * The shared Redis connection (`fastify.redis`) for records and contacts,
 * to one server, a cluster or a master behind Sentinel (redis-connection.ts);
 * closed with the app.
 */
import fastifyRedis from '@fastify/redis'
import fp from 'fastify-plugin'
import { closeRedis, connectRedis } from '../../redis-connection.js'

export default fp(async function redis (fastify) {
  const client = connectRedis(fastify.config.redis, 'commands', 'fanout-api', fastify.log)
  // @fastify/redis types its decorator as a single-server client; a Cluster offers the same commands.
  await fastify.register(fastifyRedis, { client: client as never })
  fastify.addHook('onClose', async () => { await closeRedis(client) })
}, { name: 'redis', dependencies: ['config'] })
