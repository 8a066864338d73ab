/**
 * The queueing baseline: bare BullMQ on the same Redis, shaped like the
 * service's use of it (a queue per messenger, one addBulk per queue, jobs
 * removed when done) but with nothing else: no records of our own, no
 * limiter, a processor that does nothing.
 */
import { Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { MESSENGERS } from '../src/model/messenger.js'
import { redisClient } from './support.js'

export interface BareQueues {
  queues: Array<Queue<{ user: string }>>
  connection: Redis
  close (): Promise<void>
}

export function bareQueues (prefix: string): BareQueues {
  const connection = redisClient('bench-bare-queues')
  const queues = MESSENGERS.map((m) => new Queue<{ user: string }>(m, { connection, prefix }))
  return {
    queues,
    connection,
    async close () {
      await Promise.all(queues.map((q) => q.close()))
      connection.disconnect()
    }
  }
}

/** Adds `count` jobs spread evenly over the queues (one addBulk each, concurrently); `delayMs` > 0 schedules them. */
export async function addJobs (bare: BareQueues, count: number, delayMs = 0, idPrefix = 'job'): Promise<void> {
  await Promise.all(bare.queues.map(async (queue, q) => {
    const jobs = []
    for (let i = q; i < count; i += bare.queues.length) {
      jobs.push({ name: 'send', data: { user: 'bench' }, opts: { jobId: `${idPrefix}-${i}`, delay: delayMs, removeOnComplete: true, removeOnFail: true } })
    }
    if (jobs.length > 0) await queue.addBulk(jobs)
  }))
}

/**
 * `count` jobs through bare BullMQ: a no-op worker per queue with
 * `concurrency` each, started first; then the jobs are added. Returns the
 * seconds from the add to the last job completed.
 */
export async function bareQueueThroughput (prefix: string, count: number, concurrency: number): Promise<number> {
  const bare = bareQueues(prefix)
  let done = 0
  let resolveAll: () => void = () => {}
  const allDone = new Promise<void>((resolve) => { resolveAll = resolve })
  const connections: Redis[] = []
  const workers = bare.queues.map((queue) => {
    const connection = redisClient('bench-bare-worker')
    connections.push(connection)
    const worker = new Worker(queue.name, async () => {}, { connection, prefix, concurrency })
    worker.on('completed', () => { if (++done === count) resolveAll() })
    return worker
  })
  await Promise.all(workers.map((w) => w.waitUntilReady()))
  const started = performance.now()
  await addJobs(bare, count)
  await allDone
  const seconds = (performance.now() - started) / 1000
  await Promise.all(workers.map((w) => w.close()))
  for (const c of connections) c.disconnect()
  await bare.close()
  return seconds
}
