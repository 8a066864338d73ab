/**
 * Sends the status webhook queue's messages: signed to the Standard Webhooks
 * specification (the reference `standardwebhooks` package signs), through
 * the SSRF-safe agent, with tight timeouts, no redirects and the answer read
 * to a small bound; every try recorded as an attempt of the endpoint.
 *
 * A slow or dead endpoint holds up neither the senders (another queue, other
 * workers) nor other endpoints: an attempt lasts at most WEBHOOK_TIMEOUT_MS,
 * and an endpoint has at most WEBHOOK_ENDPOINT_CONCURRENCY attempts in
 * flight per process; its other jobs are put back for a moment (BullMQ's
 * delayed state, not counted as a try), so the worker's slots stay free for
 * the rest.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq'
import type { FastifyBaseLogger } from 'fastify'
import { Webhook } from 'standardwebhooks'
import type { Agent } from 'undici'
import type { RedisClient } from '../redis-connection.js'
import { STATUS_WEBHOOK_QUEUE } from '../redis-keys.js'
import { newAttemptId, type Attempt, type EndpointStore } from './endpoint-store.js'
import { ForbiddenAddressError } from './safe-agent.js'
import { STATUS_WEBHOOK_BACKOFF, retryDelayMs, type StatusWebhookJob } from './status-webhook-queue.js'

/** How much of an endpoint's answer is read (for the attempt's error); the rest is dropped. */
const ANSWER_BYTES = 1024

export interface StatusWebhookWorkerOptions {
  connection: RedisClient
  prefix: string
  store: EndpointStore
  agent: Agent
  concurrency: number
  perEndpoint: number
  timeoutMs: number
  scheduleMs: readonly number[]
  disableAfterMs: number
  retentionSeconds: number
  log: FastifyBaseLogger
}

/** The first bytes of an answer, as text; the rest is not read. */
async function answerStart (body: AsyncIterable<Buffer> & { destroy: () => unknown }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= ANSWER_BYTES) break
  }
  body.destroy()
  return Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString('utf8')
}

/** The webhook-signature header: one `v1,<base64>` per secret that signs now, space-separated. */
export function signatureHeader (secrets: readonly string[], messageId: string, at: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' ')
}

export function createStatusWebhookWorker (options: StatusWebhookWorkerOptions): Worker<StatusWebhookJob> {
  const { store, log } = options
  const inFlight = new Map<string, number>()

  async function send (job: Job<StatusWebhookJob>, token: string | undefined): Promise<void> {
    const { user, endpoint: endpointId, message: messageId, type } = job.data
    const endpoint = await store.get(user, endpointId)
    if (endpoint === undefined) return
    if (!endpoint.enabled && job.data.manual !== true) return
    const busy = inFlight.get(endpointId) ?? 0
    if (busy >= options.perEndpoint) {
      await job.moveToDelayed(Date.now() + 100 + Math.round(Math.random() * 400), token)
      throw new DelayedError()
    }
    const body = await store.message(user, messageId)
    if (body === undefined) throw new UnrecoverableError(`message ${messageId} is no longer kept (past the history retention)`)
    inFlight.set(endpointId, busy + 1)
    const started = Date.now()
    const attempt: Attempt = { id: newAttemptId(), messageId, type, at: started, ok: false, durationMs: 0, attempt: job.attemptsMade + 1 }
    let forbidden = false
    try {
      const secrets = await store.signingSecrets(user, endpointId)
      const at = new Date()
      const url = new URL(endpoint.url)
      const res = await options.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'messenger-fanout-webhooks',
          'webhook-id': messageId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signatureHeader(secrets, messageId, at, body)
        },
        body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs)
      })
      attempt.status = res.statusCode
      const answer = await answerStart(res.body)
      attempt.ok = res.statusCode >= 200 && res.statusCode < 300
      // Redirects are not followed (a 3xx is a failure): a redirect could point anywhere.
      if (!attempt.ok) attempt.error = `answered ${res.statusCode}${answer === '' ? '' : `: ${answer.slice(0, 200)}`}`
    } catch (err) {
      forbidden = err instanceof ForbiddenAddressError
      const timedOut = (err as Error).name === 'TimeoutError' || (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT'
      attempt.error = forbidden ? `${(err as Error).message}; nothing was sent` : `${timedOut ? 'no answer in time' : 'not sent'}: ${(err as Error).message}`
    } finally {
      const left = (inFlight.get(endpointId) ?? 1) - 1
      if (left === 0) inFlight.delete(endpointId)
      else inFlight.set(endpointId, left)
    }
    attempt.durationMs = Date.now() - started
    await store.recordAttempt(user, endpointId, attempt, options.retentionSeconds)
    if (attempt.ok) {
      await store.succeeded(user, endpointId)
      return
    }
    if (await store.failed(user, endpointId, options.disableAfterMs)) {
      log.warn({ user, endpoint: endpointId }, 'a status webhook endpoint failed for too long and is disabled')
    }
    // A forbidden address stays forbidden: trying again would only fail again.
    throw forbidden ? new UnrecoverableError(attempt.error) : new Error(attempt.error)
  }

  return new Worker<StatusWebhookJob>(STATUS_WEBHOOK_QUEUE, send, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    settings: {
      backoffStrategy: (failures, type) => type === STATUS_WEBHOOK_BACKOFF ? retryDelayMs(options.scheduleMs, failures) : 1000
    }
  })
}
