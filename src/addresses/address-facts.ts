/**
 * What the messengers tell the service about an address, whoever it was sent
 * to for: when a WhatsApp number last wrote to the business (its 24-hour
 * customer-service window), when a Viber user subscribed to the bot or left,
 * and whether the address is dead (its health: a failure said the person
 * blocked the bot, never started it, is not on the messenger...) or was
 * heard alive since.
 * These are facts about the messenger account the service sends from, not
 * about a user's book, so they are kept per address (src/redis-keys.ts).
 */
import type { RedisClient } from '../redis-connection.js'
import type { Unreachable, UnreachableReason, WhatsAppWindow } from '../messengers/adapter.js'
import { whatsappUnreachable } from '../messengers/whatsapp.js'
import type { ReceiptReport } from '../model/delivery.js'
import type { Messenger } from '../model/messenger.js'
import type { RedisKeys } from '../redis-keys.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { sourcePath } from '../source-path.js'

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'address')

type ScriptedRedis = RedisClient & {
  addressNote (key: string, field: string, at: number, keepSeconds: number): Promise<number>
  addressMarkUnreachable (key: string, at: number, reason: string, code: string, keepSeconds: number): Promise<number>
  addressClearHealth (key: string, at: number, keepSeconds: number, onlyKnown: '0' | '1'): Promise<number>
}

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

/** An address's health: reachable, or what the latest failure that said it is dead said. */
export type AddressHealth =
  | { reachable: true }
  | {
    reachable: false
    reason: UnreachableReason
    /** The messenger's code (Telegram 403, WhatsApp 131026, Viber 5...). */
    code: number | string
    /** When the latest such failure happened (epoch ms). */
    at: number
    /** Such failures since the address was last heard alive (distinct times, the latest 50 at most). */
    count: number
  }

/** An address on a messenger. */
export interface MessengerAddress {
  messenger: Messenger
  address: string
}

/** A code as stored (text) back as the messenger gave it: a number when it is one. */
const codeOf = (stored: string): number | string => /^-?\d{1,15}$/.test(stored) ? Number(stored) : stored

export interface AddressFacts {
  /**
   * A failure at `at` (epoch ms) said the address is dead. One dated no later
   * than the last time it was heard alive changes nothing (they come out of order).
   */
  markUnreachable (messenger: Messenger, address: string, unreachable: Unreachable, at: number): Promise<void>
  /**
   * The address was heard alive at `at` (default: now), or its mark is reset:
   * the failures until then no longer count. Callers: an accepted send, a
   * delivered or read receipt, a Viber subscription, an edit of the contact's
   * address, POST /v1/contacts/{name}/health/{messenger}/reset, and a new
   * connection by invite.
   */
  clearHealth (messenger: Messenger, address: string, at?: number): Promise<void>
  /**
   * As clearHealth, for the news of every send (accepted, delivered, read):
   * an address the service has no record of is left without one. (So a
   * failure told later but dated before such news still marks it; only
   * concurrent sends to one address can do that.)
   */
  noteAlive (messenger: Messenger, address: string, at: number): Promise<void>
  health (messenger: Messenger, address: string): Promise<AddressHealth>
  /**
   * What receipts about a message to the address say of it: a failure with a
   * code that says the number is dead (WhatsApp 131026) marks it, a
   * delivered or read receipt proves it alive, each at the time the messenger stamped.
   */
  noteReceipts (messenger: Messenger, address: string, reports: readonly ReceiptReport[]): Promise<void>
  /** For each address, whether it is marked dead; one pipelined read for them all (on a cluster they are in many slots). */
  unreachable (addresses: readonly MessengerAddress[]): Promise<boolean[]>
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
  const facts: AddressFacts = {
    async markUnreachable (messenger, address, unreachable, at) {
      await scripted.addressMarkUnreachable(keys.address(messenger, address), at, unreachable.reason, String(unreachable.code), KEEP_SECONDS)
    },

    async clearHealth (messenger, address, at = Date.now()) {
      await scripted.addressClearHealth(keys.address(messenger, address), at, KEEP_SECONDS, '0')
    },

    async noteAlive (messenger, address, at) {
      await scripted.addressClearHealth(keys.address(messenger, address), at, KEEP_SECONDS, '1')
    },

    async health (messenger, address) {
      const [reason, code, at, times] = await redis.hmget(keys.address(messenger, address), 'dead_reason', 'dead_code', 'dead_at', 'dead_times')
      if (reason == null || at == null || times == null) return { reachable: true }
      return { reachable: false, reason: reason as UnreachableReason, code: codeOf(code ?? ''), at: Number(at), count: (JSON.parse(times) as number[]).length }
    },

    async noteReceipts (messenger, address, reports) {
      await Promise.all(reports.map(async (report) => {
        if (report.status === 'delivered' || report.status === 'read') return await facts.noteAlive(messenger, address, report.at)
        const unreachable = report.status === 'failed' && messenger === 'whatsapp' ? whatsappUnreachable(report.code) : undefined
        if (unreachable !== undefined) await facts.markUnreachable(messenger, address, unreachable, report.at)
      }))
    },

    async unreachable (addresses) {
      // Each its own command: ioredis' auto-pipeline sends them together (per node, on a cluster).
      return await Promise.all(addresses.map(async ({ messenger, address }) => await redis.hexists(keys.address(messenger, address), 'dead_at') === 1))
    },

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
  return facts
}
