/**
 * The deliveries' Lua scripts (lua/, one file a script, each naming its KEYS
 * and ARGV at its top), read once per process, and their commands typed.
 *
 * Each runs atomically in Redis and checks a delivery's current state before
 * it moves it, so two actors (a sender and a cancel, a crashed sender and its
 * successor, an expiry and a retry) can never give a delivery two outcomes
 * of its sending. Every move goes through lua/includes/move-delivery.lua, which
 * keeps the dispatch's and the user's counts and the per-state indexes in
 * step with the records.
 */
import type { RedisClient } from '../redis-connection.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { sourcePath } from '../source-path.js'
import { luaDeliveryModel } from '../model/delivery.js'
import type { Reply } from './delivery-records.js'

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'delivery', { 'delivery-model': luaDeliveryModel() })

type Args = Array<string | number>

/** The commands, as ioredis defines them (keys first, then arguments; see each script's header). */
export interface DeliveryCommands {
  deliveryCreate (...args: Args): Promise<number>
  deliveryReplace (...args: Args): Promise<Reply[]>
  deliveryStart (...args: Args): Promise<Reply[] | null>
  deliveryTransition (...args: Args): Promise<Reply[] | null>
  deliveryTransitionStart (...args: Args): Promise<[Reply[] | null, Reply[] | null]>
  deliveryCancel (...args: Args): Promise<string[]>
  deliveryRedrive (...args: Args): Promise<Reply[][]>
  deliveryRelease (...args: Args): Promise<string[]>
  deliveryExpire (...args: Args): Promise<number>
  deliveryPurge (...args: Args): Promise<[number, ...string[]]>
  deliveryApplyReceipts (...args: Args): Promise<[string, string, string?]>
  deliveryTrackMessage (...args: Args): Promise<string>
  deliveryFindMessage (...args: Args): Promise<[string, string, string] | null>
}

/** The connection, with the deliveries' scripts defined on it. */
export function withDeliveryScripts (redis: RedisClient): RedisClient & DeliveryCommands {
  defineScripts(redis, SCRIPTS)
  return redis as RedisClient & DeliveryCommands
}
