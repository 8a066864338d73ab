/**
 * The pending sends: one BullMQ queue per messenger, so that a slow or failing
 * messenger only ever fills its own queue and its own workers.
 */
import { Queue, type JobsOptions } from 'bullmq'
import type { Redis } from 'ioredis'
import { MESSENGERS, type Messenger } from '../messengers/messenger.js'
import type { WaitingLeg } from './delivery-store.js'

/** A job carries nothing: its id names the delivery, whose record holds the rest (read when it is sent). */
export type SendJobData = Record<string, never>

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

/**
 * A send job's id: the delivery id, and after a redrive its generation, so
 * queueing the same leg twice (outbox recovery) is a no-op while a redriven
 * leg gets a new job even if its old one has not left the queue yet.
 */
export function sendJobId (leg: WaitingLeg): string {
  return leg.generation === 0 ? leg.id : `${leg.id}#${leg.generation}`
}

/** The delivery and generation a send job is for. */
export function parseSendJobId (jobId: string): { id: string, generation: number } {
  const [id = '', generation = '0'] = jobId.split('#')
  return { id, generation: Number(generation) }
}

export function sendJobOptions (leg: WaitingLeg): JobsOptions {
  return {
    jobId: sendJobId(leg),
    attempts: BULLMQ_ATTEMPTS,
    backoff: { type: SEND_BACKOFF },
    // The delivery record keeps the outcome; finished jobs would only take memory.
    removeOnComplete: true,
    removeOnFail: true
  }
}

/** Adds the legs' jobs to their messengers' queues, to be sent now (a pipelined bulk add per queue). */
export async function enqueueLegs (queues: SendQueues, legs: readonly WaitingLeg[]): Promise<void> {
  await Promise.all(MESSENGERS.map(async (messenger) => {
    const jobs = legs
      .filter((leg) => leg.messenger === messenger)
      .map((leg) => ({ name: SEND_JOB, data: {}, opts: sendJobOptions(leg) }))
    if (jobs.length > 0) await queues[messenger].addBulk(jobs)
  }))
}

export async function closeSendQueues (queues: SendQueues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()))
}
