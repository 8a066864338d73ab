/**
 * Dispatch and delivery records in Redis: the source of truth for every
 * delivery's state and attempts. BullMQ holds the pending sends (timing,
 * retries, locks); these records say what happened to each one.
 *
 * Every change is one Lua script (delivery-scripts.ts) that checks the
 * current state first and keeps counts and indexes in step. Reads page
 * through the per-user indexes newest first, by id (ids are ULID-based, so id
 * order is creation order): keyset pagination, stable while others write.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { encodeTime } from 'ulid'
import type { RedisKeys } from '../redis-keys.js'
import { isMessenger, type Messenger } from '../messengers/messenger.js'
import {
  deliveryId, dispatchOf, DELIVERY_STATES, isTerminal, legIndexOf, PENDING_STATES, TERMINAL_STATES,
  type Delivery, type DeliveryState, type Dispatch, type NewDelivery, type NewDispatch,
  type StateCounts, type TerminalState
} from './delivery.js'
import * as scripts from './delivery-scripts.js'

type Reply = string | number | null | Reply[]

interface ScriptedRedis extends Redis {
  deliveryCreate (...args: Array<string | number>): Promise<number>
  deliveryStart (...args: Array<string | number>): Promise<Reply[] | null>
  deliveryTransition (...args: Array<string | number>): Promise<Reply[] | null>
  deliveryTransitionStart (...args: Array<string | number>): Promise<[Reply[] | null, Reply[] | null]>
  deliveryCancel (...args: Array<string | number>): Promise<string[]>
  deliveryRedrive (...args: Array<string | number>): Promise<Reply[][]>
  deliveryRelease (...args: Array<string | number>): Promise<string[]>
  deliveryExpire (...args: Array<string | number>): Promise<number>
  deliveryPurge (...args: Array<string | number>): Promise<number>
}

const COMMANDS: Record<string, string> = {
  deliveryCreate: scripts.CREATE,
  deliveryStart: scripts.START,
  deliveryTransition: scripts.TRANSITION,
  deliveryTransitionStart: scripts.TRANSITION_START,
  deliveryCancel: scripts.CANCEL,
  deliveryRedrive: scripts.REDRIVE,
  deliveryRelease: scripts.RELEASE,
  deliveryExpire: scripts.EXPIRE,
  deliveryPurge: scripts.PURGE
}

/** How many ids one script call or one pipelined read handles: bounds how long Redis is busy at a time. */
const CHUNK = 1000

export type StartResult =
  | { kind: 'send', attempts: number, messenger: Messenger, address: string, text: string, user: string }
  /** Ended by this start instead of being sent: past its expires_at, or cancelled while a crashed attempt held it. */
  | { kind: 'ended', state: 'expired' | 'cancelled' }
  /** Already finished before: nothing to send. */
  | { kind: 'finished', state: DeliveryState }
  /** The job belongs to an older generation of the delivery (it was redriven since). */
  | { kind: 'stale' }
  | { kind: 'unknown' }

/** A leg waiting for its send job. */
export interface WaitingLeg {
  id: string
  messenger: Messenger
  /** Bumped by every redrive; part of the job id, so an old job never sends the new attempt. */
  generation: number
}

export interface TransitionFields {
  url?: string
  lastError?: string
  providerMessageId?: string
}

/** What a cancel did to one leg. */
export type CancelOutcome =
  | { kind: 'cancelled' }
  /** Being sent: it may arrive; if it would be retried, it ends `cancelled` instead. */
  | { kind: 'in_flight' }
  /** It had already ended (this is how). */
  | { kind: 'finished', state: TerminalState }
  | { kind: 'unknown' }

export type RedriveOutcome =
  | { id: string, outcome: 'redriven', leg: WaitingLeg }
  | { id: string, outcome: DeliveryState | 'unknown' }

export interface DeliveryFilter {
  state?: DeliveryState
  dispatch?: string
  contact?: string
  messenger?: Messenger
  /** Created at or after (epoch ms). */
  createdFrom?: number
  /** Created before (epoch ms). */
  createdBefore?: number
  /** The last id of the previous page. */
  after?: string
  limit: number
}

