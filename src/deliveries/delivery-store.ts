/**
 * Dispatch and delivery records in Redis: the source of truth for every
 * delivery's state and attempts. BullMQ holds the pending sends (timing,
 * retries, locks); these records say what happened to each one.
 *
 * Every change is one Lua script (delivery-scripts.ts) that checks the
 * current state first and keeps counts and indexes in step; the reads are in
 * delivery-queries.ts, the records' fields in delivery-records.ts.
 */
import type { RedisClient } from '../redis-connection.js'
import { encodeTime } from 'ulid'
import { isMessenger, type Messenger } from '../model/messenger.js'
import { slotOfId, slotOfUser, type RedisKeys } from '../redis-keys.js'
import {
  dispatchOf, PENDING_STATES, FINISHED_STATES,
  type DeliveryState, type NewDelivery, type NewDispatch, type FinishedState, type ReceiptReport
} from '../model/delivery.js'
import { CHUNK, createDeliveryQueries, type DeliveryQueries } from './delivery-queries.js'
import { fieldPairs, startResult, textFingerprint, type Reply, type StartResult, type TransitionFields } from './delivery-records.js'
import { withDeliveryScripts } from './delivery-scripts.js'

export type { DeliveryFilter, Page } from './delivery-queries.js'
export type { StartResult, TransitionFields } from './delivery-records.js'

/** A release job: its revision of the dispatch (an older one releases nothing) and the time it is for. */
export interface ReleaseJob { rev?: number, at?: number }

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

/** What an edit's rebuild did (lua/replace-4.lua). */
export type ReplaceOutcome =
  | { kind: 'replaced', suppressed: number, rev: number }
  /** A delivery has left `scheduled` (this is its state): nothing was changed. */
  | { kind: 'started', state: DeliveryState }
  /** Another edit came first: nothing was changed. */
  | { kind: 'changed' }
  | { kind: 'unknown' }

/** What deleting a dispatch did. */
export interface DeleteOutcome {
  /** Deliveries deleted, with their counts and index entries. */
  deleted: number
  /** Being sent at that moment: marked cancelled, kept until they finish. */
  inFlight: string[]
}

export type RedriveOutcome =
  | { id: string, outcome: 'redriven', delivery: WaitingDelivery }
  | { id: string, outcome: DeliveryState | 'unknown' }

