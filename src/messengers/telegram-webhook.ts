/**
 * What Telegram's updates bring the service (https://core.telegram.org/bots/api#update):
 * a `/start` message, which a person sends by opening the bot, with the
 * deep link's parameter when they came by `t.me/<bot>?start=<payload>`.
 * Every other update is skipped, not refused: Telegram would send it again.
 */

export type TelegramUpdate =
  | { kind: 'start', chatId: string, payload?: string }
  | { kind: 'other' }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** `/start`, `/start <payload>`, or `/start@<bot> <payload>` (as groups write it). */
const START = /^\/start(?:@[A-Za-z0-9_]+)?(?:\s+(\S+))?\s*$/

export function readTelegramUpdate (body: unknown): TelegramUpdate {
  const message = isObject(body) ? body.message : undefined
  if (!isObject(message) || typeof message.text !== 'string' || !isObject(message.chat)) return { kind: 'other' }
  const chatId = message.chat.id
  if (typeof chatId !== 'number' || !Number.isSafeInteger(chatId)) return { kind: 'other' }
  const start = START.exec(message.text)
  if (start === null) return { kind: 'other' }
  return { kind: 'start', chatId: String(chatId), ...(start[1] !== undefined && { payload: start[1] }) }
}
