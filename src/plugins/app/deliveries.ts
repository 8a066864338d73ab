/**
 * The delivery side every process needs: records (`fastify.deliveries`), the
 * send and dispatch queues, the fan-out (`fastify.dispatcher`) and the
 * receipts (`fastify.receipts`), which tell the address facts what they say
 * of an address's health.
 */
import fp from 'fastify-plugin'
import { createDeliveryStore, type DeliveryStore } from '../../deliveries/delivery-store.js'
import { createDispatchQueue, type DispatchQueue } from '../../deliveries/dispatch-jobs.js'
import { createDispatcher, type Dispatcher } from '../../deliveries/dispatcher.js'
import { createReceipts, type Receipts } from '../../deliveries/receipts.js'
import { createSendQueues, type SendQueues } from '../../deliveries/send-queues.js'
import { notReplicated } from '../../errors.js'
import { closeRedis, closeWithin, connectRedis, logErrors, waitForReplicas } from '../../redis-connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    deliveries: DeliveryStore
    sendQueues: SendQueues
    dispatchQueue: DispatchQueue
    dispatcher: Dispatcher
    receipts: Receipts
  }
}

export default fp(async function deliveries (fastify) {
  const { config, redisKeys } = fastify
  const { minReplicasAck } = config.redis
  // A send's records are written on a connection of their own, whose command timeout lets a 100,000-delivery script finish.
  const writeConnection = connectRedis(config.redis, 'writes', 'fanout-dispatch-writes', fastify.log)
  const store = createDeliveryStore(fastify.redis, redisKeys, writeConnection)
  // Producers get their own connection: BullMQ sets it up for its scripts.
  const queueConnection = connectRedis(config.redis, 'queue', 'fanout-queues', fastify.log)
  const queues = createSendQueues(queueConnection, redisKeys.queuePrefix)
  const dispatchQueue = createDispatchQueue(queueConnection, redisKeys.queuePrefix)
  const producers = [...Object.values(queues), dispatchQueue]
  for (const queue of producers) logErrors(queue, `fanout-queue-${queue.name}`, fastify.log)
  fastify.decorate('deliveries', store)
  fastify.decorate('sendQueues', queues)
  fastify.decorate('dispatchQueue', dispatchQueue)
  // A message's record lives as long as its delivery, and a day more: receipts come late.
  const { addressFacts } = fastify
  fastify.decorate('receipts', createReceipts(fastify.redis, redisKeys, store, {
    keepSeconds: config.delivery.retentionSeconds + 24 * 3600,
    async heard (messenger, address, reports) {
      await addressFacts.noteReceipts(messenger, address, reports).catch((err: unknown) => {
        fastify.log.warn({ err, messenger }, 'could not note what receipts said of an address\'s health')
      })
    }
  }))
  fastify.decorate('dispatcher', createDispatcher({
    contacts: fastify.contacts,
    deliveries: store,
    queues,
    dispatchQueue,
    dedupWindowSeconds: config.delivery.dedupWindowSeconds,
    maxDeliveries: config.limits.deliveriesPerDispatch,
    // A delivery sending or queued for two locks' time has lost its job (its sender would have been replaced after one).
    reconcile: { graceMs: config.delivery.outboxSweepMs, stuckMs: 2 * config.delivery.lockDurationMs },
    defaultZone: config.timeZone,
    unreachable: async (planned) => await addressFacts.unreachable(planned),
    skipUnreachableDefault: async (user) => (await fastify.userSettings.get(user)).skipUnreachable,
    ...(minReplicasAck > 0 && {
      async replicated (dispatchId: string) {
        // The records and the outbox entry may be on two masters (a cluster): each must have its replicas.
        // WAIT counts one connection's writes: the records' and the outbox entry's.
        const acks = Math.min(...await Promise.all([
          waitForReplicas(writeConnection, [redisKeys.dispatch(dispatchId)], minReplicasAck, config.redis.replicaAckTimeoutMs),
          waitForReplicas(fastify.redis, [redisKeys.outbox], minReplicasAck, config.redis.replicaAckTimeoutMs)
        ]))
        if (acks < minReplicasAck) throw notReplicated(minReplicasAck, config.redis.replicaAckTimeoutMs)
      }
    }),
    log: fastify.log
  }))
  fastify.addHook('onClose', async () => {
    await Promise.all(producers.map(async (queue) => await closeWithin(queue, queueConnection, 5000)))
    await closeRedis(queueConnection)
    await closeRedis(writeConnection)
  })
}, { name: 'deliveries', dependencies: ['config', 'redis', 'contacts', 'addresses', 'user-settings'] })
