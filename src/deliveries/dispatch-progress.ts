/**
 * Live progress of the dispatches someone is watching (the event streams of
 * GET /v1/dispatches/{id}/events). One timer per process reads, every
 * `intervalMs`, the counts of every watched dispatch: one HMGET of its count
 * fields per watched dispatch per tick, however many streams watch it and
 * however many of its deliveries moved meanwhile. The cost follows what is
 * watched, not how busy the dispatches are, and listeners hear of a change
 * at most once a tick (coalesced).
 *
 * The HMGETs go as separate commands, not one explicit pipeline: watched
 * dispatches belong to many users, so on a Redis Cluster their keys are in
 * many slots, which one pipeline cannot span. The connection's
 * auto-pipelining still sends them together, one batch per node.
 */
import type { RedisClient } from '../redis-connection.js'
import { DELIVERY_STATES, type StateCounts } from '../model/delivery.js'
import { MESSENGERS, type Messenger } from '../model/messenger.js'
import type { RedisKeys } from '../redis-keys.js'
import { countsByMessenger, countsOf } from './delivery-records.js'

/** What moves in a dispatch: its deliveries (purged ones no longer count) and their counts per state, overall and per messenger. */
export interface DispatchCounts {
  total: number
  counts: StateCounts
  countsByMessenger: Partial<Record<Messenger, StateCounts>>
}

/** Hears the dispatch's new counts, or undefined once the dispatch is gone (purged). */
export type ProgressListener = (counts: DispatchCounts | undefined) => void

export interface DispatchProgress {
  /** Calls `listener` whenever the dispatch's counts change (at most once a tick); returns the function that stops it. */
  watch (dispatchId: string, listener: ProgressListener): () => void
  /** The figures a bench or a test reads: dispatches watched now, listeners now, HMGETs sent so far, ticks so far. */
  stats (): { dispatches: number, listeners: number, reads: number, ticks: number }
  /** Stops the timer and forgets every listener. */
  close (): void
}

/** The dispatch hash's fields that move, in the order HMGET answers them. */
const COUNT_FIELDS = [
  'total',
  ...DELIVERY_STATES.map((state) => `n:${state}`),
  ...MESSENGERS.flatMap((messenger) => DELIVERY_STATES.map((state) => `n:${messenger}:${state}`))
]

/** The counts out of an HMGET of COUNT_FIELDS; undefined when the hash is gone (total is always set while it exists). */
export function countsFromFields (values: ReadonlyArray<string | null>): DispatchCounts | undefined {
  if (values[0] === null || values[0] === undefined) return undefined
  const hash: Record<string, string> = {}
  COUNT_FIELDS.forEach((field, i) => {
    const value = values[i]
    if (value !== null && value !== undefined) hash[field] = value
  })
  return { total: Number(hash.total), counts: countsOf(hash), countsByMessenger: countsByMessenger(hash) }
}

interface Watched {
  listeners: Set<ProgressListener>
  /** The raw values last read, joined: a change of any count changes it. */
  last: string | undefined
}

export interface DispatchProgressOptions {
  intervalMs: number
  /** Told of a tick whose read failed (the next tick tries again). */
  onError: (err: unknown) => void
}

export function createDispatchProgress (redis: RedisClient, keys: RedisKeys, options: DispatchProgressOptions): DispatchProgress {
  const watched = new Map<string, Watched>()
  let timer: NodeJS.Timeout | undefined
  let reading = false
  let reads = 0
  let ticks = 0

  async function tick (): Promise<void> {
    // A slow Redis makes ticks overlap; the late one is skipped rather than queued behind it.
    if (reading || watched.size === 0) return
    reading = true
    ticks++
    try {
      const ids = [...watched.keys()]
      reads += ids.length
      const results = await Promise.allSettled(ids.map(async (id) => await redis.hmget(keys.dispatch(id), ...COUNT_FIELDS)))
      const failed = results.find((r) => r.status === 'rejected')
      // One report a tick, not one per dispatch; the dispatches read are told all the same.
      if (failed !== undefined) options.onError(failed.reason)
      ids.forEach((id, i) => {
        const result = results[i]!
        const entry = watched.get(id)
        if (result.status === 'rejected' || entry === undefined) return
        const fields = result.value
        const raw = fields.join(',')
        if (raw === entry.last) return
        entry.last = raw
        const counts = countsFromFields(fields)
        for (const listener of [...entry.listeners]) listener(counts)
      })
    } catch (err) {
      options.onError(err)
    } finally {
      reading = false
    }
  }

  function start (): void {
    if (timer !== undefined) return
    timer = setInterval(() => { void tick() }, options.intervalMs)
    // Watching never keeps a process alive on its own.
    timer.unref()
  }

  function stop (): void {
    clearInterval(timer)
    timer = undefined
  }

  return {
    watch (dispatchId, listener) {
      let entry = watched.get(dispatchId)
      if (entry === undefined) {
        entry = { listeners: new Set(), last: undefined }
        watched.set(dispatchId, entry)
      }
      entry.listeners.add(listener)
      start()
      return () => {
        const current = watched.get(dispatchId)
        if (current === undefined) return
        current.listeners.delete(listener)
        if (current.listeners.size === 0) watched.delete(dispatchId)
        if (watched.size === 0) stop()
      }
    },
    stats () {
      let listeners = 0
      for (const entry of watched.values()) listeners += entry.listeners.size
      return { dispatches: watched.size, listeners, reads, ticks }
    },
    close () {
      stop()
      watched.clear()
    }
  }
}