export interface Page<T> {
  items: T[]
  /** The id to continue after; absent when there is nothing more. */
  next?: string
}

export interface DeliveryStore {
  /**
   * Writes a dispatch and all its deliveries at once, suppressing repeats,
   * and puts the dispatch in the outbox until `markQueued` says its jobs are
   * in BullMQ. Returns how many legs were suppressed.
   */
  createDispatch (dispatch: NewDispatch, legs: readonly NewDelivery[]): Promise<{ suppressed: number }>
  markQueued (dispatchId: string): Promise<void>
  /** Dispatches that entered the outbox before `before` (epoch ms) and are still in it. */
  outboxDue (before: number): Promise<string[]>
  /** Moves the dispatch's `scheduled` legs to `queued` and returns every leg waiting for a job. */
  release (dispatchId: string): Promise<WaitingLeg[]>
  /** Ends every leg of the dispatch that is still waiting `expired`; returns how many. */
  expire (dispatchId: string): Promise<number>
  start (id: string, generation: number): Promise<StartResult>
  /**
   * `finish(id, state, fields)` and `start(next.id, next.generation)` in one
   * round trip: a sender that is done with one delivery of a batch and goes
   * on to the next.
   */
  finishAndStart (id: string, state: TerminalState, fields: TransitionFields, next: { id: string, generation: number }): Promise<{ finished: boolean, next: StartResult }>
  /**
   * Moves a pending delivery to a terminal state; false when it was already finished
   * (or, with `generation`, when it is in another generation: a newer job has it).
   */
  finish (id: string, state: TerminalState, fields?: TransitionFields, generation?: number): Promise<boolean>
  /**
   * Puts a `sending` delivery back to `queued` for its next attempt, or ends it
   * `cancelled`/`expired` when that is what it now is. Returns the state it is
   * in afterwards, undefined when it was not `sending`. With `nextGeneration`,
   * the delivery moves to that generation: its next attempt is a job of its own
   * (a retry out of a batch), and a rerun of the old job finds it stale.
   */
  requeue (id: string, fields: TransitionFields, nextGeneration?: number): Promise<DeliveryState | undefined>
  cancel (ids: readonly string[]): Promise<CancelOutcome[]>
  redrive (ids: readonly string[]): Promise<RedriveOutcome[]>
  /** Deletes the user's finished deliveries (that finished before `before`, if given); returns how many. */
  purge (user: string, before?: number): Promise<number>
  get (id: string): Promise<Delivery | undefined>
  getDispatch (id: string): Promise<Dispatch | undefined>
  /** The ids of a dispatch's deliveries, in leg order (purged ones included: the scripts answer 'unknown' for them). */
  legIds (dispatchId: string): Promise<string[]>
  /** The user's deliveries matching the filter, newest first. Examines a bounded number per page, so a page may be short. */
  listDeliveries (user: string, filter: DeliveryFilter): Promise<Page<Delivery>>
  listDispatches (user: string, options: { after?: string, limit: number }): Promise<Page<Dispatch>>
  /** Counts per state over all the user's deliveries, and the number of dispatches. */
  userTotals (user: string): Promise<{ dispatches: number, counts: StateCounts }>
  /** Counts per state over all the user's deliveries (userTotals without the dispatch count). */
  stateCounts (user: string): Promise<StateCounts>
  /** Every user with delivery history. */
  users (): Promise<string[]>
}

const FIELD_NAMES: Record<keyof TransitionFields, string> = {
  url: 'url',
  lastError: 'error',
  providerMessageId: 'provider_message_id'
}

const DISPATCH_FIELDS = ['user', 'text', 'created_at', 'send_at', 'expires_at'] as const

function countsOf (hash: Record<string, string>): StateCounts {
  return Object.fromEntries(DELIVERY_STATES.map((s) => [s, Math.max(0, Number(hash[`n:${s}`] ?? 0))])) as StateCounts
}

