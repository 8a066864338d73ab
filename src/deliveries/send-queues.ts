/**
 * The pending sends: one BullMQ queue per messenger, so that a slow or failing
 * messenger only ever fills its own queue and its own workers.
 */
import { Queue, type JobsOptions } from 'bullmq'
import type { Redis } from 'ioredis'
import { MESSENGERS, type Messenger } from '../messengers/messenger.js'
import type { PendingLeg } from './delivery-store.js'

/** What a job carries: the rest is in the delivery record, read when it is sent. */
export interface SendJobData {
  user: string
}

export const SEND_JOB = 'send'
/** Name of the custom backoff strategy the send workers register (see send-worker.ts). */
export const SEND_BACKOFF = 'messenger'

/**
 * BullMQ's attempt limit is set far above ours: the delivery record counts
 * attempts (including ones cut short by a crash) and the worker decides when
 * to give up, so both never disagree about a delivery's fate.
 */
const BULLMQ_ATTEMPTS = 1_000_000

export type SendQueues = Record<Messenger, Queue<SendJobData>>

export function createSendQueues (connection: Redis, prefix: string): SendQueues {
  const queue = (messenger: Messenger) => new Queue<SendJobData>(messenger, { connection, prefix })
  return { telegram: queue('telegram'), whatsapp: queue('whatsapp'), viber: queue('viber') }
}

export function sendJobOptions (deliveryId: string, delayMs: number): JobsOptions {
  return {
    // The delivery id as job id: adding the same leg twice (outbox recovery) is a no-op.
    jobId: deliveryId,
    delay: Math.max(0, delayMs),
    attempts: BULLMQ_ATTEMPTS,
    backoff: { type: SEND_BACKOFF },
    // The delivery record keeps the outcome; finished jobs would only take memory.
    removeOnComplete: true,
    removeOnFail: true
  }
}

/** Adds the legs' jobs to their messengers' queues (a pipelined bulk add per queue). */
export async function enqueueLegs (queues: SendQueues, legs: readonly PendingLeg[], now = Date.now()): Promise<void> {
  await Promise.all(MESSENGERS.map(async (messenger) => {
    const jobs = legs
      .filter((leg) => leg.messenger === messenger)
      .map((leg) => ({ name: SEND_JOB, data: { user: leg.user }, opts: sendJobOptions(leg.id, leg.sendAt - now) }))
    if (jobs.length > 0) await queues[messenger].addBulk(jobs)
  }))
}

export async function closeSendQueues (queues: SendQueues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()))
}
