/**
 * Runs the dispatcher's outbox recovery on a BullMQ job scheduler, so that
 * with many processes exactly one of them sweeps at a time.
 */
import { Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { Dispatcher } from './dispatcher.js'

const QUEUE = 'maintenance'
const SWEEP = 'outbox-sweep'

export interface OutboxSweeper {
  close (): Promise<void>
}

export async function startOutboxSweeper (options: {
  connection: Redis
  prefix: string
  dispatcher: Dispatcher
  everyMs: number
  log: FastifyBaseLogger
}): Promise<OutboxSweeper> {
  const { connection, prefix, dispatcher, everyMs, log } = options
  const queue = new Queue(QUEUE, { connection, prefix })
  // A dispatch still in the outbox after a whole period was abandoned mid-accept by its process.
  const worker = new Worker(QUEUE, async () => await dispatcher.recoverOutbox(Date.now() - everyMs), {
    connection, prefix, concurrency: 1
  })
  worker.on('error', (err) => log.error({ err }, 'outbox sweeper error'))
  await queue.upsertJobScheduler(SWEEP, { every: everyMs }, {
    name: SWEEP,
    opts: { removeOnComplete: true, removeOnFail: 100 }
  })
  return {
    async close () {
      await worker.close()
      await queue.close()
    }
  }
}
