/** Decorates the validated configuration as `fastify.config`. */
import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { redisKeys, type RedisKeys } from '../../redis-keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    redisKeys: RedisKeys
  }
}

export default fp<{ config: Config }>(async function config (fastify, opts) {
  fastify.decorate('config', opts.config)
  fastify.decorate('redisKeys', redisKeys(opts.config.redis.prefix))
}, { name: 'config' })
