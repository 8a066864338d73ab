/**
 * What Viber's callbacks bring (docs/messengers.md): `delivered`, `seen` and
 * `failed` about a message the bot sent (by its `message_token`), and what a
 * person did: `subscribed`, `unsubscribed`, `conversation_started`,
 * `message`; `webhook` is Viber checking the URL while set_webhook runs.
 */
import type { Receipt } from '../model/delivery.js'

export type ViberCallback =
  | { kind: 'receipt', receipt: Receipt }
  /** `context`: the deep link's (`viber://pa?...&context=`), when the person came by one (an invite's token). */
  | { kind: 'subscribed', user: string, at: number, context?: string, started?: true }
  /** The person opened the bot's chat, not (yet) subscribed; the service may answer with a welcome message. */
  | { kind: 'conversation_started', user: string, at: number, context?: string }
  | { kind: 'unsubscribed', user: string, at: number }
  | { kind: 'other', event: string }

const RECEIPT_STATUS = { delivered: 'delivered', seen: 'read', failed: 'failed' } as const

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The body's JSON with `message_token` kept exact: it is a 64-bit integer
 * above 2^53, which JSON.parse would round, so it is read as text first.
 * Throws a SyntaxError for a body that is not JSON.
 */
export function parseViberBody (raw: string): unknown {
  return JSON.parse(raw.replace(/("message_token"\s*:\s*)(-?\d+)/g, '$1"$2"'))
}

export function readViberCallback (body: unknown, now = Date.now()): ViberCallback {
  if (!isObject(body) || typeof body.event !== 'string') return { kind: 'other', event: 'none' }
  const at = typeof body.timestamp === 'number' && Number.isFinite(body.timestamp) ? body.timestamp : now
  const { event } = body
  if (event === 'delivered' || event === 'seen' || event === 'failed') {
    if (typeof body.message_token !== 'string' || !/^\d+$/.test(body.message_token)) return { kind: 'other', event }
    const status = RECEIPT_STATUS[event]
    const receipt: Receipt = { messenger: 'viber', providerId: body.message_token, status, at }
    return {
      kind: 'receipt',
      receipt: status === 'failed' ? { ...receipt, error: `viber failed: ${typeof body.desc === 'string' && body.desc !== '' ? body.desc : 'no reason given'}` } : receipt
    }
  }
  const user = isObject(body.user) && typeof body.user.id === 'string' ? body.user.id : typeof body.user_id === 'string' ? body.user_id : undefined
  const context = typeof body.context === 'string' && body.context !== '' ? { context: body.context } : {}
  if (user !== undefined && event === 'subscribed') return { kind: 'subscribed', user, at, ...context }
  // A subscriber opening the chat again: noted as subscribed; `started`, as the answer may be a welcome message.
  if (user !== undefined && event === 'conversation_started' && body.subscribed === true) return { kind: 'subscribed', user, at, ...context, started: true }
  if (user !== undefined && event === 'conversation_started') return { kind: 'conversation_started', user, at, ...context }
  if (user !== undefined && event === 'unsubscribed') return { kind: 'unsubscribed', user, at }
  return { kind: 'other', event }
}
