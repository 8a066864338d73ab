/**
 * The senders (role `all` or `worker`): a messenger adapter and a BullMQ
 * worker per messenger, the dispatch worker (release, expire) and the
 * maintenance sweeps. On close, workers finish the jobs they hold before
 * their connections and pools go (with Redis away, at once: see closeWithin).
 */
import fp from 'fastify-plugin'
import { createDispatchWorker } from '../../deliveries/dispatch-jobs.js'
import { startMaintenance } from '../../deliveries/maintenance.js'
import { createSendWorker, type SendHooks, type SendWorker } from '../../deliveries/send-worker.js'
import { createAdapters } from '../../messengers/index.js'
import { MESSENGERS } from '../../model/messenger.js'
import { closeRedis, closeWithin, connectRedis, type RedisClient } from '../../redis-connection.js'

/** A send holds a worker at most SEND_TIMEOUT_MS; a shutdown (20 s of grace, src/server.ts) waits this long for workers. */
const WORKER_CLOSE_GRACE_MS = 12_000

export default fp(async function senders (fastify) {
  const { config, redisKeys } = fastify
  const adapters = createAdapters(config.messengers, config.delivery.sendTimeoutMs)
  const connections: RedisClient[] = []
  const connect = (name: string) => {
    const connection = connectRedis(config.redis, 'worker', name, fastify.log)
    connections.push(connection)
    return connection
  }

  const { addressFacts, contacts, receipts } = fastify
  const hooks: SendHooks = {
    whatsappWindow: async (address) => await addressFacts.whatsappWindow(address),
    track: async (messenger, providerId, deliveryId, user) => { await receipts.track(messenger, providerId, deliveryId, user) },
    unreachable: async (messenger, address, unreachable, at) => { await addressFacts.markUnreachable(messenger, address, unreachable, at) },
    reachable: async (messenger, address, at) => { await addressFacts.noteAlive(messenger, address, at) },
    async chatMoved (user, contact, from, to) {
      // Only while the contact still has the old id: an edit in between wins.
      if ((await contacts.get(user, contact))?.telegram !== from) return
      await contacts.patch(user, contact, { telegram: to })
      fastify.log.info({ user, contact, from, to }, 'a Telegram group became a supergroup: the contact follows it')
    }
  }

  const senders: SendWorker[] = MESSENGERS.map((messenger) => {
    const sender = createSendWorker({
      adapter: fastify.metrics.countSends(adapters[messenger]),
      deliveries: fastify.deliveries,
      queue: fastify.sendQueues[messenger],
      connection: connect(`fanout-send-${messenger}`),
      prefix: redisKeys.queuePrefix,
      concurrency: config.messengers[messenger].concurrency,
      ratePerSecond: config.messengers[messenger].ratePerSecond,
      breaker: config.breaker,
      retry: {
        attempts: config.delivery.attempts,
        baseDelayMs: config.delivery.retryBaseDelayMs,
        maxDelayMs: config.delivery.retryMaxDelayMs
      },
      lockDurationMs: config.delivery.lockDurationMs,
      stalledIntervalMs: config.delivery.stalledIntervalMs,
      hooks,
      log: fastify.log
    })
    fastify.metrics.watchBreaker(messenger, sender.breaker)
    return sender
  })
  const dispatchWorker = createDispatchWorker({
    connection: connect('fanout-dispatches'),
    prefix: redisKeys.queuePrefix,
    deliveries: fastify.deliveries,
    sendQueues: fastify.sendQueues,
    batched: MESSENGERS.filter((messenger) => config.messengers[messenger].ratePerSecond === 0),
    log: fastify.log
  })
  const maintenance = await startMaintenance({
    connection: connect('fanout-maintenance'),
    prefix: redisKeys.queuePrefix,
    dispatcher: fastify.dispatcher,
    deliveries: fastify.deliveries,
    outboxSweepMs: config.delivery.outboxSweepMs,
    retentionSeconds: config.delivery.retentionSeconds,
    retentionSweepMs: config.delivery.retentionSweepMs,
    log: fastify.log
  })
  fastify.log.info({ messengers: Object.fromEntries(MESSENGERS.map((m) => [m, adapters[m].displayUrl])) }, 'senders started')

  fastify.addHook('onClose', async () => {
    // Senders finish what they hold (a send in flight is recorded), within the shutdown's grace.
    await closeWithin(dispatchWorker, fastify.redis, WORKER_CLOSE_GRACE_MS)
    await Promise.all(senders.map(async ({ worker }) => await closeWithin(worker, fastify.redis, WORKER_CLOSE_GRACE_MS)))
    for (const { breaker } of senders) breaker.shutdown()
    await maintenance.close()
    await Promise.all(MESSENGERS.map((messenger) => adapters[messenger].close()))
    await Promise.all(connections.map(closeRedis))
  })
}, { name: 'senders', dependencies: ['config', 'deliveries', 'metrics', 'addresses', 'contacts'] })
