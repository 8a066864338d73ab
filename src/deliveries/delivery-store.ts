/**
 * Delivery and dispatch records in Redis: the source of truth for every
 * delivery's state and attempts. BullMQ holds the pending sends (timing,
 * retries, locks); these records say what happened to each one.
 *
 * Every state change is one Lua script that checks the current state first,
 * so two actors (a sender and a cancel, a crashed sender and its successor)
 * can never give a delivery two terminal states. The keys each script touches
 * are listed at its top.
 */
import type { Redis } from 'ioredis'
import type { RedisKeys } from '../redis-keys.js'
import { isMessenger, type Messenger } from '../messengers/messenger.js'
import {
  deliveryId, dispatchOf, PENDING_STATES,
  type Delivery, type DeliveryState, type NewDelivery, type NewDispatch, type PendingState, type TerminalState
} from './delivery.js'

/**
 * KEYS[1] delivery hash, KEYS[2] its dispatch hash. ARGV[1] now (ms).
 * A pending delivery becomes `sending` and its attempt is counted; returns
 * {state, attempts, messenger, address, text}. A finished one is left alone
 * and only its state is returned (nothing to send). Unknown: nil.
 */
const START_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if state ~= 'scheduled' and state ~= 'queued' and state ~= 'sending' then return {state} end
if state ~= 'sending' then
  redis.call('HINCRBY', KEYS[2], 'n:' .. state, -1)
  redis.call('HINCRBY', KEYS[2], 'n:sending', 1)
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'sending', 'updated_at', ARGV[1])
local leg = redis.call('HMGET', KEYS[1], 'messenger', 'address')
local text = redis.call('HGET', KEYS[2], 'text')
return {'sending', attempts, leg[1], leg[2], text}
`

/**
 * KEYS[1] delivery hash, KEYS[2] its dispatch hash, KEYS[3] the user's failed index.
 * ARGV[1] states it may leave (comma-separated), ARGV[2] new state, ARGV[3] now (ms),
 * ARGV[4] retention (s), ARGV[5] '1' when the new state is terminal, ARGV[6] delivery id,
 * ARGV[7..] field/value pairs to set.
 * Returns {1, previous state} when applied, {0, current state} when not; nil if unknown.
 * A terminal delivery starts its retention clock; its dispatch starts its own
 * when its last open delivery finishes; a failure enters the failed index.
 */
const TRANSITION_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
if not string.find(',' .. ARGV[1] .. ',', ',' .. state .. ',', 1, true) then return {0, state} end
local to = ARGV[2]
if to ~= state then
  redis.call('HINCRBY', KEYS[2], 'n:' .. state, -1)
  redis.call('HINCRBY', KEYS[2], 'n:' .. to, 1)
end
redis.call('HSET', KEYS[1], 'state', to, 'updated_at', ARGV[3])
if #ARGV >= 8 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
if ARGV[5] == '1' then
  local now = tonumber(ARGV[3])
  local retention = tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[3])
  redis.call('EXPIRE', KEYS[1], retention)
  if redis.call('HINCRBY', KEYS[2], 'open', -1) <= 0 then
    redis.call('EXPIRE', KEYS[2], retention)
  end
  if to == 'failed' then
    redis.call('ZADD', KEYS[3], now, ARGV[6])
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - retention * 1000)
    redis.call('EXPIRE', KEYS[3], retention)
  end
end
return {1, state}
`

type ScriptedRedis = Redis & {
  deliveryStart (delivery: string, dispatch: string, now: number): Promise<[string, number?, string?, string?, string?] | null>
  deliveryTransition (delivery: string, dispatch: string, failed: string, ...args: Array<string | number>): Promise<[number, string] | null>
}

export type StartResult =
  | { kind: 'send', attempts: number, messenger: Messenger, address: string, text: string }
  | { kind: 'finished', state: DeliveryState }
  | { kind: 'unknown' }

/** What a delivery's leg needs to be queued again (outbox recovery). */
export interface PendingLeg {
  id: string
  user: string
  messenger: Messenger
  sendAt: number
}

