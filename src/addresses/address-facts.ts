/**
 * What the messengers tell the service about an address, whoever it was sent
 * to for: when a WhatsApp number last wrote to the business (its 24-hour
 * customer-service window), when a Viber user subscribed to the bot or left.
 * These are facts about the messenger account the service sends from, not
 * about a user's book, so they are kept per address (src/redis-keys.ts).
 */
import type { RedisClient } from '../redis-connection.js'
import type { WhatsAppWindow } from '../messengers/adapter.js'
import type { RedisKeys } from '../redis-keys.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { sourcePath } from '../source-path.js'

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'address')

type ScriptedRedis = RedisClient & { addressNote (key: string, field: string, at: number, keepSeconds: number): Promise<number> }

/** WhatsApp's customer-service window. */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000
/**
 * A send this close to the window's end counts it as closed: the message
 * must reach the person inside it, and the clocks of the two sides differ.
 */
const WINDOW_MARGIN_MS = 5 * 60_000
/** How long an address's facts are kept after the last one: beyond that, a window is unknown again. */
const KEEP_SECONDS = 90 * 24 * 3600

export interface ViberSubscription {
  subscribedAt?: number
  unsubscribedAt?: number
}

export interface AddressFacts {
  /** A WhatsApp number wrote to the business at `at` (epoch ms). */
  noteInbound (number: string, at: number): Promise<void>
  /** The number's window at `now`: open, closed (it wrote, longer ago), or unknown (never heard from). */
  whatsappWindow (number: string, now?: number): Promise<WhatsAppWindow>
  /** A Viber user subscribed to the bot (or started a subscribed conversation), or unsubscribed, at `at`. */
  noteViberSubscription (user: string, subscribed: boolean, at: number): Promise<void>
  viberSubscription (user: string): Promise<ViberSubscription>
}

export function createAddressFacts (redis: RedisClient, keys: RedisKeys): AddressFacts {
  defineScripts(redis, SCRIPTS)
  const scripted = redis as ScriptedRedis
  return {
    async noteInbound (number, at) {
      await scripted.addressNote(keys.address('whatsapp', number), 'inbound_at', at, KEEP_SECONDS)
    },

    async whatsappWindow (number, now = Date.now()) {
      const at = await redis.hget(keys.address('whatsapp', number), 'inbound_at')
      if (at === null) return 'unknown'
      return now < Number(at) + WHATSAPP_WINDOW_MS - WINDOW_MARGIN_MS ? 'open' : 'closed'
    },

    async noteViberSubscription (user, subscribed, at) {
      await scripted.addressNote(keys.address('viber', user), subscribed ? 'subscribed_at' : 'unsubscribed_at', at, KEEP_SECONDS)
    },

    async viberSubscription (user) {
      const [subscribedAt, unsubscribedAt] = await redis.hmget(keys.address('viber', user), 'subscribed_at', 'unsubscribed_at')
      return {
        ...(subscribedAt !== null && { subscribedAt: Number(subscribedAt) }),
        ...(unsubscribedAt !== null && { unsubscribedAt: Number(unsubscribedAt) })
      }
    }
  }
}
