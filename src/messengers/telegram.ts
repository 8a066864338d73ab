/**
 * Telegram Bot API `sendMessage`: the token is part of the path, errors carry
 * `error_code` (equal to the HTTP status) and, when throttled, `retry_after`.
 * Telegram sends no receipts: an accepted send is the last word.
 *
 * Its rules (docs/messengers.md): a person must have started the bot (403
 * otherwise, as for a bot the person blocked), `chat not found` is final, and
 * a group that became a supergroup answers 400 with `migrate_to_chat_id`:
 * the text goes once more, to that id, and the outcome says where it went.
 */
import { request } from 'undici'
import { MessengerHttp, garbled, parseObject, type HttpOptions, type MessengerAdapter, type SendOutcome, type SendRequest, type Unreachable } from './adapter.js'

export interface TelegramOptions extends HttpOptions {
  baseUrl: string
  token: string
}

/** A judged answer, or: the chat moved to this id (send again there). */
export type TelegramOutcome = SendOutcome | { result: 'migrated', chatId: string }

export function createTelegramAdapter (options: TelegramOptions): MessengerAdapter {
  const http = new MessengerHttp(options.baseUrl, options.token, options)
  const path = `/bot${options.token}/sendMessage`
  // Numeric chat ids fit in 52 bits, so a JS number carries them exactly.
  const chatIdOf = (address: string) => address.startsWith('@') ? address : Number(address)
  const post = async (address: string, text: string, idempotencyKey: string) =>
    await http.send(path, { 'idempotency-key': idempotencyKey }, { chat_id: chatIdOf(address), text }, classifyTelegram)

  return {
    messenger: 'telegram',
    displayUrl: `${options.baseUrl}/bot<token>/sendMessage`,
    async send ({ address, text, idempotencyKey }: SendRequest): Promise<SendOutcome> {
      const first = await post(address, text, idempotencyKey)
      if (first.result !== 'migrated') return first
      // Once: a supergroup does not migrate again.
      const second = await post(first.chatId, text, idempotencyKey)
      if (second.result === 'migrated') return { result: 'permanent', error: `telegram 400: the chat moved to ${first.chatId}, which moved again to ${second.chatId}` }
      return second.result === 'accepted' ? { ...second, address: first.chatId } : second
    },
    close: () => http.close()
  }
}

export function classifyTelegram (status: number, body: string): TelegramOutcome {
  const json = parseObject(body)
  if (json === undefined || typeof json.ok !== 'boolean') return garbled('telegram', status, body)
  if (json.ok) {
    const result = json.result as { message_id?: unknown } | undefined
    if (typeof result?.message_id !== 'number') return garbled('telegram', status, body)
    return { result: 'accepted', providerMessageId: String(result.message_id) }
  }
  const code = typeof json.error_code === 'number' ? json.error_code : status
  const error = `telegram ${code}: ${typeof json.description === 'string' ? json.description : 'no description'}`
  const parameters = json.parameters as { retry_after?: unknown, migrate_to_chat_id?: unknown } | undefined
  if (code === 400 && typeof parameters?.migrate_to_chat_id === 'number' && Number.isSafeInteger(parameters.migrate_to_chat_id)) {
    return { result: 'migrated', chatId: String(parameters.migrate_to_chat_id) }
  }
  if (code === 429) {
    const retryAfter = parameters?.retry_after
    return typeof retryAfter === 'number' && retryAfter >= 0
      ? { result: 'retryable', error, retryAfterMs: retryAfter * 1000 }
      : { result: 'retryable', error }
  }
  if (code >= 500) return { result: 'retryable', error }
  // 400 (chat not found...), 401 (token), 403 (blocked, or never started): retrying cannot help.
  const unreachable = telegramUnreachable(code, typeof json.description === 'string' ? json.description : '')
  return unreachable === undefined ? { result: 'permanent', error } : { result: 'permanent', error, unreachable }
}

/**
 * Whether a Telegram error says the chat itself is dead: every 403 (the
 * person blocked the bot, never started it, or the account is gone) and 400
 * `chat not found`. A 401 is our token, other 400s are our request.
 */
export function telegramUnreachable (code: number, description: string): Unreachable | undefined {
  if (code === 403) {
    if (/blocked/i.test(description)) return { code, reason: 'blocked' }
    if (/initiate conversation|not started|start the bot/i.test(description)) return { code, reason: 'not_started' }
    return { code, reason: 'forbidden' }
  }
  if (code === 400 && /chat not found/i.test(description)) return { code, reason: 'chat_not_found' }
  return undefined
}

/**
 * Registers `url` as the bot's webhook (`setWebhook`), with the secret
 * Telegram then sends in X-Telegram-Bot-Api-Secret-Token on every update,
 * for messages only (invite links come back as /start messages). Returns
 * undefined when it worked, else why not (never with the token).
 */
export async function setTelegramWebhook (options: Pick<TelegramOptions, 'baseUrl' | 'token' | 'timeoutMs'>, url: string, secret: string): Promise<string | undefined> {
  try {
    const { statusCode, body } = await request(`${options.baseUrl}/bot${options.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, secret_token: secret, allowed_updates: ['message'] }),
      signal: AbortSignal.timeout(options.timeoutMs)
    })
    const json = parseObject(await body.text())
    if (statusCode !== 200 || json?.ok !== true) {
      return `telegram setWebhook: HTTP ${statusCode} ${typeof json?.description === 'string' ? json.description : ''}`.trim().replaceAll(options.token, '<token>')
    }
    return undefined
  } catch (err) {
    return `telegram setWebhook: ${(err as Error).message}`.replaceAll(options.token, '<token>')
  }
}
