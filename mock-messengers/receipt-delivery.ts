/**
 * Delivering receipts as the platforms do: every POST to the business's
 * webhook is signed over its exact bytes (WhatsApp: X-Hub-Signature-256 with
 * the app secret; Viber: X-Viber-Content-Signature with the bot's token, also
 * as the `sig` query parameter, which Viber's own Node SDK checks), a non-2xx
 * answer or a network error is retried with backoff a bounded number of times,
 * and every POST is recorded with its answer (GET /_mock/receipts; DELETE
 * forgets them). Closing aborts what is in flight, so a test can end.
 */
import type { FastifyInstance } from 'fastify'
import { createHmac } from 'node:crypto'
import pRetry from 'p-retry'
import { Agent, request } from 'undici'

export type ReceiptMessenger = 'whatsapp' | 'viber'

export interface ReceiptRecord {
  messenger: ReceiptMessenger
  /** Where it was POSTed (a Viber URL carries `?sig=`). */
  url: string
  /** The exact body, as JSON text (Viber's message_token is a number no JS number holds). */
  payload: string
  /** The signature header's value. */
  signature: string
  /** The last attempt's HTTP status; null: it got no answer (refused, reset, timed out). */
  status: number | null
  attempts: number
  /** `pending` while being tried; `answered` with a 2xx; `dropped` after the last try failed. */
  outcome: 'pending' | 'answered' | 'dropped'
  /** Why the last attempt failed, if it did. */
  error?: string
  firstAttemptAt: string
  lastAttemptAt: string
}

export interface DeliveryOptions {
  keys: Record<ReceiptMessenger, string>
  /** Attempts after the first (default 5), the wait before the first retry (default 250 ms, doubling), each attempt's timeout. */
  retry?: { retries?: number, minTimeoutMs?: number, timeoutMs?: number }
  maxRecords: number
  log: FastifyInstance['log']
}

const SIGNATURE_HEADERS: Record<ReceiptMessenger, string> = {
  whatsapp: 'x-hub-signature-256',
  viber: 'x-viber-content-signature'
}

/** The hex HMAC-SHA256 of a body, as each platform writes it in its header. */
export function sign (messenger: ReceiptMessenger, key: string, body: string): { header: string, hex: string } {
  const hex = createHmac('sha256', key).update(body).digest('hex')
  return { header: messenger === 'whatsapp' ? `sha256=${hex}` : hex, hex }
}

export class ReceiptDelivery {
  private records: ReceiptRecord[] = []
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly closing = new AbortController()
  private readonly agent = new Agent({ connections: 16 })
  private readonly retries: number
  private readonly minTimeoutMs: number
  private readonly timeoutMs: number

  constructor (private readonly options: DeliveryOptions) {
    this.retries = options.retry?.retries ?? 5
    this.minTimeoutMs = options.retry?.minTimeoutMs ?? 250
    this.timeoutMs = options.retry?.timeoutMs ?? 5000
  }

  /**
   * POSTs one body to `url`, signed, retrying as configured (`retries: 0`: one
   * attempt, as Viber's set_webhook check makes). Resolves with its record once
   * answered or given up; never rejects.
   */
  post (messenger: ReceiptMessenger, url: string, body: string, { retries = this.retries } = {}): Promise<ReceiptRecord> {
    const signature = sign(messenger, this.options.keys[messenger], body)
    const target = new URL(url)
    if (messenger === 'viber') target.searchParams.set('sig', signature.hex)
    const now = new Date().toISOString()
    const record: ReceiptRecord = {
      messenger, url: target.href, payload: body, signature: signature.header, status: null, attempts: 0, outcome: 'pending', firstAttemptAt: now, lastAttemptAt: now
    }
    this.keep(record)
    const headers = {
      'content-type': 'application/json',
      [SIGNATURE_HEADERS[messenger]]: signature.header,
      // What Meta's webhook requests say they are.
      ...(messenger === 'whatsapp' && { 'user-agent': 'facebookexternalua' })
    }

    const attempt = async () => {
      record.attempts += 1
      record.lastAttemptAt = new Date().toISOString()
      let status: number
      try {
        const response = await request(target, {
          method: 'POST',
          headers,
          body,
          dispatcher: this.agent,
          signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)])
        })
        await response.body.dump()
        status = response.statusCode
      } catch (err) {
        record.status = null
        record.error = (err as Error).message
        // A plain Error: p-retry would not retry a TypeError.
        throw new Error(record.error)
      }
      record.status = status
      if (status < 200 || status >= 300) {
        record.error = `HTTP ${status}`
        throw new Error(record.error)
      }
      delete record.error
    }

    const done = pRetry(attempt, { retries, minTimeout: this.minTimeoutMs, factor: 2, randomize: true, signal: this.closing.signal })
      .then(() => { record.outcome = 'answered' }, () => {
        record.outcome = 'dropped'
        if (!this.closing.signal.aborted) {
          this.options.log.warn({ url: record.url, attempts: record.attempts, error: record.error }, 'mock: a receipt was dropped after its last attempt')
        }
      })
      .then(() => record)
    this.inFlight.add(done)
    void done.finally(() => this.inFlight.delete(done))
    return done
  }

  private keep (record: ReceiptRecord): void {
    this.records.push(record)
    if (this.records.length > this.options.maxRecords) this.records = this.records.slice(-this.options.maxRecords)
  }

  /** Stops every delivery: in-flight POSTs are aborted, retries not made. */
  async close (): Promise<void> {
    this.closing.abort(new Error('the mock is closing'))
    await Promise.allSettled([...this.inFlight])
    await this.agent.destroy()
  }

  /** GET and DELETE /_mock/receipts; `scheduled` counts the receipts still waiting for their moment (the answer says how many). */
  routes (app: FastifyInstance, scheduled: () => number): void {
    app.get<{ Querystring: { messenger?: string, outcome?: string } }>('/_mock/receipts', async (request, reply) => {
      const { messenger, outcome } = request.query
      const receipts = this.records.filter((r) =>
        (messenger === undefined || r.messenger === messenger) && (outcome === undefined || r.outcome === outcome))
      // Each payload goes out as the JSON it was, so no digit of a Viber message_token is lost.
      const items = receipts.map(({ payload, ...rest }) => `${JSON.stringify(rest).slice(0, -1)},"payload":${payload}}`)
      return reply.type('application/json').send(`{"count":${receipts.length},"scheduled":${scheduled()},"receipts":[${items.join(',')}]}`)
    })

    app.delete('/_mock/receipts', async () => {
      this.records = []
      return { ok: true }
    })
  }
}
