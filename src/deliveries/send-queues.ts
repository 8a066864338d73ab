/**
 * The pending sends: one BullMQ queue per messenger, so that a slow or failing
 * messenger only ever fills its own queue and its own workers.
 *
 * Two kinds of job:
 *   send   one delivery: its id is the job's (see sendJobId); used for
 *          redriven deliveries, for retries, and for messengers with a rate
 *          limit (BullMQ's limiter counts jobs);
 *   batch  the first attempt of up to BATCH_SPAN deliveries of one dispatch
 *          (delivery indexes k*BATCH_SPAN .. (k+1)*BATCH_SPAN-1 on that messenger).
 *          BullMQ's own work per job (two Lua scripts of ~100 us of Redis and
 *          the worker's bookkeeping) then counts once per batch instead of once
 *          per delivery: it was most of the pipeline's cost. The sender still
 *          starts, sends and records each delivery on its own (send-worker.ts).
 */
import { Queue, type JobsOptions } from 'bullmq'
import type { RedisClient } from '../redis-connection.js'
import { MESSENGERS, type Messenger } from '../model/messenger.js'
import { deliveryId, deliveryIndexOf, dispatchOf } from '../model/delivery.js'
import type { WaitingDelivery } from './delivery-store.js'
import { sendQueueName } from '../redis-keys.js'

/** A send job carries nothing (its id names the delivery, whose record holds the rest); a batch its dispatch and delivery indexes. */
export type SendJobData = Record<string, never> | BatchJobData

export interface BatchJobData {
  dispatch: string
  /** Indexes of the dispatch's deliveries (stored as `legs`: jobs queued by earlier versions carry that name). */
  legs: number[]
}

export const SEND_JOB = 'send'
export const BATCH_JOB = 'batch'
/** Delivery indexes per batch: up to this many deliveries (a dispatch to one messenger), a third of it with all three. */
export const BATCH_SPAN = 100
/** Name of the custom backoff strategy the send workers register (see send-worker.ts). */
export const SEND_BACKOFF = 'messenger'

/**
 * BullMQ's attempt limit is set far above ours: the delivery record counts
 * attempts (including ones cut short by a crash) and the worker decides when
 * to give up, so both never disagree about a delivery's fate.
 */
const BULLMQ_ATTEMPTS = 1_000_000

export type SendQueues = Record<Messenger, Queue<SendJobData>>

export function createSendQueues (connection: RedisClient, prefix: string): SendQueues {
  const queue = (messenger: Messenger) => new Queue<SendJobData>(sendQueueName(messenger), { connection, prefix })
  return { telegram: queue('telegram'), whatsapp: queue('whatsapp'), viber: queue('viber') }
}

/**
 * A send job's id: the delivery id, and after a redrive its generation, so
 * queueing the same delivery twice (outbox recovery) is a no-op while a
 * redriven one gets a new job even if its old one has not left the queue yet.
 */
export function sendJobId (delivery: WaitingDelivery): string {
  return delivery.generation === 0 ? delivery.id : `${delivery.id}#${delivery.generation}`
}

/** The delivery and generation a send job is for. */
export function parseSendJobId (jobId: string): { id: string, generation: number } {
  const [id = '', generation = '0'] = jobId.split('#')
  return { id, generation: Number(generation) }
}

export function sendJobOptions (delivery: WaitingDelivery): JobsOptions {
  return {
    jobId: sendJobId(delivery),
    attempts: BULLMQ_ATTEMPTS,
    backoff: { type: SEND_BACKOFF },
    // The delivery record keeps the outcome; finished jobs would only take memory.
    removeOnComplete: true,
    removeOnFail: true
  }
}

/**
 * A batch's job id: fixed by the dispatch and the index range, whichever of its
 * deliveries are still waiting, so queueing a dispatch again (outbox recovery) is a
 * no-op while the batch waits and never puts one delivery in two batches.
 */
export function batchJobId (dispatch: string, batch: number): string {
  return `${dispatch}.b${batch}`
}

export function batchDeliveryIds (data: BatchJobData): string[] {
  return data.legs.map((index) => deliveryId(data.dispatch, index))
}

/**
 * Adds the deliveries' jobs to their messengers' queues, to be sent now (a
 * pipelined bulk add per queue). First attempts (generation 0) of the
 * messengers in `batched` go in batches; every other delivery gets a send job
 * of its own.
 */
export async function enqueueDeliveries (queues: SendQueues, deliveries: readonly WaitingDelivery[], batched: readonly Messenger[] = []): Promise<void> {
  await Promise.all(MESSENGERS.map(async (messenger) => {
    const jobs: Array<{ name: string, data: SendJobData, opts: JobsOptions }> = []
    const batches = new Map<string, BatchJobData>()
    for (const delivery of deliveries) {
      if (delivery.messenger !== messenger) continue
      if (delivery.generation !== 0 || !batched.includes(messenger)) {
        jobs.push({ name: SEND_JOB, data: {}, opts: sendJobOptions(delivery) })
        continue
      }
      const dispatch = dispatchOf(delivery.id)
      const index = deliveryIndexOf(delivery.id)
      const id = batchJobId(dispatch, Math.floor(index / BATCH_SPAN))
      const batch = batches.get(id)
      if (batch === undefined) batches.set(id, { dispatch, legs: [index] })
      else batch.legs.push(index)
    }
    for (const [jobId, data] of batches) jobs.push({ name: BATCH_JOB, data, opts: { ...sendJobOptions({ id: jobId, messenger, generation: 0 }), jobId } })
    if (jobs.length > 0) await queues[messenger].addBulk(jobs)
  }))
}
