/**
 * Telegram Bot API `sendMessage`: the token is part of the path, errors carry
 * `error_code` (equal to the HTTP status) and, when throttled, `retry_after`.
 */
import { MessengerHttp, garbled, parseObject, type HttpOptions, type MessengerAdapter, type SendOutcome, type SendRequest } from './adapter.js'

export interface TelegramOptions extends HttpOptions {
  baseUrl: string
  token: string
}

export function createTelegramAdapter (options: TelegramOptions): MessengerAdapter {
  const http = new MessengerHttp(options.baseUrl, options.token, options)
  const path = `/bot${options.token}/sendMessage`

  return {
    messenger: 'telegram',
    displayUrl: `${options.baseUrl}/bot<token>/sendMessage`,
    async send ({ address, text, idempotencyKey }: SendRequest): Promise<SendOutcome> {
      // Numeric chat ids fit in 52 bits, so a JS number carries them exactly.
      const chatId = address.startsWith('@') ? address : Number(address)
      return await http.send(path, { 'idempotency-key': idempotencyKey }, { chat_id: chatId, text }, classifyTelegram)
    },
    close: () => http.close()
  }
}

export function classifyTelegram (status: number, body: string): SendOutcome {
  const json = parseObject(body)
  if (json === undefined || typeof json.ok !== 'boolean') return garbled('telegram', status, body)
  if (json.ok) {
    const result = json.result as { message_id?: unknown } | undefined
    if (typeof result?.message_id !== 'number') return garbled('telegram', status, body)
    return { result: 'delivered', providerMessageId: String(result.message_id) }
  }
  const code = typeof json.error_code === 'number' ? json.error_code : status
  const error = `telegram ${code}: ${typeof json.description === 'string' ? json.description : 'no description'}`
  if (code === 429) {
    const retryAfter = (json.parameters as { retry_after?: unknown } | undefined)?.retry_after
    return typeof retryAfter === 'number' && retryAfter >= 0
      ? { result: 'retryable', error, retryAfterMs: retryAfter * 1000 }
      : { result: 'retryable', error }
  }
  if (code >= 500) return { result: 'retryable', error }
  return { result: 'permanent', error }
}
