/**
 * WhatsApp Business Cloud API messages: Bearer token, phone-number id and
 * version in the path. The HTTP status varies for the same error, so the
 * outcome is judged on `error.code` (tables from docs/messengers.md).
 */
import { MessengerHttp, garbled, parseObject, type HttpOptions, type MessengerAdapter, type SendOutcome, type SendRequest } from './adapter.js'

export interface WhatsAppOptions extends HttpOptions {
  baseUrl: string
  token: string
  phoneNumberId: string
  apiVersion: string
}

/** Throttling (4, 80007, 130429, 131048, 131056, 133016) and transient (1, 2, 131000, 131016, 133004) codes. */
const RETRYABLE_CODES = new Set([4, 80007, 130429, 131048, 131056, 133016, 1, 2, 131000, 131016, 133004])
/** Token, permission and parameter errors, unknown or unreachable recipients: retrying cannot help. */
const PERMANENT_CODES = new Set([0, 190, 10, 100, 131008, 131009, 131026, 131030, 131031, 131047, 131051, 368])
const isPermanent = (code: number) => PERMANENT_CODES.has(code) || (code >= 200 && code <= 299)

export function createWhatsAppAdapter (options: WhatsAppOptions): MessengerAdapter {
  const http = new MessengerHttp(options.baseUrl, options.token, options)
  const path = `/${options.apiVersion}/${options.phoneNumberId}/messages`
  const authorization = `Bearer ${options.token}`

  return {
    messenger: 'whatsapp',
    displayUrl: `${options.baseUrl}${path}`,
    async send ({ address, text, idempotencyKey }: SendRequest): Promise<SendOutcome> {
      return await http.send(path, { authorization, 'idempotency-key': idempotencyKey }, {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: address,
        type: 'text',
        text: { body: text }
      }, classifyWhatsApp)
    },
    close: () => http.close()
  }
}

export function classifyWhatsApp (status: number, body: string): SendOutcome {
  const json = parseObject(body)
  if (json === undefined) return garbled('whatsapp', status, body)
  if (status >= 200 && status < 300 && json.error === undefined) {
    const messages = json.messages as Array<{ id?: unknown }> | undefined
    const id = Array.isArray(messages) ? messages[0]?.id : undefined
    if (typeof id !== 'string') return garbled('whatsapp', status, body)
    return { result: 'delivered', providerMessageId: id }
  }
  const err = json.error as { code?: unknown, message?: unknown } | undefined
  if (typeof err?.code !== 'number') return garbled('whatsapp', status, body)
  const error = `whatsapp ${err.code}: ${typeof err.message === 'string' ? err.message : 'no message'}`
  // The same error comes with varying HTTP statuses: the code decides; the status only for codes not in the tables.
  if (RETRYABLE_CODES.has(err.code)) return { result: 'retryable', error }
  if (isPermanent(err.code)) return { result: 'permanent', error }
  return status >= 500 ? { result: 'retryable', error } : { result: 'permanent', error }
}
