/** What the messengers told about addresses (`fastify.addressFacts`): WhatsApp windows, Viber subscriptions. */
import fp from 'fastify-plugin'
import { createAddressFacts, type AddressFacts } from '../../addresses/address-facts.js'

declare module 'fastify' {
  interface FastifyInstance {
    addressFacts: AddressFacts
  }
}

export default fp(async function addresses (fastify) {
  fastify.decorate('addressFacts', createAddressFacts(fastify.redis, fastify.redisKeys))
}, { name: 'addresses', dependencies: ['config', 'redis'] })
