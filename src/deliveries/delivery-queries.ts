/**
 * Reading dispatches and deliveries back. Listings page through the per-user
 * indexes newest first, by id (ids start with a ULID, so id order is
 * creation order): keyset pagination, stable while others write.
 *
 * A listing of one finished state walks that state's index of the user; any
 * other listing walks the user's dispatches (or the one asked for) and each
 * one's deliveries from the last index down.
 */
import type { RedisClient } from '../redis-connection.js'
import { encodeTime } from 'ulid'
import type { Messenger } from '../model/messenger.js'
import type { RedisKeys } from '../redis-keys.js'
import {
  deliveryId, deliveryIndexOf, dispatchOf, isFinished,
  type Delivery, type DeliveryState, type Dispatch, type StateCounts
} from '../model/delivery.js'
import { countsOf, SHARED_DISPATCH_FIELDS, toDelivery, toDispatch } from './delivery-records.js'

/** How many ids one script call or one pipelined read handles: bounds how long Redis is busy at a time. */
export const CHUNK = 1000

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

export interface DeliveryQueries {
  get (id: string): Promise<Delivery | undefined>
  /** Several deliveries at once, in the order asked (undefined where there is none): one pipelined read. */
  getMany (ids: readonly string[]): Promise<Array<Delivery | undefined>>
  getDispatch (id: string): Promise<Dispatch | undefined>
  /** How many deliveries the dispatch was created with (0 when there is no such dispatch). */
  deliveryCount (dispatchId: string): Promise<number>
  /** The ids of a dispatch's deliveries, in index order (purged ones included: the scripts answer 'unknown' for them). */
  deliveryIds (dispatchId: string): Promise<string[]>
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

function matches (d: Delivery, filter: DeliveryFilter): boolean {
  return (filter.state === undefined || d.state === filter.state) &&
    (filter.contact === undefined || d.contact === filter.contact) &&
    (filter.messenger === undefined || d.messenger === filter.messenger)
}

/** A dispatch's delivery ids from index `from` down to 0, in batches. */
function * idsDown (dispatchId: string, from: number): Generator<string[]> {
  for (let index = from; index >= 0;) {
    const ids: string[] = []
    for (const stop = Math.max(-1, index - CHUNK); index > stop; index--) ids.push(deliveryId(dispatchId, index))
    yield ids
  }
}

export function createDeliveryQueries (redis: RedisClient, keys: RedisKeys): DeliveryQueries {
  async function deliveryCount (dispatchId: string): Promise<number> {
    return Number(await redis.hget(keys.dispatch(dispatchId), 'legs') ?? 0)
  }

  /** Reads deliveries with their dispatches' fields; undefined where a record is gone. */
  async function getMany (ids: readonly string[]): Promise<Array<Delivery | undefined>> {
    const pipeline = redis.pipeline()
    const dispatchIds = [...new Set(ids.map(dispatchOf))]
    for (const id of ids) pipeline.hgetall(keys.delivery(id))
    for (const id of dispatchIds) pipeline.hmget(keys.dispatch(id), ...SHARED_DISPATCH_FIELDS)
    const results = await pipeline.exec() ?? []
    const failed = results.find(([err]) => err !== null)
    if (failed !== undefined) throw failed[0]
    const dispatches = new Map(dispatchIds.map((id, i) => [id, results[ids.length + i]![1] as Array<string | null>]))
    return ids.map((id, i) => toDelivery(id, results[i]![1] as Record<string, string>, dispatches.get(dispatchOf(id))!))
  }

  /** Candidate ids newest first, from a finished state's index, in batches. */
  async function * fromStateIndex (indexKey: string, upper: Bound | undefined, lower: Bound | undefined): AsyncGenerator<string[]> {
    let max = lexBound(upper, '+')
    const min = lexBound(lower, '-')
    for (;;) {
      const ids = await redis.zrevrangebylex(indexKey, max, min, 'LIMIT', 0, CHUNK)
      if (ids.length === 0) return
      yield ids
      max = `(${ids[ids.length - 1]!}`
    }
  }

  /** Candidate ids newest first, walking the user's dispatches (or the one asked for) and each one's deliveries from the last. */
  async function * fromDispatches (user: string, filter: DeliveryFilter, upper: Bound | undefined, lower: Bound | undefined): AsyncGenerator<string[]> {
    // A cursor resumes its own dispatch just below its delivery.
    const resume = filter.after === undefined
      ? undefined
      : { dispatch: dispatchOf(filter.after), index: deliveryIndexOf(filter.after) - 1 }
    if (filter.dispatch !== undefined) {
      if (!within(filter.dispatch, upper, lower) || (resume !== undefined && resume.dispatch !== filter.dispatch)) return
      yield * idsDown(filter.dispatch, resume?.index ?? await deliveryCount(filter.dispatch) - 1)
      return
    }
    let max = resume === undefined ? lexBound(upper, '+') : `[${resume.dispatch}`
    const min = lexBound(lower, '-')
    for (;;) {
      const dispatchIds = await redis.zrevrangebylex(keys.dispatches(user), max, min, 'LIMIT', 0, 50)
      if (dispatchIds.length === 0) return
      const pipeline = redis.pipeline()
      for (const id of dispatchIds) pipeline.hget(keys.dispatch(id), 'legs')
      const counts = (await pipeline.exec() ?? []).map(([, n]) => Number(n ?? 0))
      for (const [i, dispatchId] of dispatchIds.entries()) {
        yield * idsDown(dispatchId, resume?.dispatch === dispatchId ? resume.index : counts[i]! - 1)
      }
      max = `(${dispatchIds[dispatchIds.length - 1]!}`
    }
  }

  async function stateCounts (user: string): Promise<StateCounts> {
    return countsOf(await redis.hgetall(keys.stats(user)))
  }

  return {
    async get (id) {
      return (await getMany([id]))[0]
    },

    getMany,

    async getDispatch (id) {
      return toDispatch(id, await redis.hgetall(keys.dispatch(id)))
    },

    deliveryCount,

    async deliveryIds (dispatchId) {
      return Array.from({ length: await deliveryCount(dispatchId) }, (_, i) => deliveryId(dispatchId, i))
    },

    async listDeliveries (user, filter) {
      const timeUpper = filter.createdBefore === undefined ? undefined : { value: encodeTime(filter.createdBefore, 10), inclusive: false }
      const timeLower = filter.createdFrom === undefined ? undefined : { value: encodeTime(filter.createdFrom, 10), inclusive: true }
      const dispatchUpper = filter.dispatch === undefined ? undefined : { value: `${filter.dispatch}/`, inclusive: false }
      const dispatchLower = filter.dispatch === undefined ? undefined : { value: `${filter.dispatch}.`, inclusive: true }
      const afterBound = filter.after === undefined ? undefined : { value: filter.after, inclusive: false }
      const upper = tightest(-1, timeUpper, dispatchUpper, afterBound)
      const lower = tightest(1, timeLower, dispatchLower)

      const batches = filter.state !== undefined && isFinished(filter.state)
        ? fromStateIndex(keys.finished(user, filter.state), upper, lower)
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
