/**
 * The status webhooks' queue: one BullMQ queue of its own (STATUS_WEBHOOK_QUEUE,
 * its own slot on a cluster), never the request's or the senders' path. A
 * job is one message (webhook-id) to one endpoint; its id is
 * `<message id>.<endpoint id>`, so the relay adding it twice (a crash between
 * the add and the drop of its events) adds nothing.
 *
 * At least once: a job is retried on any failure on the schedule
 * (WEBHOOK_RETRY_SCHEDULE_MS, by default Svix's: 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h, about 28 hours in all), each delay within ±20 % (jitter,
 * so endpoints that come back are not hit by every retry at once).
 */
import { Queue, type JobsOptions } from 'bullmq'
import type { RedisClient } from '../redis-connection.js'
import { STATUS_WEBHOOK_QUEUE } from '../redis-keys.js'
import type { MessageType } from '../model/status-event.js'

export interface StatusWebhookJob {
  user: string
  endpoint: string
  /** The message's webhook-id: its body is stored under it (EndpointStore.saveMessage). */
  message: string
  type: MessageType
  /** A test event or a retry asked for: sent to a disabled endpoint too, once. */
  manual?: boolean
}

export type StatusWebhookQueue = Queue<StatusWebhookJob>

/** The custom backoff's name (the worker registers the strategy). */
export const STATUS_WEBHOOK_BACKOFF = 'status-webhook'

export function createStatusWebhookQueue (connection: RedisClient, prefix: string): StatusWebhookQueue {
  return new Queue<StatusWebhookJob>(STATUS_WEBHOOK_QUEUE, { connection, prefix })
}

/** The job options of a message: its retries follow the schedule; one asked for by hand is tried once. */
export function jobOptions (jobId: string, scheduleMs: readonly number[], manual = false): JobsOptions {
  return {
    jobId,
    attempts: manual ? 1 : scheduleMs.length + 1,
    backoff: { type: STATUS_WEBHOOK_BACKOFF },
    // Kept an hour: long enough for a relay's repeated add to find it and add nothing.
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 24 * 3600 }
  }
}

/** The delay before try `failures + 1`: the schedule's entry, ±20 %. */
export function retryDelayMs (scheduleMs: readonly number[], failures: number, random = Math.random): number {
  const base = scheduleMs[Math.min(failures, scheduleMs.length) - 1] ?? 0
  return Math.round(base * (0.8 + 0.4 * random()))
}