export interface TransitionFields {
  url?: string
  lastError?: string
  providerMessageId?: string
}

export interface DeliveryStore {
  /**
   * Writes a dispatch and all its deliveries in one transaction, and puts the
   * dispatch in the outbox until `markQueued` says its jobs are all in BullMQ.
   */
  createDispatch (dispatch: NewDispatch, legs: readonly NewDelivery[]): Promise<void>
  markQueued (dispatchId: string): Promise<void>
  /** Dispatches that entered the outbox before `before` (epoch ms) and are still in it. */
  outboxDue (before: number): Promise<string[]>
  /** The deliveries of a dispatch that are not finished yet. */
  pendingLegs (dispatchId: string): Promise<PendingLeg[]>
  start (id: string): Promise<StartResult>
  /** Moves a pending delivery to a terminal state; false when it was already finished. */
  finish (id: string, user: string, state: TerminalState, fields?: TransitionFields): Promise<boolean>
  /** Puts a `sending` delivery back to `queued` to wait for its next attempt. */
  requeue (id: string, user: string, fields: TransitionFields): Promise<boolean>
  get (id: string): Promise<Delivery | undefined>
  /** The user's failed deliveries, newest first, and how many there are in all. */
  listFailed (user: string, limit: number): Promise<{ total: number, deliveries: Delivery[] }>
}

const FIELD_NAMES: Record<keyof TransitionFields, string> = {
  url: 'url',
  lastError: 'error',
  providerMessageId: 'provider_message_id'
}

