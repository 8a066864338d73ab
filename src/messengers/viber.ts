/**
 * Viber REST Bot API `send_message`. Failures come back as HTTP 200 with a
 * non-zero `status`, so success is judged from the body; `message_token` is a
 * 64-bit integer that a JS number would round, so it is read as text.
 *
 * A bot must have registered its webhook (`set_webhook`) before it can send
 * (status 10 otherwise), and Viber reports on each message to it
 * (webhooks/viber.ts).
 */
import { request } from 'undici'
import { MessengerHttp, garbled, parseObject, type HttpOptions, type MessengerAdapter, type SendOutcome, type SendRequest } from './adapter.js'

export interface ViberOptions extends HttpOptions {
  baseUrl: string
  token: string
  senderName: string
}

/** tooManyRequests: the only Viber status worth another try. */
const VIBER_TOO_MANY_REQUESTS = 12
/** receiverNotRegistered, receiverNotSubscribed: the address itself is dead (recorded on it). */
const VIBER_NOT_REGISTERED = 5
const VIBER_NOT_SUBSCRIBED = 6

export function createViberAdapter (options: ViberOptions): MessengerAdapter {
  const http = new MessengerHttp(options.baseUrl, options.token, options)

  return {
    messenger: 'viber',
    displayUrl: `${options.baseUrl}/pa/send_message`,
    async send ({ address, text, idempotencyKey }: SendRequest): Promise<SendOutcome> {
      return await http.send('/pa/send_message', {
        'x-viber-auth-token': options.token,
        'idempotency-key': idempotencyKey
      }, {
        receiver: address,
        min_api_version: 1,
        sender: { name: options.senderName },
        tracking_data: idempotencyKey,
        type: 'text',
        text
      }, classifyViber)
    },
    close: () => http.close()
  }
}

export function classifyViber (httpStatus: number, body: string): SendOutcome {
  if (httpStatus >= 500) return { result: 'retryable', error: `viber HTTP ${httpStatus}` }
  const json = parseObject(body)
  if (json === undefined || typeof json.status !== 'number') return garbled('viber', httpStatus, body)
  if (httpStatus !== 200) return { result: 'permanent', error: `viber HTTP ${httpStatus}` }
  const error = `viber ${json.status}: ${typeof json.status_message === 'string' ? json.status_message : 'no message'}`
  if (json.status === 0) {
    const token = /"message_token"\s*:\s*"?(\d+)/.exec(body)?.[1]
    if (token === undefined) return garbled('viber', httpStatus, body)
    return { result: 'accepted', providerMessageId: token }
  }
  if (json.status === VIBER_TOO_MANY_REQUESTS) return { result: 'retryable', error }
  if (json.status === VIBER_NOT_REGISTERED) return { result: 'permanent', error, unreachable: { code: json.status, reason: 'not_registered' } }
  if (json.status === VIBER_NOT_SUBSCRIBED) return { result: 'permanent', error, unreachable: { code: json.status, reason: 'not_subscribed' } }
  // Any other status, including ones outside the documented table, is a permanent failure.
  return { result: 'permanent', error }
}

/** The callbacks the service takes (webhooks/viber.ts). */
export const VIBER_EVENT_TYPES = ['delivered', 'seen', 'failed', 'subscribed', 'unsubscribed', 'conversation_started'] as const

/**
 * Registers `url` as the bot's webhook (`POST /pa/set_webhook`). Viber calls
 * the URL once while it answers, so the service must be listening by then.
 * Returns undefined when it worked, else why not.
 */
export async function setViberWebhook (options: Pick<ViberOptions, 'baseUrl' | 'token' | 'timeoutMs'>, url: string): Promise<string | undefined> {
  try {
    const { statusCode, body } = await request(`${options.baseUrl}/pa/set_webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-viber-auth-token': options.token },
      body: JSON.stringify({ url, event_types: VIBER_EVENT_TYPES, send_name: true, send_photo: false }),
      signal: AbortSignal.timeout(options.timeoutMs)
    })
    const json = parseObject(await body.text())
    if (statusCode !== 200 || json?.status !== 0) {
      return `viber set_webhook: HTTP ${statusCode}, status ${String(json?.status)} ${typeof json?.status_message === 'string' ? json.status_message : ''}`.trim()
    }
    return undefined
  } catch (err) {
    return `viber set_webhook: ${(err as Error).message}`.replaceAll(options.token, '<token>')
  }
}
