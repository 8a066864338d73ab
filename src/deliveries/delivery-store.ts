/**
 * Dispatch and delivery records in Redis: the source of truth for every
 * delivery's state and attempts. BullMQ holds the pending sends (timing,
 * retries, locks); these records say what happened to each one.
 *
 * Every change is one Lua script (delivery-scripts.ts) that checks the
 * current state first and keeps counts and indexes in step; the reads are in
 * delivery-queries.ts, the records' fields in delivery-records.ts.
 */
import type { Redis } from 'ioredis'
import { encodeTime } from 'ulid'
import { isMessenger, type Messenger } from '../model/messenger.js'
import type { RedisKeys } from '../redis-keys.js'
import {
  dispatchOf, PENDING_STATES, FINISHED_STATES,
  type DeliveryState, type NewDelivery, type NewDispatch, type FinishedState, type ReceiptReport
} from '../model/delivery.js'
import { CHUNK, createDeliveryQueries, type DeliveryQueries } from './delivery-queries.js'
import { fieldPairs, startResult, textFingerprint, type StartResult, type TransitionFields } from './delivery-records.js'
import { withDeliveryScripts } from './delivery-scripts.js'

export type { DeliveryFilter, Page } from './delivery-queries.js'
export type { StartResult, TransitionFields } from './delivery-records.js'

/** A delivery waiting for its send job. */
export interface WaitingDelivery {
  id: string
  messenger: Messenger
  /** Bumped by every redrive; part of the job id, so an old job never sends the new attempt. */
  generation: number
}

/** What a cancel did to one delivery. */
export type CancelOutcome =
  | { kind: 'cancelled' }
  /** Being sent: it may arrive; if it would be retried, it ends `cancelled` instead. */
  | { kind: 'in_flight' }
  /** It had already ended (this is how). */
  | { kind: 'finished', state: FinishedState }
  | { kind: 'unknown' }

export type RedriveOutcome =
  | { id: string, outcome: 'redriven', delivery: WaitingDelivery }
  | { id: string, outcome: DeliveryState | 'unknown' }

export interface DeliveryStore extends DeliveryQueries {
  /**
   * Writes a dispatch and all its deliveries at once, suppressing repeats,
   * and puts the dispatch in the outbox until `markQueued` says its jobs are
   * in BullMQ. Returns how many deliveries were suppressed.
   */
  createDispatch (dispatch: NewDispatch, deliveries: readonly NewDelivery[]): Promise<{ suppressed: number }>
  markQueued (dispatchId: string): Promise<void>
  /** Dispatches that entered the outbox before `before` (epoch ms) and are still in it. */
  outboxDue (before: number): Promise<string[]>
  /** Moves the dispatch's `scheduled` deliveries to `queued` and returns every one waiting for a job. */
  release (dispatchId: string): Promise<WaitingDelivery[]>
  /** Ends every delivery of the dispatch that is still waiting `expired`; returns how many. */
  expire (dispatchId: string): Promise<number>
  start (id: string, generation: number): Promise<StartResult>
  /**
   * `finish(id, state, fields)` and `start(next.id, next.generation)` in one
   * round trip: a sender that is done with one delivery of a batch and goes
   * on to the next.
   */
  finishAndStart (id: string, state: FinishedState, fields: TransitionFields, next: { id: string, generation: number }): Promise<{ finished: boolean, next: StartResult }>
  /**
   * Moves a pending delivery to a finished state; false when it was already finished
   * (or, with `generation`, when it is in another generation: a newer job has it).
   */
  finish (id: string, state: FinishedState, fields?: TransitionFields, generation?: number): Promise<boolean>
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
  /**
   * Applies receipts about the message `providerId` to the delivery (see
   * lua/apply-receipts-2.lua): by rank, so in any order and any number of times.
   */
  applyReceipts (id: string, providerId: string, reports: readonly ReceiptReport[]): Promise<ReceiptOutcome>
}

/** What receipts did to a delivery: moved it or added to its timeline, nothing new, too late (it was sent again since), or no such delivery. */
export type ReceiptOutcome = 'applied' | 'ignored' | 'stale' | 'unknown'

type ReportTuple = [ReceiptReport['status'], number, number | string | null, string | null]

/** A report as the scripts keep it: [status, epoch ms, code or null, error or null]. */
export function reportTuple (report: ReceiptReport): ReportTuple {
  return [report.status, report.at, report.code ?? null, report.error ?? null]
}

/** The reports of a JSON array of reportTuple ('' is none). */
export function reportsOf (json: string): ReceiptReport[] {
  if (json === '') return []
  return (JSON.parse(json) as ReportTuple[]).map(([status, at, code, error]) => ({
    status, at, ...(code !== null && { code }), ...(error !== null && { error })
  }))
}

