/** The contact book (`fastify.contacts`): MongoDB when configured, otherwise Redis. */
import fp from 'fastify-plugin'
import type { ContactStore } from '../../contacts/contact-store.js'
import { createMongoContactStore } from '../../contacts/mongo-contact-store.js'
import { createRedisContactStore } from '../../contacts/redis-contact-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    contacts: ContactStore
  }
}

export default fp(async function contacts (fastify) {
  const options = { maxContacts: fastify.config.limits.contactsPerUser }
  const store = fastify.mongo?.db !== undefined
    // The key prefix names the collection too, so deployments (and tests) sharing a database stay apart.
    ? await createMongoContactStore(fastify.mongo.db, `${fastify.config.redis.prefix}_contacts`, options)
    : createRedisContactStore(fastify.redis, fastify.redisKeys, options)
  fastify.log.info({ store: fastify.mongo?.db !== undefined ? 'mongodb' : 'redis' }, 'contact store ready')
  fastify.decorate('contacts', store)
}, { name: 'contacts', dependencies: ['config', 'redis', 'mongodb'] })