export function createDeliveryStore (redis: Redis, keys: RedisKeys, retentionSeconds: number): DeliveryStore {
  const scripted = redis as ScriptedRedis
  if (typeof scripted.deliveryStart !== 'function') {
    redis.defineCommand('deliveryStart', { numberOfKeys: 2, lua: START_SCRIPT })
    redis.defineCommand('deliveryTransition', { numberOfKeys: 3, lua: TRANSITION_SCRIPT })
  }

  async function transition (id: string, user: string, from: readonly DeliveryState[], to: DeliveryState,
    terminal: boolean, fields: TransitionFields = {}): Promise<boolean> {
    const pairs: string[] = []
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined) pairs.push(FIELD_NAMES[name as keyof TransitionFields], value)
    }
    const result = await scripted.deliveryTransition(
      keys.delivery(id), keys.dispatch(dispatchOf(id)), keys.failed(user),
      from.join(','), to, Date.now(), retentionSeconds, terminal ? '1' : '0', id, ...pairs
    )
    return result !== null && result[0] === 1
  }

  function toDelivery (id: string, leg: Record<string, string>, dispatch: Array<string | null>, now: number): Delivery | undefined {
    const [user, text, createdAt, sendAt] = dispatch
    if (leg.state === undefined || user == null || !isMessenger(leg.messenger ?? '')) return undefined
    let state = leg.state as DeliveryState
    // `scheduled` is stored once at accept time; past send_at the job is simply waiting its turn.
    if (state === 'scheduled' && Number(sendAt) <= now) state = 'queued'
    return {
      id,
      dispatchId: dispatchOf(id),
      user,
      contact: leg.contact ?? '',
      messenger: leg.messenger as Messenger,
      address: leg.address ?? '',
      text: text ?? '',
      state,
      attempts: Number(leg.attempts ?? 0),
      createdAt: Number(createdAt),
      sendAt: Number(sendAt),
      updatedAt: Number(leg.updated_at),
      ...(leg.finished_at !== undefined && { finishedAt: Number(leg.finished_at) }),
      ...(leg.url !== undefined && { url: leg.url }),
      ...(leg.error !== undefined && { lastError: leg.error }),
      ...(leg.provider_message_id !== undefined && { providerMessageId: leg.provider_message_id })
    }
  }

  async function getMany (ids: readonly string[]): Promise<Delivery[]> {
    const pipeline = redis.pipeline()
    for (const id of ids) {
      pipeline.hgetall(keys.delivery(id))
      pipeline.hmget(keys.dispatch(dispatchOf(id)), 'user', 'text', 'created_at', 'send_at')
    }
    const results = await pipeline.exec() ?? []
    const now = Date.now()
    const out: Delivery[] = []
    ids.forEach((id, i) => {
      const [legErr, leg] = results[2 * i] ?? []
      const [dispatchErr, dispatch] = results[2 * i + 1] ?? []
      if (legErr || dispatchErr) throw legErr ?? dispatchErr
      const delivery = toDelivery(id, leg as Record<string, string>, dispatch as Array<string | null>, now)
      if (delivery !== undefined) out.push(delivery)
    })
    return out
  }

  return {
    async createDispatch (dispatch, legs) {
      const initial: PendingState = dispatch.sendAt > dispatch.createdAt ? 'scheduled' : 'queued'
      const multi = redis.multi()
      multi.hset(keys.dispatch(dispatch.id), {
        user: dispatch.user,
        text: dispatch.text,
        created_at: dispatch.createdAt,
        send_at: dispatch.sendAt,
        total: legs.length,
        open: legs.length,
        [`n:${initial}`]: legs.length
      })
      legs.forEach((leg, index) => {
        multi.hset(keys.delivery(deliveryId(dispatch.id, index)), {
          contact: leg.contact,
          messenger: leg.messenger,
          address: leg.address,
          state: initial,
          attempts: 0,
          updated_at: dispatch.createdAt
        })
      })
      multi.zadd(keys.outbox, dispatch.createdAt, dispatch.id)
      const failed = (await multi.exec())?.find(([err]) => err !== null)
      if (failed !== undefined) throw failed[0]
    },

    async markQueued (dispatchId) {
      await redis.zrem(keys.outbox, dispatchId)
    },

    async outboxDue (before) {
      return await redis.zrangebyscore(keys.outbox, '-inf', before)
    },

    async pendingLegs (dispatchId) {
      const [user, total, sendAt] = await redis.hmget(keys.dispatch(dispatchId), 'user', 'total', 'send_at')
      if (user == null || total == null) return []
      const pipeline = redis.pipeline()
      const ids = Array.from({ length: Number(total) }, (_, index) => deliveryId(dispatchId, index))
      for (const id of ids) pipeline.hmget(keys.delivery(id), 'state', 'messenger')
      const results = await pipeline.exec() ?? []
      const legs: PendingLeg[] = []
      ids.forEach((id, i) => {
        const [state, messenger] = (results[i]?.[1] ?? []) as Array<string | null>
        if (state != null && (PENDING_STATES as readonly string[]).includes(state) && isMessenger(messenger ?? '')) {
          legs.push({ id, user, messenger: messenger as Messenger, sendAt: Number(sendAt) })
        }
      })
      return legs
    },

    async start (id) {
      const result = await scripted.deliveryStart(keys.delivery(id), keys.dispatch(dispatchOf(id)), Date.now())
      if (result === null) return { kind: 'unknown' }
      const [state, attempts, messenger, address, text] = result
      if (state !== 'sending') return { kind: 'finished', state: state as DeliveryState }
      if (!isMessenger(messenger ?? '') || address == null || text == null) return { kind: 'unknown' }
      return { kind: 'send', attempts: Number(attempts), messenger: messenger as Messenger, address, text }
    },

    finish: (id, user, state, fields) => transition(id, user, PENDING_STATES, state, true, fields),

    requeue: (id, user, fields) => transition(id, user, ['sending'], 'queued', false, fields),

    async get (id) {
      return (await getMany([id]))[0]
    },

    async listFailed (user, limit) {
      const since = Date.now() - retentionSeconds * 1000
      const [ids, total] = await Promise.all([
        redis.zrevrangebyscore(keys.failed(user), '+inf', since, 'LIMIT', 0, limit),
        redis.zcount(keys.failed(user), since, '+inf')
      ])
      return { total, deliveries: await getMany(ids) }
    }
  }
}