export function createDeliveryStore (redis: Redis, keys: RedisKeys): DeliveryStore {
  const scripts = withDeliveryScripts(redis)
  const { prefix } = keys
  const queries = createDeliveryQueries(redis, keys)
  /** The keys a script about one delivery names: the delivery and its dispatch. */
  const recordKeys = (id: string) => [keys.delivery(id), keys.dispatch(dispatchOf(id))]

  async function transition (id: string, from: readonly DeliveryState[], to: DeliveryState, fields: TransitionFields = {},
    generation?: number, nextGeneration?: number) {
    return await scripts.deliveryTransition(...recordKeys(id), prefix, id, Date.now(), from.join(','), to,
      generation ?? '', nextGeneration ?? '', ...fieldPairs(fields))
  }

  /** Runs a script over all of a dispatch's deliveries, a range of indexes at a time. */
  async function inRanges<T> (dispatchId: string, run: (first: number, last: number) => Promise<T>): Promise<T[]> {
    const count = await queries.deliveryCount(dispatchId)
    const results: T[] = []
    for (let first = 0; first < count; first += CHUNK) results.push(await run(first, Math.min(count, first + CHUNK) - 1))
    return results
  }

  return {
    ...queries,

    async createDispatch (dispatch, deliveries) {
      const { id, user } = dispatch
      const initial = dispatch.sendAt > dispatch.createdAt ? 'scheduled' : 'queued'
      const flat: string[] = new Array<string>(3 * deliveries.length)
      deliveries.forEach((delivery, i) => {
        flat[3 * i] = delivery.contact
        flat[3 * i + 1] = delivery.messenger
        flat[3 * i + 2] = delivery.address
      })
      const suppressed = await scripts.deliveryCreate(
        keys.dispatch(id), keys.stats(user), keys.dispatches(user), keys.finished(user, 'suppressed'), keys.users, keys.outbox,
        prefix, id, user, dispatch.createdAt, dispatch.text, dispatch.sendAt, dispatch.expiresAt ?? '',
        initial, dispatch.dedupWindowSeconds, textFingerprint(dispatch.text), JSON.stringify(flat),
        dispatch.whatsappTemplate === undefined ? '' : JSON.stringify(dispatch.whatsappTemplate)
      )
      return { suppressed }
    },

    async markQueued (dispatchId) {
      await redis.zrem(keys.outbox, dispatchId)
    },

    async outboxDue (before) {
      return await redis.zrangebyscore(keys.outbox, '-inf', before)
    },

    async release (dispatchId) {
      const ranges = await inRanges(dispatchId, async (first, last) =>
        await scripts.deliveryRelease(keys.dispatch(dispatchId), prefix, dispatchId, Date.now(), first, last))
      const waiting: WaitingDelivery[] = []
      for (const flat of ranges) {
        for (let i = 0; i + 2 < flat.length; i += 3) {
          const messenger = flat[i + 1]!
          if (isMessenger(messenger)) waiting.push({ id: flat[i]!, messenger, generation: Number(flat[i + 2]) })
        }
      }
      return waiting
    },

    async expire (dispatchId) {
      const counts = await inRanges(dispatchId, async (first, last) =>
        await scripts.deliveryExpire(keys.dispatch(dispatchId), prefix, dispatchId, Date.now(), first, last))
      return counts.reduce((a, b) => a + b, 0)
    },

    async start (id, generation) {
      return startResult(await scripts.deliveryStart(...recordKeys(id), prefix, id, Date.now(), generation))
    },

    async finishAndStart (id, state, fields, next) {
      const [finished, started] = await scripts.deliveryTransitionStart(...recordKeys(id), ...recordKeys(next.id),
        prefix, Date.now(), id, PENDING_STATES.join(','), state, '', next.id, next.generation, ...fieldPairs(fields))
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
        for (const reply of await scripts.deliveryCancel(prefix, Date.now(), ...ids.slice(i, i + CHUNK))) {
          outcomes.push(reply.startsWith('finished:')
            ? { kind: 'finished', state: reply.slice('finished:'.length) as FinishedState }
            : { kind: reply as 'cancelled' | 'in_flight' | 'unknown' })
        }
      }
      return outcomes
    },

    async redrive (ids) {
      const outcomes: RedriveOutcome[] = []
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK)
        const replies = await scripts.deliveryRedrive(keys.outbox, prefix, Date.now(), ...chunk)
        replies.forEach(([outcome, generation, messenger], j) => {
          const id = chunk[j]!
          outcomes.push(outcome === 'redriven' && isMessenger(String(messenger))
            ? { id, outcome: 'redriven', delivery: { id, messenger: messenger as Messenger, generation: Number(generation) } }
            : { id, outcome: outcome as DeliveryState | 'unknown' })
        })
      }
      return outcomes
    },

    async applyReceipts (id, providerId, reports) {
      const [outcome] = await scripts.deliveryApplyReceipts(...recordKeys(id), prefix, id, providerId, Date.now(), JSON.stringify(reports.map(reportTuple)))
      return outcome as ReceiptOutcome
    },

    async purge (user, before) {
      let purged = 0
      for (const state of FINISHED_STATES) {
        // Ids created after `before` cannot have finished before it.
        const max = before === undefined ? '+' : `(${encodeTime(before, 10)}`
        let min = '-'
        for (;;) {
          const ids = await redis.zrangebylex(keys.finished(user, state), min, max, 'LIMIT', 0, CHUNK)
          if (ids.length === 0) break
          purged += await scripts.deliveryPurge(keys.stats(user), keys.finished(user, state), keys.dispatches(user),
            prefix, before ?? '', state, ...ids)
          min = `(${ids[ids.length - 1]!}`
        }
      }
      return purged
    }
  }
}
