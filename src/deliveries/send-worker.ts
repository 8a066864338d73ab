/**
 * The senders: one BullMQ worker per messenger, each with its own concurrency,
 * rate limit, circuit breaker and connection pool, so a slow, throttled or
 * dead messenger holds up nobody else.
 *
 * Per job: mark the delivery `sending` (counting the attempt), send it through
 * the messenger's adapter, record the outcome. A retryable failure puts the
 * delivery back to `queued` and throws, and BullMQ schedules the next attempt
 * with the backoff below; a permanent failure, or the last attempt, ends it
 * `failed`.
 *
 * While the messenger's breaker is open, jobs go back to the queue untouched
 * (no attempt counted) and the whole queue is held (BullMQ's manual rate
 * limit, which every process of the deployment obeys) until a probe may go.
 *
 * A batch job (send-queues.ts) carries the first attempt of many deliveries.
 * Its deliveries are started and sent one by one, as many at a time as the
 * messenger's concurrency allows (one count of sends in flight per process,
 * shared by every job), each exactly as a send job's: a retryable failure
 * gives the delivery a job of its own in its next generation, with the
 * backoff delay, added before the record moves back to `queued` (a crash in
 * between leaves it `sending` in the batch's generation, which the batch's
 * rerun sends again; the new job then finds it stale). A batch stops taking
 * new deliveries when the breaker opens or the worker closes, lets the sends
 * in flight finish, and goes back to the queue: whatever it had not started
 * waits there, and a rerun skips what is finished.
 */
import { Worker, type Job, type Queue } from 'bullmq'
import pLimit from 'p-limit'
import CircuitBreaker from 'opossum'
import { logErrors, type RedisClient } from '../redis-connection.js'
import type { FastifyBaseLogger } from 'fastify'
import type { MessengerAdapter, Unreachable, WhatsAppWindow } from '../messengers/adapter.js'
import { hasReceipts, type Messenger } from '../model/messenger.js'
import { sendQueueName } from '../redis-keys.js'
import type { DeliveryStore, StartResult } from './delivery-store.js'
import {
  BATCH_JOB, batchDeliveryIds, parseSendJobId, SEND_BACKOFF, SEND_JOB, sendJobOptions,
  type BatchJobData, type SendJobData
} from './send-queues.js'

export interface RetryPolicy {
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export interface BreakerPolicy {
  /** Open when this share (%) of judged sends failed retryably... */
  errorPercent: number
  /** ...out of at least this many... */
  minSends: number
  /** ...within this rolling window. */
  windowMs: number
  /** Stay open this long, then let one probe through. */
  resetMs: number
}

/**
 * Thrown to BullMQ for a failure worth another attempt; carries the messenger's
 * own wait, if it gave one, and the delivery's attempts so far (the backoff
 * grows with those, not with the job's own count: a retry out of a batch is a
 * new job).
 */
export class RetryableSendError extends Error {
  override name = 'RetryableSendError'
  constructor (message: string, readonly retryAfterMs?: number, readonly attempts?: number) {
    super(message)
  }
}

/**
 * The messenger answered with a retryable failure (5xx, timeout, throttle,
 * garbage): the one kind of outcome that counts against its breaker.
 * `retry` says whether the delivery waits for another attempt.
 */
class MessengerTrouble extends Error {
  constructor (readonly failure: RetryableSendError, readonly retry: boolean) {
    super(failure.message)
  }
}

/** How long rejected jobs wait while the breaker's single probe is out. */
const PROBE_WAIT_MS = 250

/**
 * Exponential backoff with equal jitter (half fixed, half random, so retries
 * of one burst spread out), never sooner than the messenger asked.
 */
export function retryDelay (policy: RetryPolicy, failures: number, retryAfterMs = 0, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1))
  return Math.max(retryAfterMs, Math.round(exponential / 2 + random() * exponential / 2))
}

/** One delivery to attempt: from a send job (its own generation) or from a batch (generation 0). */
interface Turn {
  id: string
  generation: number
  /**
   * A batch's delivery: takes the batch's next delivery to go on with
   * (undefined when there is none, or the batch stops). `withFinish`: it will
   * be started in the same call as this one's finish, which needs the breaker
   * closed.
   */
  takeNext?: (withFinish: boolean) => string | undefined
  /** Started already, together with the previous delivery's finish. */
  started?: StartResult
}

