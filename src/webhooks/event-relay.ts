/**
 * The relay: moves the events the delivery scripts append to each user's
 * event stream into the status webhook queue, one job per subscribed
 * endpoint, then drops them from the stream. Every WEBHOOK_RELAY_MS, in
 * every process with senders; several relays may read the same events: the
 * job ids (message id and endpoint) make a repeated add a no-op, and XDEL of
 * an id already dropped does nothing, so a crash anywhere between the state
 * change and the job loses nothing and at worst adds a job twice.
 *
 * The message body is the delivery as GET /v1/deliveries/{id} shows it (the
 * dispatch as GET /v1/dispatches/{id} for dispatch.finished) when the relay
 * reads it (a contact.connected event carries its own: the contact as it was
 * connected), stored once so that every try and every endpoint get the same
 * bytes under the same webhook-id.
 */
import { createHash } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { DeliveryStore } from '../deliveries/delivery-store.js'
import { deliveryView, dispatchView } from '../deliveries/delivery-views.js'
import type { EndpointStore, StoredEvent } from './endpoint-store.js'
import { jobOptions, type StatusWebhookQueue } from './status-webhook-queue.js'

/** Events read from one user's stream per pass. */
const EVENTS_PER_READ = 500

export interface EventRelayOptions {
  store: EndpointStore
  deliveries: DeliveryStore
  queue: StatusWebhookQueue
  intervalMs: number
  scheduleMs: readonly number[]
  retentionSeconds: number
  log: FastifyBaseLogger
}

export interface EventRelay {
  /** One pass over every user's stream (the timer runs these; tests and benches may call it). */
  relayAll (): Promise<number>
  close (): Promise<void>
}

/** A message's webhook-id, the same whichever relay makes it: from the user and the event's stream id. */
export function messageIdOf (user: string, streamId: string): string {
  return `msg_${createHash('sha256').update(`${user}\n${streamId}`).digest('base64url').slice(0, 24)}`
}

/** The body a message carries: Standard Webhooks' {type, timestamp, data}. */
export function messageBody (type: string, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data })
}

export function startEventRelay (options: EventRelayOptions): EventRelay {
  const { store, deliveries, queue, log } = options

  /** What each event's message shows, read in one batch (one user's records share a slot): undefined when purged. */
  async function dataOf (events: readonly StoredEvent[]): Promise<unknown[]> {
    const deliveryIds = events.filter((e) => e.type.startsWith('delivery.')).map((e) => e.id)
    const found = await deliveries.getMany(deliveryIds)
    const byId = new Map(found.flatMap((d) => d === undefined ? [] : [[d.id, deliveryView(d)] as const]))
    return await Promise.all(events.map(async (event) => {
      if (event.type === 'contact.connected') return event.data === undefined ? undefined : JSON.parse(event.data) as unknown
      if (event.type !== 'dispatch.finished') return byId.get(event.id)
      const dispatch = await deliveries.getDispatch(event.id)
      return dispatch === undefined ? undefined : dispatchView(dispatch)
    }))
  }

  /** Relays one read of the user's events; answers how many were read and how many jobs that made. */
  async function relayUser (user: string): Promise<{ read: number, queued: number }> {
    const { events, streamIds } = await store.readEvents(user, EVENTS_PER_READ)
    if (streamIds.length === 0) {
      await store.forgetIfIdle(user)
      return { read: 0, queued: 0 }
    }
    const endpoints = (await store.list(user)).filter((e) => e.enabled)
    const wanted = events.filter((event) => endpoints.some((e) => e.events.includes(event.type)))
    const data = await dataOf(wanted)
    const jobs = []
    const saved: Array<Promise<void>> = []
    for (const [i, event] of wanted.entries()) {
      // Purged before it could be told: there is nothing left to show.
      if (data[i] === undefined) continue
      const message = messageIdOf(user, event.streamId)
      saved.push(store.saveMessage(user, message, messageBody(event.type, event.at, data[i]), options.retentionSeconds))
      for (const endpoint of endpoints.filter((e) => e.events.includes(event.type))) {
        jobs.push({
          name: event.type,
          data: { user, endpoint: endpoint.id, message, type: event.type },
          opts: jobOptions(`${message}.${endpoint.id}`, options.scheduleMs)
        })
      }
    }
    // The bodies before the jobs: a job never finds its message missing.
    await Promise.all(saved)
    if (jobs.length > 0) await queue.addBulk(jobs)
    await store.dropEvents(user, streamIds)
    return { read: streamIds.length, queued: jobs.length }
  }

  let closed = false
  let running: Promise<number> | undefined
  let timer: NodeJS.Timeout | undefined

  async function relayAll (): Promise<number> {
    let queued = 0
    for (const user of await store.users()) {
      try {
        // A full read means more are waiting: go on with this user before the next.
        let read = EVENTS_PER_READ
        while (read === EVENTS_PER_READ) {
          const pass = await relayUser(user)
          read = closed ? 0 : pass.read
          queued += pass.queued
        }
      } catch (err) {
        log.warn({ err, user }, 'status webhook events not relayed yet; the next pass tries again')
      }
    }
    return queued
  }

  const tick = () => {
    running = relayAll().catch((err: unknown) => {
      log.warn({ err }, 'status webhook relay pass failed; the next pass tries again')
      return 0
    })
    void running.finally(() => {
      running = undefined
      if (!closed) timer = setTimeout(tick, options.intervalMs)
    })
  }
  timer = setTimeout(tick, options.intervalMs)

  return {
    relayAll,
    async close () {
      closed = true
      clearTimeout(timer)
      await running
    }
  }
}