function toDispatch (id: string, hash: Record<string, string>): Dispatch | undefined {
  if (hash.user === undefined) return undefined
  return {
    id,
    user: hash.user,
    text: hash.text ?? '',
    createdAt: Number(hash.created_at),
    sendAt: Number(hash.send_at),
    ...(hash.expires_at !== undefined && { expiresAt: Number(hash.expires_at) }),
    total: Number(hash.total ?? 0),
    counts: countsOf(hash)
  }
}

function toDelivery (id: string, leg: Record<string, string>, dispatch: Array<string | null>): Delivery | undefined {
  const [user, text, createdAt, sendAt, expiresAt] = dispatch
  if (leg.state === undefined || user == null || !isMessenger(leg.messenger ?? '')) return undefined
  return {
    id,
    dispatchId: dispatchOf(id),
    user,
    contact: leg.contact ?? '',
    messenger: leg.messenger as Messenger,
    address: leg.address ?? '',
    text: text ?? '',
    state: leg.state as DeliveryState,
    attempts: Number(leg.attempts ?? 0),
    createdAt: Number(createdAt),
    sendAt: Number(sendAt),
    ...(expiresAt != null && { expiresAt: Number(expiresAt) }),
    // A delivery not changed since it was created has no updated_at of its own.
    updatedAt: leg.updated_at === undefined ? Number(createdAt) : Number(leg.updated_at),
    ...(leg.finished_at !== undefined && { finishedAt: Number(leg.finished_at) }),
    ...(leg.duplicate_of !== undefined && { duplicateOf: leg.duplicate_of }),
    ...(leg.url !== undefined && { url: leg.url }),
    ...(leg.error !== undefined && { lastError: leg.error }),
    ...(leg.provider_message_id !== undefined && { providerMessageId: leg.provider_message_id })
  }
}

/** The start script's answer. */
function startResult (result: Reply[] | null): StartResult {
  if (result === null) return { kind: 'unknown' }
  const [state, attempts, messenger, address, text, user] = result as [string, number?, string?, string?, string?, string?]
  if (state === 'stale') return { kind: 'stale' }
  if (state === 'ended') return { kind: 'ended', state: result[1] as 'expired' | 'cancelled' }
  if (state !== 'sending') return { kind: 'finished', state: state as DeliveryState }
  if (!isMessenger(messenger ?? '') || address == null || text == null || user == null) return { kind: 'unknown' }
  return { kind: 'send', attempts: Number(attempts), messenger: messenger as Messenger, address, text, user }
}

/** A lex range bound: ids sort by creation time because they start with a ULID. */
interface Bound { value: string, inclusive: boolean }

function lexBound (bound: Bound | undefined, open: '+' | '-'): string {
  return bound === undefined ? open : `${bound.inclusive ? '[' : '('}${bound.value}`
}

function within (value: string, upper: Bound | undefined, lower: Bound | undefined): boolean {
  return (upper === undefined || value < upper.value || (upper.inclusive && value === upper.value)) &&
    (lower === undefined || value > lower.value || (lower.inclusive && value === lower.value))
}

/** The tightest of several bounds: the lowest upper bound (`-1`) or the highest lower bound (`1`); exclusive wins a tie. */
function tightest (direction: 1 | -1, ...bounds: Array<Bound | undefined>): Bound | undefined {
  return bounds.reduce<Bound | undefined>((best, b) => {
    if (b === undefined) return best
    if (best === undefined) return b
    const order = b.value === best.value ? 0 : (b.value > best.value ? 1 : -1) * direction
    return order > 0 || (order === 0 && !b.inclusive) ? b : best
  }, undefined)
}

