/**
 * What every messenger adapter does: send one text to one address, by that
 * messenger's rules, and judge the answer as accepted, retryable or
 * permanent. The HTTP plumbing they share (one bounded undici pool per
 * messenger, timeouts, bodies always read) lives here too.
 */
import { Pool } from 'undici'
import type { WhatsAppTemplate } from '../model/delivery.js'
import type { Messenger, UnreachableReason } from '../model/messenger.js'

export { UNREACHABLE_REASONS, type UnreachableReason } from '../model/messenger.js'

/** What the service knows of a WhatsApp number's 24-hour customer-service window. */
export type WhatsAppWindow = 'open' | 'closed' | 'unknown'

export interface SendRequest {
  address: string
  text: string
  /** The delivery id: sent as `Idempotency-Key` so a receiver can drop a repeat. */
  idempotencyKey: string
  /** WhatsApp only: the dispatch's template, and the person's window (see whatsapp.ts). */
  whatsapp?: { template?: WhatsAppTemplate, window: WhatsAppWindow }
}

/** A failure that says the address is dead: the messenger's code and our reason. */
export interface Unreachable {
  code: number | string
  reason: UnreachableReason
}

export type SendOutcome =
  /**
   * The messenger took it (not yet a delivery: receipts say more). `sentAs`:
   * WhatsApp got the template; `address`: it went to another address than
   * asked (a Telegram group's new supergroup id).
   */
  | { result: 'accepted', providerMessageId: string, sentAs?: 'template', address?: string }
  | { result: 'retryable', error: string, retryAfterMs?: number }
  /** `unreachable`: the failure says the address itself is dead (recorded on it: src/addresses/address-facts.ts). */
  | { result: 'permanent', error: string, unreachable?: Unreachable }

export interface MessengerAdapter {
  readonly messenger: Messenger
  /** Where sends go, safe to show to users and logs: never contains the token. */
  readonly displayUrl: string
  send (request: SendRequest): Promise<SendOutcome>
  close (): Promise<void>
}

export interface HttpOptions {
  /** Connections to this messenger at most: a hanging messenger can hold only these. */
  connections: number
  timeoutMs: number
}

/** Judges a messenger's answer from its HTTP status and body (an adapter may have outcomes of its own to act on). */
export type Classifier<Outcome extends { result: string } = SendOutcome> = (status: number, body: string) => Outcome

type Retryable = Extract<SendOutcome, { result: 'retryable' }>

interface HttpAnswer {
  status: number
  body: string
}

/**
 * One messenger's HTTP client. A pool per messenger (even when two share a
 * host, as with the bundled mock) keeps one messenger's slowness out of the
 * others' sockets.
 */
export class MessengerHttp {
  readonly #pool: Pool
  readonly #basePath: string
  readonly #timeoutMs: number
  readonly #secret: string

  /** `secret` (the messenger's token) is kept out of every outcome this client returns. */
  constructor (baseUrl: string, secret: string, options: HttpOptions) {
    this.#secret = secret
    const url = new URL(baseUrl)
    this.#basePath = url.pathname.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      // undici's defaults are 300 s; a send that has not answered in a few seconds is retried instead.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 5000),
      keepAliveTimeout: 10_000
    })
  }

  /**
   * POSTs JSON and returns the status and the whole body as text. Throws only
   * for transport failures (refused, reset, timed out).
   */
  async #postJson (path: string, headers: Record<string, string>, payload: unknown): Promise<HttpAnswer> {
    const { statusCode, body } = await this.#pool.request({
      method: 'POST',
      path: this.#basePath + path,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.#timeoutMs)
    })
    // Reading the body to the end returns the socket to the pool; a body left unread stalls it.
    return { status: statusCode, body: await body.text() }
  }

  /**
   * One send: POSTs the payload and judges the answer with `classify`. A
   * transport failure (refused, reset, timed out) is retryable.
   */
  async send<Outcome extends { result: string }> (path: string, headers: Record<string, string>, payload: unknown,
    classify: Classifier<Outcome>): Promise<Outcome | Retryable> {
    let answer: HttpAnswer
    try {
      answer = await this.#postJson(path, headers, payload)
    } catch (err) {
      return { result: 'retryable', error: transportError(err) }
    }
    return withoutSecret(classify(answer.status, answer.body), this.#secret)
  }

  async close (): Promise<void> {
    await this.#pool.close()
  }
}

/**
 * Keeps a secret out of an outcome's error text: a misdirected request's 404
 * page may echo the path, and Telegram's path holds the bot token.
 */
function withoutSecret<Outcome extends { result: string, error?: string }> (outcome: Outcome, secret: string): Outcome {
  if (outcome.error === undefined || secret === '' || !outcome.error.includes(secret)) return outcome
  return { ...outcome, error: outcome.error.replaceAll(secret, '<token>') }
}

/** Describes a transport failure in a few words for the delivery's last error. */
function transportError (err: unknown): string {
  const e = err as { code?: string, name?: string, message?: string }
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return 'timed out waiting for the messenger'
  }
  return `network error: ${e.code ?? e.message ?? String(err)}`
}

/** Parses a JSON body, or returns undefined for anything that is not a JSON object. */
export function parseObject (body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** An answer we cannot read: a proxy's error page, a half-written body. Worth another try. */
export function garbled (messenger: string, status: number, body: string): SendOutcome {
  if (status >= 500) return { result: 'retryable', error: `${messenger} HTTP ${status}` }
  return { result: 'retryable', error: `${messenger}: unreadable answer (HTTP ${status}): ${body.slice(0, 80)}` }
}
