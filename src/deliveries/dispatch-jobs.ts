/**
 * Dispatch-level jobs, one BullMQ queue for all messengers:
 *
 *   release  at send_at (or at once): moves the dispatch's `scheduled` deliveries
 *            to `queued` and adds their send jobs (send-queues.ts). A dispatch
 *            scheduled for later costs one delayed job, not one per delivery,
 *            and accepting a large fan-out is one record write and one job.
 *   expire   at expires_at: every delivery still waiting ends `expired`.
 *
 * Deliveries held for their contact's local window are due later than
 * send_at: one more release job per such time (`releaseTimes`).
 *
 * Job ids are derived from the dispatch id and its revision (bumped by each
 * edit), so adding them again (outbox recovery) is a no-op while they wait,
 * and both processors are idempotent. A job carries its revision: one left
 * over from before an edit finds the dispatch at another and does nothing,
 * whether or not the edit managed to remove it.
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
  /** The dispatch's revision the job was added for (absent: 0, jobs from before edits). */
  rev?: number
  /** A release job's time (epoch ms). */
  at?: number
}

/** What scheduling needs of a dispatch. */
export interface SchedulableDispatch {
  id: string
  rev?: number
  sendAt: number
  expiresAt?: number
  releaseTimes?: readonly number[]
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

const revision = (dispatch: SchedulableDispatch) => (dispatch.rev ?? 0) === 0 ? '' : `-r${dispatch.rev}`

/** The ids of a dispatch's jobs: release at send_at, release at each later release time, expire. */
export function dispatchJobIds (dispatch: SchedulableDispatch): { release: string[], expire?: string } {
  const base = `${dispatch.id}${revision(dispatch)}`
  return {
    release: [`release-${base}`, ...(dispatch.releaseTimes ?? []).map((at) => `release-${base}-t${at}`)],
    ...(dispatch.expiresAt !== undefined && { expire: `expire-${base}` })
  }
}

/**
 * Adds a dispatch's release jobs (at send_at, and at each later release
 * time; with `from`, only those due after it) and its expire job (at
 * expires_at, if any).
 */
export async function scheduleDispatch (queue: DispatchQueue, dispatch: SchedulableDispatch, now = Date.now(), from = -Infinity): Promise<void> {
  const rev = dispatch.rev ?? 0
  const ids = dispatchJobIds(dispatch)
  const times = [dispatch.sendAt, ...(dispatch.releaseTimes ?? [])]
  const jobs: Array<{ name: DispatchJobName, data: DispatchJobData, opts: JobsOptions }> = []
  times.forEach((at, i) => {
    if (i === 0 || at > from) jobs.push({ name: 'release', data: { dispatch: dispatch.id, rev, at }, opts: jobOptions(ids.release[i]!, at - now) })
  })
  if (ids.expire !== undefined) jobs.push({ name: 'expire', data: { dispatch: dispatch.id, rev }, opts: jobOptions(ids.expire, dispatch.expiresAt! - now) })
  if (jobs.length === 1) {
    // One job: a plain add. addBulk builds an ioredis pipeline, which copies every BullMQ script onto it.
    await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts)
    return
  }
  await queue.addBulk(jobs)
}

/**
 * Removes a dispatch's jobs, as far as they wait (an active one stays: its
 * revision check makes it harmless). Best effort: what is left does nothing.
 */
export async function unscheduleDispatch (queue: DispatchQueue, dispatch: SchedulableDispatch): Promise<void> {
  const ids = dispatchJobIds(dispatch)
  await Promise.all([...ids.release, ...(ids.expire === undefined ? [] : [ids.expire])].map(async (id) => await queue.remove(id)))
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
    const { dispatch, rev = 0, at } = job.data
    if (job.name === 'release') {
      const waiting = await deliveries.release(dispatch, undefined, { rev, ...(at !== undefined && { at }) })
      await enqueueDeliveries(sendQueues, waiting, options.batched)
      log.debug({ dispatch, deliveries: waiting.length }, 'dispatch released to the send queues')
    } else {
      const expired = await deliveries.expire(dispatch, rev)
      if (expired > 0) log.info({ dispatch, deliveries: expired }, 'dispatch expired: its waiting deliveries will not be sent')
    }
  }, { connection: options.connection, prefix: options.prefix, concurrency: 4 })
  logErrors(worker, 'fanout-dispatches-worker', log)
  return worker
}
