/**
 * The senders: one BullMQ worker per messenger, each with its own concurrency
 * and connection pool, so a slow or failing messenger holds up nobody else.
 *
 * Per job: mark the delivery `sending` (counting the attempt), send it through
 * the messenger's adapter, record the outcome. A retryable failure puts the
 * delivery back to `queued` and throws, and BullMQ schedules the next attempt
 * with the backoff below; a permanent failure, or the last attempt, ends it
 * `failed`.
 */
import { Worker, type Job } from 'bullmq'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { MessengerAdapter } from '../messengers/adapter.js'
import type { DeliveryStore } from './delivery-store.js'
import { SEND_BACKOFF, type SendJobData } from './send-queues.js'

export interface RetryPolicy {
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
}

/** Thrown to BullMQ for a failure worth another attempt; carries the messenger's own wait, if it gave one. */
export class RetryableSendError extends Error {
  override name = 'RetryableSendError'
  constructor (message: string, readonly retryAfterMs?: number) {
    super(message)
  }
}

/**
 * Exponential backoff with equal jitter (half fixed, half random, so retries
 * of one burst spread out), never sooner than the messenger asked.
 */
export function retryDelay (policy: RetryPolicy, failures: number, retryAfterMs = 0, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1))
  return Math.max(retryAfterMs, Math.round(exponential / 2 + random() * exponential / 2))
}

export interface SendWorkerOptions {
  adapter: MessengerAdapter
  deliveries: DeliveryStore
  connection: Redis
  prefix: string
  concurrency: number
  retry: RetryPolicy
  lockDurationMs: number
  stalledIntervalMs: number
  log: FastifyBaseLogger
}

export function createSendWorker (options: SendWorkerOptions): Worker<SendJobData> {
  const { adapter, deliveries, retry } = options
  const log = options.log.child({ messenger: adapter.messenger })
  const url = adapter.displayUrl

  async function finishFailed (id: string, user: string, attempts: number, lastError: string): Promise<void> {
    if (await deliveries.finish(id, user, 'failed', { url, lastError })) {
      log.info({ delivery: id, state: 'failed', attempts, error: lastError }, 'delivery state changed')
    }
  }

  async function process (job: Job<SendJobData>): Promise<void> {
    const id = job.id as string
    const { user } = job.data
    const started = await deliveries.start(id)
    if (started.kind !== 'send') {
      // Finished elsewhere (or gone with its retention): a redelivered job must not send twice.
      log.debug({ delivery: id, outcome: started.kind }, 'job for a delivery that is not pending; skipped')
      return
    }
    if (started.attempts > retry.attempts) {
      // Every start counts, including ones a crash cut short; a job that keeps killing its sender stops here.
      await finishFailed(id, user, started.attempts - 1, `gave up after ${retry.attempts} attempts (sender stopped mid-send)`)
      return
    }
    log.info({ delivery: id, state: 'sending', attempt: started.attempts }, 'delivery state changed')

    const outcome = await adapter.send({ address: started.address, text: started.text, idempotencyKey: id })

    if (outcome.result === 'delivered') {
      if (await deliveries.finish(id, user, 'delivered', { url, providerMessageId: outcome.providerMessageId })) {
        log.info({ delivery: id, state: 'delivered', attempts: started.attempts, providerMessageId: outcome.providerMessageId }, 'delivery state changed')
      }
      return
    }
    if (outcome.result === 'permanent' || started.attempts >= retry.attempts) {
      await finishFailed(id, user, started.attempts, outcome.error)
      return
    }
    if (!await deliveries.requeue(id, user, { url, lastError: outcome.error })) return // finished meanwhile
    log.info({ delivery: id, state: 'queued', attempts: started.attempts, error: outcome.error }, 'delivery state changed')
    throw new RetryableSendError(outcome.error, outcome.retryAfterMs)
  }

  const worker = new Worker<SendJobData>(adapter.messenger, process, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    // Stalls are counted as attempts by the delivery record (above); BullMQ's own limit is only a backstop.
    maxStalledCount: retry.attempts + 1,
    settings: {
      backoffStrategy: (failures, type, err) =>
        type === SEND_BACKOFF || type === undefined
          ? retryDelay(retry, failures, err instanceof RetryableSendError ? err.retryAfterMs : undefined)
          : 0
    }
  })

  worker.on('failed', (job, err) => {
    // BullMQ gave up on the job without our processor deciding (its stall backstop): record the failure.
    if (job === undefined || err.name !== 'UnrecoverableError') return
    finishFailed(job.id as string, job.data.user, job.attemptsStarted, err.message).catch((e: unknown) => {
      log.error({ err: e, delivery: job.id }, 'could not record a failed delivery')
    })
  })
  worker.on('error', (err) => log.error({ err }, 'send worker error'))
  return worker
}