export interface SendWorkerOptions {
  adapter: MessengerAdapter
  deliveries: DeliveryStore
  /** The messenger's send queue: a retry out of a batch is added to it as a job of its own. */
  queue: Queue<SendJobData>
  connection: RedisClient
  prefix: string
  concurrency: number
  /** Sends per second at most, across all processes; 0: no limit. */
  ratePerSecond: number
  retry: RetryPolicy
  breaker: BreakerPolicy
  lockDurationMs: number
  stalledIntervalMs: number
  hooks: SendHooks
  log: FastifyBaseLogger
}

/** What a sender consults and tells beyond the delivery records. */
export interface SendHooks {
  /** WhatsApp: the person's 24-hour window, which decides between the text and the template. */
  whatsappWindow (address: string): Promise<WhatsAppWindow>
  /** A send of a messenger with receipts was accepted: its message id now finds the delivery (deliveries/receipts.ts). */
  track (messenger: Messenger, providerId: string, deliveryId: string, user: string): Promise<void>
  /** A Telegram group became a supergroup: the contact's id follows it. */
  chatMoved (user: string, contact: string, from: string, to: string): Promise<void>
  /** The send failed in a way that says the address is dead (recorded on the address: its health). */
  unreachable (messenger: Messenger, address: string, unreachable: Unreachable, at: number): Promise<void>
  /**
   * The messenger accepted a send to the address, which proves it alive. Not
   * for WhatsApp: it accepts a send to a number that is not on WhatsApp and
   * says so later, by receipt; its delivered receipts do that job (receipts.ts).
   */
  reachable (messenger: Messenger, address: string, at: number): Promise<void>
}

export interface SendWorker {
  worker: Worker<SendJobData>
  breaker: CircuitBreaker<[Turn], Turn | undefined>
}

