/**
 * Periodic upkeep on BullMQ job schedulers (so that with many processes
 * exactly one runs each sweep at a time):
 *
 *   outbox-sweep     schedules what a process abandoned mid-accept, queues again what waited too
 *                    long (a lost job), forgets what is finished (dispatcher.reconcile)
 *   retention-sweep  deletes finished deliveries older than the retention
 */
import { Queue, Worker } from 'bullmq'
import { closeWithin, logErrors, type RedisClient } from '../redis-connection.js'
import type { FastifyBaseLogger } from 'fastify'
import { queueName } from '../redis-keys.js'
import type { Dispatcher } from './dispatcher.js'
import type { DeliveryStore } from './delivery-store.js'

const QUEUE = queueName('maintenance')
const OUTBOX_SWEEP = 'outbox-sweep'
const RETENTION_SWEEP = 'retention-sweep'
/** How long a shutdown waits for each of them. */
const CLOSE_GRACE_MS = 5000

export interface Maintenance {
  close (): Promise<void>
}

export async function startMaintenance (options: {
  connection: RedisClient
  prefix: string
  dispatcher: Dispatcher
  deliveries: DeliveryStore
  outboxSweepMs: number
  retentionSeconds: number
  retentionSweepMs: number
  log: FastifyBaseLogger
}): Promise<Maintenance> {
  const { connection, prefix, dispatcher, deliveries, log } = options
  const queue = new Queue(QUEUE, { connection, prefix })
  const worker = new Worker(QUEUE, async (job) => {
    if (job.name === OUTBOX_SWEEP) {
      return await dispatcher.reconcile(Date.now())
    }
    const before = Date.now() - options.retentionSeconds * 1000
    let purged = 0
    for (const user of await deliveries.users()) purged += await deliveries.purge(user, before)
    if (purged > 0) log.info({ deliveries: purged }, 'retention: finished deliveries past the retention deleted')
    return purged
  }, { connection, prefix, concurrency: 1 })
  logErrors(queue, 'fanout-maintenance-queue', log)
  logErrors(worker, 'fanout-maintenance-worker', log)
  const opts = { removeOnComplete: true, removeOnFail: 100 }
  await queue.upsertJobScheduler(OUTBOX_SWEEP, { every: options.outboxSweepMs }, { name: OUTBOX_SWEEP, opts })
  await queue.upsertJobScheduler(RETENTION_SWEEP, { every: options.retentionSweepMs }, { name: RETENTION_SWEEP, opts })
  return {
    async close () {
      // A sweep is idempotent: one cut short runs again on the next process.
      await closeWithin(worker, connection, CLOSE_GRACE_MS)
      await closeWithin(queue, connection, CLOSE_GRACE_MS)
    }
  }
}
