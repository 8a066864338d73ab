/** The users' own settings (`fastify.userSettings`, /v1/settings): what applies to a user's sends that do not say. */
import fp from 'fastify-plugin'
import { createUserSettingsStore, type UserSettingsStore } from '../../users/user-settings.js'

declare module 'fastify' {
  interface FastifyInstance {
    userSettings: UserSettingsStore
  }
}

export default fp(async function userSettings (fastify) {
  const defaults = { skipUnreachable: fastify.config.delivery.skipUnreachableDefault }
  fastify.decorate('userSettings', createUserSettingsStore(fastify.redis, fastify.redisKeys, defaults))
}, { name: 'user-settings', dependencies: ['config', 'redis'] })