export function createDeliveryStore (redis: Redis, keys: RedisKeys): DeliveryStore {
  const scripted = redis as ScriptedRedis
  for (const [name, lua] of Object.entries(COMMANDS)) {
    if (typeof (scripted as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 0, lua })
  }
  const P = keys.prefix

  function fieldPairs (fields: TransitionFields): string[] {
    const pairs: string[] = []
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined) pairs.push(FIELD_NAMES[name as keyof TransitionFields], value)
    }
    return pairs
  }

  async function transition (id: string, from: readonly DeliveryState[], to: DeliveryState, fields: TransitionFields = {},
    generation?: number, nextGeneration?: number) {
    return await scripted.deliveryTransition(P, id, Date.now(), from.join(','), to, generation ?? '', nextGeneration ?? '', ...fieldPairs(fields))
  }

  async function legsOf (dispatchId: string): Promise<number> {
    return Number(await redis.hget(keys.dispatch(dispatchId), 'legs') ?? 0)
  }

  /** Runs a per-range script over all of a dispatch's legs, a chunk at a time. */
  async function overLegs<T> (dispatchId: string, run: (first: number, last: number) => Promise<T>): Promise<T[]> {
    const legs = await legsOf(dispatchId)
    const results: T[] = []
    for (let first = 0; first < legs; first += CHUNK) results.push(await run(first, Math.min(legs, first + CHUNK) - 1))
    return results
  }

  /** Reads deliveries with their dispatches' fields; undefined where a record is gone. */
  async function getMany (ids: readonly string[]): Promise<Array<Delivery | undefined>> {
    const pipeline = redis.pipeline()
    const dispatchIds = [...new Set(ids.map(dispatchOf))]
    for (const id of ids) pipeline.hgetall(keys.delivery(id))
    for (const id of dispatchIds) pipeline.hmget(keys.dispatch(id), ...DISPATCH_FIELDS)
    const results = await pipeline.exec() ?? []
    const failed = results.find(([err]) => err !== null)
    if (failed !== undefined) throw failed[0]
    const dispatches = new Map(dispatchIds.map((id, i) => [id, results[ids.length + i]![1] as Array<string | null>]))
    return ids.map((id, i) => toDelivery(id, results[i]![1] as Record<string, string>, dispatches.get(dispatchOf(id))!))
  }

  /** Candidate ids newest first, from a terminal state's index, in batches. */
  async function * fromIndex (key: string, upper: Bound | undefined, lower: Bound | undefined): AsyncGenerator<string[]> {
    let max = lexBound(upper, '+')
    const min = lexBound(lower, '-')
    for (;;) {
      const ids = await redis.zrevrangebylex(key, max, min, 'LIMIT', 0, CHUNK)
      if (ids.length === 0) return
      yield ids
      max = `(${ids[ids.length - 1]!}`
    }
  }

  /** A dispatch's leg ids from `from` down to the first, in batches. */
  async function * legsDown (dispatchId: string, from: number): AsyncGenerator<string[]> {
    for (let index = from; index >= 0;) {
      const ids: string[] = []
      for (const stop = Math.max(-1, index - CHUNK); index > stop; index--) ids.push(deliveryId(dispatchId, index))
      yield ids
    }
  }

  /** Candidate ids newest first, walking the user's dispatches (or the one asked for) and each one's legs from the last. */
  async function * fromDispatches (user: string, filter: DeliveryFilter, upper: Bound | undefined, lower: Bound | undefined): AsyncGenerator<string[]> {
    // A cursor resumes its own dispatch just below its leg.
    const resume = filter.after === undefined
      ? undefined
      : { dispatch: dispatchOf(filter.after), index: legIndexOf(filter.after) - 1 }
    if (filter.dispatch !== undefined) {
      if (!within(filter.dispatch, upper, lower) || (resume !== undefined && resume.dispatch !== filter.dispatch)) return
      yield * legsDown(filter.dispatch, resume?.index ?? await legsOf(filter.dispatch) - 1)
      return
    }
    let max = resume === undefined ? lexBound(upper, '+') : `[${resume.dispatch}`
    const min = lexBound(lower, '-')
    for (;;) {
      const dispatchIds = await redis.zrevrangebylex(keys.dispatches(user), max, min, 'LIMIT', 0, 50)
      if (dispatchIds.length === 0) return
      const pipeline = redis.pipeline()
      for (const id of dispatchIds) pipeline.hget(keys.dispatch(id), 'legs')
      const legs = (await pipeline.exec() ?? []).map(([, n]) => Number(n ?? 0))
      for (const [i, dispatchId] of dispatchIds.entries()) {
        yield * legsDown(dispatchId, resume?.dispatch === dispatchId ? resume.index : legs[i]! - 1)
      }
      max = `(${dispatchIds[dispatchIds.length - 1]!}`
    }
  }

  function matches (d: Delivery, filter: DeliveryFilter): boolean {
    return (filter.state === undefined || d.state === filter.state) &&
      (filter.contact === undefined || d.contact === filter.contact) &&
      (filter.messenger === undefined || d.messenger === filter.messenger)
  }

  async function stateCounts (user: string): Promise<StateCounts> {
    return countsOf(await redis.hgetall(keys.stats(user)))
  }

  return {
    async createDispatch (dispatch, legs) {
      const initial = dispatch.sendAt > dispatch.createdAt ? 'scheduled' : 'queued'
      const flat: string[] = new Array<string>(3 * legs.length)
      legs.forEach((leg, i) => {
        flat[3 * i] = leg.contact
        flat[3 * i + 1] = leg.messenger
        flat[3 * i + 2] = leg.address
      })
      return {
        suppressed: await scripted.deliveryCreate(
          P, dispatch.id, dispatch.user, dispatch.createdAt, dispatch.text, dispatch.sendAt, dispatch.expiresAt ?? '',
          initial, dispatch.dedupWindowSeconds, textFingerprint(dispatch.text), JSON.stringify(flat)
        )
      }
    },

    async markQueued (dispatchId) {
      await redis.zrem(keys.outbox, dispatchId)
    },

    async outboxDue (before) {
      return await redis.zrangebyscore(keys.outbox, '-inf', before)
    },

    async release (dispatchId) {
      const chunks = await overLegs(dispatchId, async (first, last) => await scripted.deliveryRelease(P, dispatchId, Date.now(), first, last))
      const waiting: WaitingLeg[] = []
      for (const flat of chunks) {
        for (let i = 0; i + 2 < flat.length; i += 3) {
          const messenger = flat[i + 1]!
          if (isMessenger(messenger)) waiting.push({ id: flat[i]!, messenger, generation: Number(flat[i + 2]) })
        }
      }
      return waiting
    },

    async expire (dispatchId) {
      const counts = await overLegs(dispatchId, async (first, last) => await scripted.deliveryExpire(P, dispatchId, Date.now(), first, last))
      return counts.reduce((a, b) => a + b, 0)
    },

    async start (id, generation) {
      return startResult(await scripted.deliveryStart(P, id, Date.now(), generation))
    },

    async finishAndStart (id, state, fields, next) {
      const [finished, started] = await scripted.deliveryTransitionStart(
        P, Date.now(), id, PENDING_STATES.join(','), state, '', next.id, next.generation, ...fieldPairs(fields))
      return { finished: finished !== null && finished[0] === 1, next: startResult(started) }
    },

    async finish (id, state, fields, generation) {
      const result = await transition(id, PENDING_STATES, state, fields, generation)
      return result !== null && result[0] === 1
    },

    async requeue (id, fields, nextGeneration) {
      const result = await transition(id, ['sending'], 'queued', fields, undefined, nextGeneration)
      return result !== null && result[0] === 1 ? result[2] as DeliveryState : undefined
    },

    async cancel (ids) {
      const outcomes: CancelOutcome[] = []
      for (let i = 0; i < ids.length; i += CHUNK) {
        for (const reply of await scripted.deliveryCancel(P, Date.now(), ...ids.slice(i, i + CHUNK))) {
          outcomes.push(reply.startsWith('finished:')
            ? { kind: 'finished', state: reply.slice('finished:'.length) as TerminalState }
            : { kind: reply as 'cancelled' | 'in_flight' | 'unknown' })
        }
      }
      return outcomes
    },

    async redrive (ids) {
      const outcomes: RedriveOutcome[] = []
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK)
        const replies = await scripted.deliveryRedrive(P, Date.now(), ...chunk)
        replies.forEach(([outcome, generation, messenger], j) => {
          const id = chunk[j]!
          outcomes.push(outcome === 'redriven' && isMessenger(String(messenger))
            ? { id, outcome: 'redriven', leg: { id, messenger: messenger as Messenger, generation: Number(generation) } }
            : { id, outcome: outcome as DeliveryState | 'unknown' })
        })
      }
      return outcomes
    },

    async purge (user, before) {
      let purged = 0
      for (const state of TERMINAL_STATES) {
        // Ids created after `before` cannot have finished before it.
        const max = before === undefined ? '+' : `(${encodeTime(before, 10)}`
        let min = '-'
        for (;;) {
          const ids = await redis.zrangebylex(keys.finished(user, state), min, max, 'LIMIT', 0, CHUNK)
          if (ids.length === 0) break
          purged += await scripted.deliveryPurge(P, user, before ?? '', state, ...ids)
          min = `(${ids[ids.length - 1]!}`
        }
      }
      return purged
    },

    async get (id) {
      return (await getMany([id]))[0]
    },

    async getDispatch (id) {
      return toDispatch(id, await redis.hgetall(keys.dispatch(id)))
    },

    async legIds (dispatchId) {
      return Array.from({ length: await legsOf(dispatchId) }, (_, i) => deliveryId(dispatchId, i))
    },

    async listDeliveries (user, filter) {
      const timeUpper = filter.createdBefore === undefined ? undefined : { value: encodeTime(filter.createdBefore, 10), inclusive: false }
      const timeLower = filter.createdFrom === undefined ? undefined : { value: encodeTime(filter.createdFrom, 10), inclusive: true }
      const dispatchUpper = filter.dispatch === undefined ? undefined : { value: `${filter.dispatch}/`, inclusive: false }
      const dispatchLower = filter.dispatch === undefined ? undefined : { value: `${filter.dispatch}.`, inclusive: true }
      const afterBound = filter.after === undefined ? undefined : { value: filter.after, inclusive: false }
      const upper = tightest(-1, timeUpper, dispatchUpper, afterBound)
      const lower = tightest(1, timeLower, dispatchLower)

      const batches = filter.state !== undefined && isTerminal(filter.state)
        ? fromIndex(keys.finished(user, filter.state), upper, lower)
        : fromDispatches(user, filter, tightest(-1, timeUpper, dispatchUpper), timeLower)
      // Bounded work per page: a rare match far down the history costs several pages, not one slow request.
      const budget = Math.max(filter.limit * 10, 2000)
      const items: Delivery[] = []
      let examined = 0
      for await (const ids of batches) {
        const found = await getMany(ids)
        for (const [i, id] of ids.entries()) {
          examined++
          const delivery = found[i]
          if (delivery !== undefined && delivery.user === user && matches(delivery, filter)) {
            items.push(delivery)
            if (items.length === filter.limit) return { items, next: id }
          }
          if (examined >= budget) return { items, next: id }
        }
      }
      return { items }
    },

    async listDispatches (user, { after, limit }) {
      const ids = await redis.zrevrangebylex(keys.dispatches(user), after === undefined ? '+' : `(${after}`, '-', 'LIMIT', 0, limit + 1)
      const page = ids.slice(0, limit)
      const pipeline = redis.pipeline()
      for (const id of page) pipeline.hgetall(keys.dispatch(id))
      const results = await pipeline.exec() ?? []
      const items = page.map((id, i) => toDispatch(id, results[i]?.[1] as Record<string, string>)).filter((d): d is Dispatch => d !== undefined)
      return { items, ...(ids.length > limit && { next: page[page.length - 1] }) }
    },

    async userTotals (user) {
      const [counts, dispatches] = await Promise.all([stateCounts(user), redis.zcard(keys.dispatches(user))])
      return { dispatches, counts }
    },

    stateCounts,

    async users () {
      return await redis.smembers(keys.users)
    }
  }
}

/** Identifies a text for duplicate suppression without keeping the text in the key. */
export function textFingerprint (text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22)
}
