/**
 * The delivery side every process needs: records (`fastify.deliveries`),
 * the send queues (`fastify.sendQueues`) and the fan-out (`fastify.dispatcher`).
 */
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { createDeliveryStore, type DeliveryStore } from '../../deliveries/delivery-store.js'
import { createDispatcher, type Dispatcher } from '../../deliveries/dispatcher.js'
import { closeSendQueues, createSendQueues, type SendQueues } from '../../deliveries/send-queues.js'

declare module 'fastify' {
  interface FastifyInstance {
    deliveries: DeliveryStore
    sendQueues: SendQueues
    dispatcher: Dispatcher
  }
}

export default fp(async function deliveries (fastify) {
  const { config, redisKeys } = fastify
  const store = createDeliveryStore(fastify.redis, redisKeys, config.delivery.retentionSeconds)
  // Producers get their own connection: BullMQ sets it up for its scripts.
  const queueConnection = new Redis(config.redis.url, { maxRetriesPerRequest: 2, connectionName: 'fanout-queues' })
  const queues = createSendQueues(queueConnection, redisKeys.queuePrefix)
  fastify.decorate('deliveries', store)
  fastify.decorate('sendQueues', queues)
  fastify.decorate('dispatcher', createDispatcher({ contacts: fastify.contacts, deliveries: store, queues, log: fastify.log }))
  fastify.addHook('onClose', async () => {
    await closeSendQueues(queues)
    await queueConnection.quit()
  })
}, { name: 'deliveries', dependencies: ['config', 'redis', 'contacts'] })
