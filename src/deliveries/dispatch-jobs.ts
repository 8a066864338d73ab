/**
 * Dispatch-level jobs, one BullMQ queue for all messengers:
 *
 *   release  at send_at (or at once): moves the dispatch's `scheduled` deliveries
 *            to `queued` and adds their send jobs (send-queues.ts). A dispatch
 *            scheduled for later costs one delayed job, not one per delivery,
 *            and accepting a large fan-out is one record write and one job.
 *   expire   at expires_at: every delivery still waiting ends `expired`.
 *
 * Job ids are derived from the dispatch id, so adding them again (outbox
 * recovery) is a no-op while they wait, and both processors are idempotent.
 */
import { Queue, Worker, type JobsOptions } from 'bullmq'
import { logErrors, type RedisClient } from '../redis-connection.js'
import type { FastifyBaseLogger } from 'fastify'
import type { Messenger } from '../model/messenger.js'
import { queueName } from '../redis-keys.js'
import type { DeliveryStore } from './delivery-store.js'
import { enqueueDeliveries, type SendQueues } from './send-queues.js'

const QUEUE = queueName('dispatches')

interface DispatchJobData {
  dispatch: string
}

type DispatchJobName = 'release' | 'expire'

export type DispatchQueue = Queue<DispatchJobData, unknown, DispatchJobName>

export function createDispatchQueue (connection: RedisClient, prefix: string): DispatchQueue {
  return new Queue<DispatchJobData, unknown, DispatchJobName>(QUEUE, { connection, prefix })
}

function jobOptions (jobId: string, delayMs: number): JobsOptions {
  return {
    jobId,
    delay: Math.max(0, delayMs),
    // Redis trouble while releasing is worth retrying; the processors are idempotent.
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    removeOnFail: 1000
  }
}

/** Adds a dispatch's release job (at send_at) and expire job (at expires_at, if any). */
export async function scheduleDispatch (queue: DispatchQueue, dispatch: { id: string, sendAt: number, expiresAt?: number }, now = Date.now()): Promise<void> {
  const data = { dispatch: dispatch.id }
  const release = jobOptions(`release-${dispatch.id}`, dispatch.sendAt - now)
  if (dispatch.expiresAt === undefined) {
    // One job: a plain add. addBulk builds an ioredis pipeline, which copies every BullMQ script onto it.
    await queue.add('release', data, release)
    return
  }
  await queue.addBulk([
    { name: 'release', data, opts: release },
    { name: 'expire', data, opts: jobOptions(`expire-${dispatch.id}`, dispatch.expiresAt - now) }
  ])
}

export function createDispatchWorker (options: {
  connection: RedisClient
  prefix: string
  deliveries: DeliveryStore
  sendQueues: SendQueues
  /** Messengers whose first attempts go in batch jobs: those without a rate limit (BullMQ's limiter counts jobs). */
  batched?: readonly Messenger[]
  log: FastifyBaseLogger
}): Worker<DispatchJobData, unknown, DispatchJobName> {
  const { deliveries, sendQueues, log } = options
  const worker = new Worker<DispatchJobData, unknown, DispatchJobName>(QUEUE, async (job) => {
    const { dispatch } = job.data
    if (job.name === 'release') {
      const waiting = await deliveries.release(dispatch)
      await enqueueDeliveries(sendQueues, waiting, options.batched)
      log.debug({ dispatch, deliveries: waiting.length }, 'dispatch released to the send queues')
    } else {
      const expired = await deliveries.expire(dispatch)
      if (expired > 0) log.info({ dispatch, deliveries: expired }, 'dispatch expired: its waiting deliveries will not be sent')
    }
  }, { connection: options.connection, prefix: options.prefix, concurrency: 4 })
  logErrors(worker, 'fanout-dispatches-worker', log)
  return worker
}