export function createSendWorker (options: SendWorkerOptions): SendWorker {
  const { adapter, deliveries, retry, hooks } = options
  const log = options.log.child({ messenger: adapter.messenger })
  const url = adapter.displayUrl
  // Sends in flight in this process, whichever jobs (single or batch) they come from.
  const inFlight = pLimit(options.concurrency)
  let closing = false

  async function finishFailed (id: string, attempts: number, lastError: string, generation?: number): Promise<void> {
    if (await deliveries.finish(id, 'failed', { url, lastError }, generation)) {
      log.info({ delivery: id, state: 'failed', attempts, error: lastError }, 'delivery state changed')
    }
  }

  /** The batch's next delivery after this one, to be started on its own (or nothing). */
  function nextOnItsOwn (turn: Turn): Turn | undefined {
    const id = turn.takeNext?.(false)
    return id === undefined ? undefined : { id, generation: 0, takeNext: turn.takeNext }
  }

  /**
   * One attempt at one delivery; runs only when the breaker lets it. Returns
   * the batch's delivery to go on with, if any (started already when this one
   * was delivered: one round trip for both records).
   */
  async function attempt (turn: Turn): Promise<Turn | undefined> {
    const { id, generation } = turn
    const batched = turn.takeNext !== undefined
    const started = turn.started ?? await deliveries.start(id, generation)
    if (started.kind === 'ended') {
      // It ended just now, at its turn: past its dispatch's expires_at, or cancelled while a crashed attempt held it.
      log.info({ delivery: id, state: started.state }, 'delivery state changed')
      return nextOnItsOwn(turn)
    }
    if (started.kind !== 'send') {
      // Finished elsewhere, redriven since (a newer job has it), or purged: a redelivered job must not send twice.
      log.debug({ delivery: id, outcome: started.kind }, 'job for a delivery that is not pending; skipped')
      return nextOnItsOwn(turn)
    }
    if (started.attempts > retry.attempts) {
      // Every start counts, including ones a crash cut short; a job that keeps killing its sender stops here.
      await finishFailed(id, started.attempts - 1, `gave up after ${retry.attempts} attempts (sender stopped mid-send)`)
      return nextOnItsOwn(turn)
    }
    log.info({ delivery: id, state: 'sending', attempt: started.attempts }, 'delivery state changed')

    const outcome = await adapter.send({
      address: started.address,
      text: started.text,
      idempotencyKey: id,
      ...(adapter.messenger === 'whatsapp' && {
        whatsapp: { window: await hooks.whatsappWindow(started.address), ...(started.whatsappTemplate !== undefined && { template: started.whatsappTemplate }) }
      })
    })

    if (outcome.result === 'accepted') {
      const { providerMessageId, sentAs } = outcome
      const moved = outcome.address !== undefined && outcome.address !== started.address ? outcome.address : undefined
      const fields = { url, providerMessageId, ...(sentAs !== undefined && { sentAs }), ...(moved !== undefined && { address: moved, migratedFrom: started.address }) }
      const nextId = turn.takeNext?.(true)
      let finished: boolean
      let following: Turn | undefined
      if (nextId === undefined) {
        finished = await deliveries.finish(id, 'sent', fields)
      } else {
        const both = await deliveries.finishAndStart(id, 'sent', fields, { id: nextId, generation: 0 })
        finished = both.finished
        following = { id: nextId, generation: 0, takeNext: turn.takeNext, started: both.next }
      }
      if (finished) {
        log.info({ delivery: id, state: 'sent', attempts: started.attempts, providerMessageId, ...(sentAs !== undefined && { sentAs }) }, 'delivery state changed')
        // The outcome is recorded: trouble from here on is logged, not retried (the send must not go twice).
        if (hasReceipts(adapter.messenger)) {
          await hooks.track(adapter.messenger, providerMessageId, id, started.user).catch((err: unknown) => {
            log.warn({ err, delivery: id }, 'could not record the message id: its receipts will not find the delivery, which stays sent')
          })
        }
        if (adapter.messenger !== 'whatsapp') {
          await hooks.reachable(adapter.messenger, moved ?? started.address, Date.now()).catch((err: unknown) => {
            log.warn({ err, delivery: id }, 'could not note the address as reachable')
          })
        }
        if (moved !== undefined && started.contact !== '') {
          await hooks.chatMoved(started.user, started.contact, started.address, moved).catch((err: unknown) => {
            log.warn({ err, delivery: id }, 'could not update the contact whose Telegram chat moved')
          })
        }
      }
      return following
    }
    if (outcome.result === 'permanent') {
      await finishFailed(id, started.attempts, outcome.error)
      if (outcome.unreachable !== undefined) {
        const { unreachable } = outcome
        await hooks.unreachable(adapter.messenger, started.address, unreachable, Date.now()).then(() => {
          log.info({ delivery: id, reason: unreachable.reason, code: unreachable.code }, 'address marked unreachable')
        }, (err: unknown) => {
          log.warn({ err, delivery: id }, 'could not mark the address unreachable')
        })
      }
      return nextOnItsOwn(turn)
    }
    const failure = new RetryableSendError(outcome.error, outcome.retryAfterMs, started.attempts)
    if (started.attempts >= retry.attempts) {
      await finishFailed(id, started.attempts, outcome.error)
      throw new MessengerTrouble(failure, false)
    }
    if (batched) {
      // The next attempt is a job of its own, in the next generation, added before the record says so (see above).
      const next = generation + 1
      const delay = retryDelay(retry, started.attempts, outcome.retryAfterMs)
      await options.queue.add(SEND_JOB, {}, { ...sendJobOptions({ id, messenger: adapter.messenger, generation: next }), delay })
      const after = await deliveries.requeue(id, { url, lastError: outcome.error }, next)
      if (after !== undefined) log.info({ delivery: id, state: after, attempts: started.attempts, error: outcome.error }, 'delivery state changed')
      throw new MessengerTrouble(failure, false)
    }
    // Back to `queued` for another attempt, unless it was cancelled meanwhile or its dispatch has expired.
    const after = await deliveries.requeue(id, { url, lastError: outcome.error })
    if (after !== undefined) log.info({ delivery: id, state: after, attempts: started.attempts, error: outcome.error }, 'delivery state changed')
    throw new MessengerTrouble(failure, after === 'queued')
  }

  const breaker = new CircuitBreaker(attempt, {
    // The adapters bound every send with their own timeouts.
    timeout: false,
    errorThresholdPercentage: options.breaker.errorPercent,
    volumeThreshold: options.breaker.minSends,
    rollingCountTimeout: options.breaker.windowMs,
    resetTimeout: options.breaker.resetMs,
    // Only the messenger's own trouble counts: not a bad recipient (permanent), not a fault of ours.
    errorFilter: (err: unknown) => !(err instanceof MessengerTrouble)
  })
  let openedAt = 0
  breaker.on('open', () => {
    openedAt = Date.now()
    log.warn({ forMs: options.breaker.resetMs }, 'circuit open: the messenger keeps failing; its deliveries wait without using attempts')
  })
  breaker.on('halfOpen', () => log.info('circuit half-open: one probe send'))
  breaker.on('close', () => log.info('circuit closed: sending again'))

  /** Holds the whole queue until the breaker lets a probe go, and puts the job back (untouched, no attempt counted). */
  async function hold (): Promise<never> {
    const wait = breaker.halfOpen ? PROBE_WAIT_MS : Math.max(PROBE_WAIT_MS, openedAt + options.breaker.resetMs - Date.now())
    await worker.rateLimit(wait)
    throw Worker.RateLimitError()
  }

  const isOpenBreaker = (err: unknown) => (err as { code?: string }).code === 'EOPENBREAKER'

  async function sendOne (job: Job<SendJobData>): Promise<void> {
    try {
      await inFlight(async () => { await breaker.fire(parseSendJobId(job.id as string)) })
    } catch (err) {
      if (err instanceof MessengerTrouble) {
        if (err.retry) throw err.failure
        return
      }
      if (isOpenBreaker(err)) return await hold()
      throw err
    }
  }

  interface BatchState {
    held: boolean
    /** An error of ours (Redis away...): stop, and let BullMQ run the batch again later. */
    broken?: { err: unknown }
  }

  /**
   * A sender slot working through a batch: one delivery after another while
   * the batch has any, each through the breaker; a delivery started together
   * with the previous one's finish is sent even if the breaker opened in that
   * moment (it was started while the breaker was closed, like any send in
   * flight when it opens).
   */
  async function workThrough (first: Turn, batch: BatchState): Promise<void> {
    let turn: Turn | undefined = first
    while (turn !== undefined) {
      const current: Turn = turn
      try {
        turn = current.started !== undefined && !breaker.closed ? await attempt(current) : await breaker.fire(current)
      } catch (err) {
        if (err instanceof MessengerTrouble) turn = nextOnItsOwn(current)
        else {
          if (isOpenBreaker(err)) batch.held = true
          else batch.broken ??= { err }
          turn = undefined
        }
      }
    }
  }

  async function sendBatch (data: BatchJobData): Promise<void> {
    const ids = batchDeliveryIds(data)
    const batch: BatchState = { held: false }
    let taken = 0
    const takeNext = (withFinish: boolean): string | undefined => {
      if (batch.held || batch.broken !== undefined || closing || taken === ids.length) return undefined
      if (withFinish && !breaker.closed) return undefined
      return ids[taken++]
    }
    // As many slots as could send at once; each takes its first delivery when a send slot frees (none left: it ends).
    await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, async () => await inFlight(async () => {
      const id = takeNext(false)
      if (id !== undefined) await workThrough({ id, generation: 0, takeNext }, batch)
    })))
    if (batch.broken !== undefined) throw batch.broken.err
    if (batch.held) return await hold()
    // Closing with deliveries not yet started: back to the queue for whichever sender runs next.
    if (taken < ids.length) throw Worker.RateLimitError()
  }

  async function process (job: Job<SendJobData>): Promise<void> {
    if (job.name === BATCH_JOB) return await sendBatch(job.data as BatchJobData)
    return await sendOne(job)
  }

  const worker = new Worker<SendJobData>(sendQueueName(adapter.messenger), process, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // BullMQ's limiter is shared by every worker of the queue, in every process. It must exist for the
    // breaker's hold (worker.rateLimit) to apply, so "no limit" is a limit no one reaches.
    limiter: { max: options.ratePerSecond > 0 ? options.ratePerSecond : Number.MAX_SAFE_INTEGER, duration: 1000 },
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    // Stalls are counted as attempts by the delivery record (above); BullMQ's own limit is only a backstop.
    maxStalledCount: retry.attempts + 1,
    settings: {
      backoffStrategy: (failures, type, err) =>
        type === SEND_BACKOFF || type === undefined
          ? err instanceof RetryableSendError
            ? retryDelay(retry, err.attempts ?? failures, err.retryAfterMs)
            : retryDelay(retry, failures)
          : 0
    }
  })
  worker.on('closing', () => { closing = true })

  worker.on('failed', (job, err) => {
    // BullMQ gave up on the job without our processor deciding (its stall backstop): record the failure of
    // what the job held and had not finished (a batch's deliveries in their first generation).
    if (job === undefined || err.name !== 'UnrecoverableError') return
    const targets = job.name === BATCH_JOB
      ? batchDeliveryIds(job.data as BatchJobData).map((id) => ({ id, generation: 0 }))
      : [parseSendJobId(job.id as string)]
    for (const { id, generation } of targets) {
      finishFailed(id, job.attemptsStarted, err.message, generation).catch((e: unknown) => {
        log.error({ err: e, delivery: id }, 'could not record a failed delivery')
      })
    }
  })
  logErrors(worker, `fanout-send-${adapter.messenger}-worker`, log)
  return { worker, breaker }
}
