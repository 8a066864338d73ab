/**
 * WhatsApp Business Cloud API messages: Bearer token, phone-number id and
 * version in the path. The HTTP status varies for the same error, so the
 * outcome is judged on `error.code` (tables from docs/messengers.md).
 *
 * The 24-hour customer-service window (docs/messengers.md): free-form text
 * reaches a person only within 24 hours of their last message to the
 * business; outside it only an approved template may be sent, and a text is
 * accepted and then fails by receipt (131047). So:
 *   window open      the text
 *   window closed    the dispatch's template; without one, fail at once
 *                    (WHATSAPP_WINDOW_CLOSED) rather than pay for a send that will fail
 *   window unknown   the template if there is one, else the text (its receipt decides)
 */
import type { WhatsAppTemplate } from '../model/delivery.js'
import { MessengerHttp, garbled, parseObject, type HttpOptions, type MessengerAdapter, type SendOutcome, type SendRequest, type Unreachable } from './adapter.js'

export interface WhatsAppOptions extends HttpOptions {
  baseUrl: string
  token: string
  phoneNumberId: string
  apiVersion: string
}

/** Throttling (4, 80007, 130429, 131048, 131056, 133016) and transient (1, 2, 131000, 131016, 133004) codes. */
const RETRYABLE_CODES = new Set([4, 80007, 130429, 131048, 131056, 133016, 1, 2, 131000, 131016, 133004])
/**
 * Token, permission and parameter errors, unknown or unreachable recipients,
 * templates that do not exist or do not fit (132000-132016): retrying cannot help.
 */
const PERMANENT_CODES = new Set([0, 190, 10, 100, 131008, 131009, 131026, 131030, 131031, 131047, 131051, 368])
const isPermanent = (code: number) => PERMANENT_CODES.has(code) || (code >= 200 && code <= 299) || (code >= 132000 && code <= 132016)

/** 131026: the number is not on WhatsApp (or cannot receive): the address itself is dead. */
const NOT_ON_WHATSAPP = 131026

/**
 * Whether a WhatsApp error code says the number is dead. It comes as the
 * send's answer or, more often, in a failed status webhook
 * (deliveries/receipts.ts): both are judged here.
 */
export function whatsappUnreachable (code: number | string | undefined): Unreachable | undefined {
  return Number(code) === NOT_ON_WHATSAPP ? { code: NOT_ON_WHATSAPP, reason: 'not_on_whatsapp' } : undefined
}

/** The error of a text refused before it is sent: outside the window, with no template to send instead. */
export const WINDOW_CLOSED = 'WHATSAPP_WINDOW_CLOSED: no message from this person in the last 24 hours, and outside that window ' +
  'WhatsApp delivers only an approved template; give the dispatch a whatsapp_template'

function templatePayload (template: WhatsAppTemplate) {
  const parameters = template.parameters ?? []
  return {
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      ...(parameters.length > 0 && { components: [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }] })
    }
  }
}

export function createWhatsAppAdapter (options: WhatsAppOptions): MessengerAdapter {
  const http = new MessengerHttp(options.baseUrl, options.token, options)
  const path = `/${options.apiVersion}/${options.phoneNumberId}/messages`
  const authorization = `Bearer ${options.token}`

  return {
    messenger: 'whatsapp',
    displayUrl: `${options.baseUrl}${path}`,
    async send ({ address, text, idempotencyKey, whatsapp }: SendRequest): Promise<SendOutcome> {
      const window = whatsapp?.window ?? 'unknown'
      const template = window === 'open' ? undefined : whatsapp?.template
      if (window === 'closed' && template === undefined) return { result: 'permanent', error: WINDOW_CLOSED }
      const outcome = await http.send(path, { authorization, 'idempotency-key': idempotencyKey }, {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: address,
        ...(template === undefined ? { type: 'text', text: { body: text } } : templatePayload(template))
      }, classifyWhatsApp)
      return outcome.result === 'accepted' && template !== undefined ? { ...outcome, sentAs: 'template' } : outcome
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
    return { result: 'accepted', providerMessageId: id }
  }
  const err = json.error as { code?: unknown, message?: unknown } | undefined
  if (typeof err?.code !== 'number') return garbled('whatsapp', status, body)
  const error = `whatsapp ${err.code}: ${typeof err.message === 'string' ? err.message : 'no message'}`
  // The same error comes with varying HTTP statuses: the code decides; the status only for codes not in the tables.
  if (RETRYABLE_CODES.has(err.code)) return { result: 'retryable', error }
  const unreachable = whatsappUnreachable(err.code)
  if (unreachable !== undefined) return { result: 'permanent', error, unreachable }
  if (isPermanent(err.code)) return { result: 'permanent', error }
  return status >= 500 ? { result: 'retryable', error } : { result: 'permanent', error }
}
