/**
 * Status webhooks to the users' own endpoints (`fastify.statusWebhooks`):
 * the endpoint store and the queue's producer in every process; in a
 * process with senders (role `all` or `worker`) also the relay, which moves
 * recorded events into the queue, and the worker that sends them. Not the
 * messengers' receipts, which come in (plugins/app/messenger-webhooks.ts, routes/webhooks/).
 */
import fp from 'fastify-plugin'
import type { Worker } from 'bullmq'
import { closeRedis, closeWithin, connectRedis, logErrors, type RedisClient } from '../../redis-connection.js'
import { createEndpointStore, type EndpointStore } from '../../webhooks/endpoint-store.js'
import { startEventRelay, type EventRelay } from '../../webhooks/event-relay.js'
import { createSafeAgent } from '../../webhooks/safe-agent.js'
import { createSecretBox } from '../../webhooks/secret-box.js'
import { createStatusWebhookQueue, type StatusWebhookJob, type StatusWebhookQueue } from '../../webhooks/status-webhook-queue.js'
import { createStatusWebhookWorker } from '../../webhooks/status-webhook-worker.js'

export interface StatusWebhooks {
  endpoints: EndpointStore
  queue: StatusWebhookQueue
  /** Present in a process with senders. */
  relay?: EventRelay
  worker?: Worker<StatusWebhookJob>
}

declare module 'fastify' {
  interface FastifyInstance {
    statusWebhooks: StatusWebhooks
  }
}

export default fp(async function statusWebhooks (fastify) {
  const { config, redisKeys } = fastify
  const settings = config.statusWebhooks
  const endpoints = createEndpointStore(fastify.redis, redisKeys, createSecretBox(settings.secretKey))
  const queueConnection = connectRedis(config.redis, 'queue', 'fanout-status-webhooks', fastify.log)
  const queue = createStatusWebhookQueue(queueConnection, redisKeys.queuePrefix)
  logErrors(queue, 'fanout-queue-status-webhooks', fastify.log)
  const hooks: StatusWebhooks = { endpoints, queue }
  fastify.decorate('statusWebhooks', hooks)

  let workerConnection: RedisClient | undefined
  const agent = createSafeAgent({ allowPrivate: settings.allowPrivate, connectTimeoutMs: settings.connectTimeoutMs, connections: settings.perEndpoint })
  if (config.role !== 'api') {
    workerConnection = connectRedis(config.redis, 'worker', 'fanout-status-webhook-worker', fastify.log)
    hooks.worker = createStatusWebhookWorker({
      connection: workerConnection,
      prefix: redisKeys.queuePrefix,
      store: endpoints,
      agent,
      concurrency: settings.concurrency,
      perEndpoint: settings.perEndpoint,
      timeoutMs: settings.timeoutMs,
      scheduleMs: settings.scheduleMs,
      disableAfterMs: settings.disableAfterMs,
      retentionSeconds: config.delivery.retentionSeconds,
      log: fastify.log
    })
    logErrors(hooks.worker, 'fanout-status-webhook-worker', fastify.log)
    hooks.relay = startEventRelay({
      store: endpoints,
      deliveries: fastify.deliveries,
      queue,
      intervalMs: settings.relayMs,
      scheduleMs: settings.scheduleMs,
      retentionSeconds: config.delivery.retentionSeconds,
      log: fastify.log
    })
  }

  fastify.addHook('onClose', async () => {
    await hooks.relay?.close()
    // An attempt lasts at most the timeout: wait that long for those in flight.
    if (hooks.worker !== undefined && workerConnection !== undefined) await closeWithin(hooks.worker, workerConnection, settings.timeoutMs + 1000)
    await closeWithin(queue, queueConnection, 5000)
    await agent.close()
    if (workerConnection !== undefined) await closeRedis(workerConnection)
    await closeRedis(queueConnection)
  })
}, { name: 'status-webhooks', dependencies: ['config', 'redis', 'deliveries'] })