export interface DeliveryStore extends DeliveryQueries {
  /**
   * Writes a dispatch and all its deliveries at once, suppressing repeats,
   * and puts the dispatch in the outbox, due at `dispatch.checkAt` (see
   * `outboxDue`). Returns how many deliveries were suppressed.
   */
  createDispatch (dispatch: NewDispatch, deliveries: readonly NewDelivery[]): Promise<{ suppressed: number }>
  /**
   * Rebuilds a dispatch none of whose deliveries has started, atomically
   * (lua/replace-4.lua), if it is still at revision `rev` and its text is
   * `oldText`; `dispatch.createdAt` is ignored (the first one stays).
   */
  replaceDispatch (dispatch: NewDispatch, deliveries: readonly NewDelivery[], old: { rev: number, text: string }): Promise<ReplaceOutcome>
  /**
   * Deletes a dispatch's finished deliveries with their counts and index
   * entries (cancel the pending ones first); the dispatch goes with its last delivery.
   */
  deleteDispatch (dispatchId: string): Promise<DeleteOutcome>
  /**
   * The outbox holds every dispatch not yet finished, by when the sweep is
   * next to look at it (dispatcher.reconcile): whose jobs a crash may have
   * kept from being queued, or a Redis failover may have lost. These are
   * the ones due at `now`, at most `limit`.
   */
  outboxDue (now: number, limit?: number): Promise<string[]>
  /** The outbox's sweep looks at the dispatch again at `at` (epoch ms). */
  checkAgainAt (dispatchId: string, at: number): Promise<void>
  /** The dispatch leaves the outbox: finished, or gone. */
  dropFromOutbox (dispatchId: string): Promise<void>
  /**
   * Moves the dispatch's `scheduled` deliveries to `queued` and returns every
   * one waiting for a job. With `stuckBefore` (epoch ms: reconciling), only
   * those waiting since before it, and `sending` ones too: their jobs may
   * have been lost (queueing the same job again adds nothing).
   */
  release (dispatchId: string, stuckBefore?: number, job?: ReleaseJob): Promise<WaitingDelivery[]>
  /** Ends every delivery of the dispatch that is still waiting `expired`; returns how many (none when `rev` is not the dispatch's). */
  expire (dispatchId: string, rev?: number): Promise<number>
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
  /** applyReceipts, and the delivery's address ('' when there is no such delivery): the receipts say something about it. */
  applyReceiptsTo (id: string, providerId: string, reports: readonly ReceiptReport[]): Promise<{ outcome: ReceiptOutcome, address: string }>
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

/**
 * Ids in chunks a script can take: up to CHUNK ids, all of one slot (one
 * user's; ids of several users, as a list of ids from a request may hold,
 * go in separate calls).
 */
function slotChunks (ids: readonly string[]): string[][] {
  const bySlot = new Map<string, string[]>()
  for (const id of ids) {
    const slot = slotOfId(id)
    const list = bySlot.get(slot)
    if (list === undefined) bySlot.set(slot, [id])
    else list.push(id)
  }
  return [...bySlot.values()].flatMap((slotIds) => Array.from({ length: Math.ceil(slotIds.length / CHUNK) }, (_, i) => slotIds.slice(i * CHUNK, (i + 1) * CHUNK)))
}

/** Deliveries as the create and replace scripts take them: one JSON array [contact, messenger, address, due_at, suppress, ...]. */
function flatDeliveries (deliveries: readonly NewDelivery[]): string {
  const flat = new Array<string>(5 * deliveries.length)
  deliveries.forEach((delivery, i) => {
    flat[5 * i] = delivery.contact
    flat[5 * i + 1] = delivery.messenger
    flat[5 * i + 2] = delivery.address
    flat[5 * i + 3] = delivery.dueAt === undefined ? '' : String(delivery.dueAt)
    flat[5 * i + 4] = delivery.suppress ?? ''
  })
  return JSON.stringify(flat)
}

/** The dispatch fields beyond the ones every dispatch has, as the scripts take them. */
function moreFields (dispatch: NewDispatch): string {
  const more: string[] = []
  if (dispatch.releaseTimes !== undefined && dispatch.releaseTimes.length > 0) more.push('release_times', dispatch.releaseTimes.join(','))
  if (dispatch.targets !== undefined) more.push('targets', dispatch.targets)
  return JSON.stringify(more)
}

/**
 * `redis` serves everything but the creation of a dispatch, which runs on
 * `writer` when given: one script writes all of a send's deliveries (up to
 * 100,000), and may take longer than the command timeout of the connection
 * that answers requests (src/redis-connection.ts, purpose `writes`).
 */
export function createDeliveryStore (redis: RedisClient, keys: RedisKeys, writer: RedisClient = redis): DeliveryStore {
  const scripts = withDeliveryScripts(redis)
  const writes = writer === redis ? scripts : withDeliveryScripts(writer)
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

  /**
   * Deletes those of `ids` (one user's) that are in one of `states`, finished
   * (before `before`, if given), with their message ids' records (lua/purge-3.lua).
   */
  async function purgeIds (user: string, states: readonly FinishedState[], ids: readonly string[], before?: number): Promise<number> {
    let purged = 0
    for (const state of states) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const [count, ...messages] = await scripts.deliveryPurge(keys.stats(user), keys.finished(user, state), keys.dispatches(user),
          prefix, before ?? '', state, ...ids.slice(i, i + CHUNK))
        purged += count
        // Their message ids' records, each in a slot of its own.
        const records: string[] = []
        for (let j = 0; j + 1 < messages.length; j += 2) records.push(keys.receipt(String(messages[j]), String(messages[j + 1])))
        await Promise.all(records.map(async (record) => await redis.unlink(record)))
      }
    }
    return purged
  }

  async function applyReceiptsTo (id: string, providerId: string, reports: readonly ReceiptReport[]) {
    const [outcome, , address] = await scripts.deliveryApplyReceipts(...recordKeys(id), prefix, id, providerId, Date.now(), JSON.stringify(reports.map(reportTuple)))
    return { outcome: outcome as ReceiptOutcome, address: address ?? '' }
  }

  return {
    ...queries,

    async createDispatch (dispatch, deliveries) {
      const { id, user } = dispatch
      if (slotOfId(id) !== slotOfUser(user)) throw new Error(`dispatch ${id} does not end with the slot of ${user} (${slotOfUser(user)})`)
      const flat = flatDeliveries(deliveries)
      // The outbox and the list of users are in slots of their own (Redis Cluster), so they are written
      // first: a crash before the records leaves an outbox entry for no dispatch, which the sweep drops.
      await Promise.all([redis.zadd(keys.outbox, dispatch.checkAt, id), redis.sadd(keys.users, user)])
      const suppressed = await writes.deliveryCreate(
        keys.dispatch(id), keys.stats(user), keys.dispatches(user), keys.finished(user, 'suppressed'),
        prefix, id, user, dispatch.createdAt, dispatch.text, dispatch.sendAt, dispatch.expiresAt ?? '',
        dispatch.dedupWindowSeconds, textFingerprint(dispatch.text), flat,
        dispatch.whatsappTemplate === undefined ? '' : JSON.stringify(dispatch.whatsappTemplate), moreFields(dispatch)
      )
      // Nothing to send: nothing to queue either.
      if (suppressed === deliveries.length) await redis.zrem(keys.outbox, id)
      return { suppressed }
    },

    async replaceDispatch (dispatch, deliveries, old) {
      const { id, user } = dispatch
      // In the outbox first, as a new dispatch is: the sweep then schedules what the rebuild wrote should this process die.
      await redis.zadd(keys.outbox, dispatch.checkAt, id)
      const [kind, a, b] = await writes.deliveryReplace(
        keys.dispatch(id), keys.stats(user), keys.dispatches(user), keys.finished(user, 'suppressed'),
        prefix, id, user, Date.now(), old.rev, textFingerprint(old.text), dispatch.text, dispatch.sendAt, dispatch.expiresAt ?? '',
        dispatch.dedupWindowSeconds, textFingerprint(dispatch.text), flatDeliveries(deliveries),
        dispatch.whatsappTemplate === undefined ? '' : JSON.stringify(dispatch.whatsappTemplate), moreFields(dispatch)
      ) as [string, Reply?, Reply?]
      if (kind === 'replaced') return { kind, suppressed: Number(a), rev: Number(b) }
      if (kind === 'started') return { kind, state: String(a) as DeliveryState }
      return { kind: kind as 'changed' | 'unknown' }
    },

    async deleteDispatch (dispatchId) {
      const user = (await queries.getDispatch(dispatchId))?.user
      if (user === undefined) return { deleted: 0, inFlight: [] }
      const ids = await queries.deliveryIds(dispatchId)
      const deleted = await purgeIds(user, FINISHED_STATES, ids)
      const left = await queries.getMany(ids)
      return { deleted, inFlight: left.flatMap((d) => d === undefined ? [] : [d.id]) }
    },

    async outboxDue (now, limit = CHUNK) {
      return await redis.zrangebyscore(keys.outbox, '-inf', now, 'LIMIT', 0, limit)
    },

    async checkAgainAt (dispatchId, at) {
      await redis.zadd(keys.outbox, at, dispatchId)
    },

    async dropFromOutbox (dispatchId) {
      await redis.zrem(keys.outbox, dispatchId)
    },

    async release (dispatchId, stuckBefore, job) {
      // A job fired a little before its time by a clock behind ours still releases what it is for.
      const now = Math.max(Date.now(), job?.at ?? 0)
      const ranges = await inRanges(dispatchId, async (first, last) =>
        await scripts.deliveryRelease(keys.dispatch(dispatchId), prefix, dispatchId, now, first, last, stuckBefore ?? '', job?.rev ?? ''))
      const waiting: WaitingDelivery[] = []
      for (const flat of ranges) {
        for (let i = 0; i + 2 < flat.length; i += 3) {
          const messenger = flat[i + 1]!
          if (isMessenger(messenger)) waiting.push({ id: flat[i]!, messenger, generation: Number(flat[i + 2]) })
        }
      }
      return waiting
    },

    async expire (dispatchId, rev) {
      const counts = await inRanges(dispatchId, async (first, last) =>
        await scripts.deliveryExpire(keys.dispatch(dispatchId), prefix, dispatchId, Date.now(), first, last, rev ?? ''))
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
      const outcomes = new Map<string, CancelOutcome>()
      for (const chunk of slotChunks(ids)) {
        const replies = await scripts.deliveryCancel(keys.delivery(chunk[0]!), prefix, Date.now(), ...chunk)
        replies.forEach((reply, j) => {
          outcomes.set(chunk[j]!, reply.startsWith('finished:')
            ? { kind: 'finished', state: reply.slice('finished:'.length) as FinishedState }
            : { kind: reply as 'cancelled' | 'in_flight' | 'unknown' })
        })
      }
      return ids.map((id) => outcomes.get(id) ?? { kind: 'unknown' })
    },

    async redrive (ids) {
      const outcomes = new Map<string, RedriveOutcome>()
      const now = Date.now()
      for (const chunk of slotChunks(ids)) {
        const replies = await scripts.deliveryRedrive(keys.delivery(chunk[0]!), prefix, now, ...chunk)
        replies.forEach(([outcome, generation, messenger], j) => {
          const id = chunk[j]!
          outcomes.set(id, outcome === 'redriven' && isMessenger(String(messenger))
            ? { id, outcome: 'redriven', delivery: { id, messenger: messenger as Messenger, generation: Number(generation) } }
            : { id, outcome: outcome as DeliveryState | 'unknown' })
        })
      }
      return ids.map((id) => outcomes.get(id) ?? { id, outcome: 'unknown' })
    },

    async applyReceipts (id, providerId, reports) {
      return (await applyReceiptsTo(id, providerId, reports)).outcome
    },

    applyReceiptsTo,

    async purge (user, before) {
      let purged = 0
      for (const state of FINISHED_STATES) {
        // Ids created after `before` cannot have finished before it.
        const max = before === undefined ? '+' : `(${encodeTime(before, 10)}`
        let min = '-'
        for (;;) {
          const ids = await redis.zrangebylex(keys.finished(user, state), min, max, 'LIMIT', 0, CHUNK)
          if (ids.length === 0) break
          purged += await purgeIds(user, [state], ids, before)
          min = `(${ids[ids.length - 1]!}`
        }
      }
      return purged
    }
  }
}
