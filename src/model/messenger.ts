/**
 * The three messengers, what an address on each looks like, and how long a
 * text each accepts (see docs/messengers.md). The API, the sender adapters
 * and the mock server all take these facts from here.
 */

export const MESSENGERS = ['telegram', 'whatsapp', 'viber'] as const
export type Messenger = typeof MESSENGERS[number]

export function isMessenger (value: string): value is Messenger {
  return (MESSENGERS as readonly string[]).includes(value)
}

/** The messengers that report on a message after accepting it (Telegram sends no receipts). */
export const RECEIPT_MESSENGERS = ['whatsapp', 'viber'] as const satisfies readonly Messenger[]

export function hasReceipts (messenger: Messenger): messenger is typeof RECEIPT_MESSENGERS[number] {
  return (RECEIPT_MESSENGERS as readonly string[]).includes(messenger)
}

/** Longest text each messenger accepts, in UTF-16 code units (what the APIs count). */
export const TEXT_LIMITS: Record<Messenger, number> = {
  telegram: 4096,
  whatsapp: 4096,
  viber: 7000
}

const TELEGRAM_CHAT_ID = /^-?[1-9][0-9]{0,15}$/
const TELEGRAM_USERNAME = /^@?[A-Za-z][A-Za-z0-9_]{4,31}$/
const WHATSAPP_E164 = /^\+[1-9][0-9]{6,14}$/
const VIBER_ID = /^[A-Za-z0-9+/=_-]{1,64}$/

/**
 * Checks one address and returns it in the form the messenger's API takes,
 * or a reason it is not valid. A Telegram username may be given without its
 * `@` (the legacy examples do that: "ArtemZaitsev").
 */
export function normalizeAddress (messenger: Messenger, raw: string):
{ ok: true, address: string } | { ok: false, reason: string } {
  const value = raw.trim()
  switch (messenger) {
    case 'telegram':
      // Chat ids fit in 52 bits; a larger number would be rounded on its way into JSON and reach another chat.
      if (TELEGRAM_CHAT_ID.test(value) && Number.isSafeInteger(Number(value))) return { ok: true, address: value }
      if (TELEGRAM_USERNAME.test(value)) return { ok: true, address: value.startsWith('@') ? value : `@${value}` }
      return { ok: false, reason: 'must be a numeric chat id or a username of 5-32 letters, digits and _' }
    case 'whatsapp':
      if (WHATSAPP_E164.test(value)) return { ok: true, address: value }
      return { ok: false, reason: 'must be an E.164 phone number such as +15551234567' }
    case 'viber':
      if (VIBER_ID.test(value)) return { ok: true, address: value }
      return { ok: false, reason: 'must be a Viber user id of at most 64 characters from A-Z a-z 0-9 + / = _ -' }
  }
}

/**
 * Why a failure says the address itself is dead (docs/messengers.md): the
 * person blocked the bot or never started it (or the account is gone), the
 * chat does not exist, the number is not on WhatsApp, the Viber user is not
 * registered, not subscribed, or unsubscribed. Sending there again cannot
 * succeed until something changes on the person's side.
 */
export const UNREACHABLE_REASONS = ['blocked', 'not_started', 'forbidden', 'chat_not_found', 'not_on_whatsapp', 'not_registered', 'not_subscribed', 'unsubscribed'] as const
export type UnreachableReason = typeof UNREACHABLE_REASONS[number]
