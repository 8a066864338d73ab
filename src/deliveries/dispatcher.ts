/**
 * The fan-out and what users do to dispatches afterwards (cancel, redrive).
 *
 * A dispatch becomes one delivery per messenger id of every chosen contact
 * (and per direct address), recorded and queued so that nothing accepted is
 * lost. Accepting is two writes that cannot share a transaction (our records,
 * then BullMQ's release job), so the dispatch sits in an outbox between them:
 * if the process dies after the first, a sweep schedules it. Job ids derive
 * from record ids, so scheduling twice is harmless.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { monotonicFactory } from 'ulid'
import { byName, type Contact, type ContactStore, type TagFilter } from '../contacts/contact-store.js'
import { invalidField, unprocessable } from '../errors.js'
import { MESSENGERS, TEXT_LIMITS, normalizeAddress, type Messenger } from '../model/messenger.js'
import { dispatchOf, type NewDelivery, type WhatsAppTemplate } from '../model/delivery.js'
import type { CancelOutcome, DeliveryStore, RedriveOutcome } from './delivery-store.js'
import { scheduleDispatch, type DispatchQueue } from './dispatch-jobs.js'
import { enqueueDeliveries, type SendQueues } from './send-queues.js'

export interface DirectAddress {
  messenger: Messenger
  address: string
}

export interface DispatchRequest {
  user: string
  text: string
  /** Contact names, in the order given; repeats are sent once. */
  contacts?: readonly string[]
  /** Contacts picked by tag. */
  tags?: TagFilter
  /** Every contact of the user's book. */
  allContacts?: boolean
  /** Addresses that need no contact. */
  addresses?: readonly DirectAddress[]
  /** Only these messengers (default: all three). */
  messengers?: readonly Messenger[]
  /** Epoch ms, as the user gave it; a time not in the future means now. */
  sendAt: number
  /** Epoch ms; nothing is sent after it. */
  expiresAt?: number
  /** Sent to WhatsApp numbers outside their 24-hour window instead of the text. */
  whatsappTemplate?: WhatsAppTemplate
  /** Request field names, for error messages (the legacy API names them differently). */
  fields?: { text?: string, sendAt?: string, expiresAt?: string }
}

export interface DispatchResult {
  /** Absent when nothing was to be sent. */
  dispatchId?: string
  deliveries: number
  /** Of `deliveries`, those that repeat a recent delivery and will not be sent. */
  suppressed: number
  /** Names the user has no contact for. */
  unknown: string[]
  /** Contacts that exist but have no messenger id (among the ones asked for) at all. */
  withoutAddresses: string[]
  /** True when the deliveries wait for `sendAt`; false when they go now. */
  scheduled: boolean
}

/** Per delivery, what a cancel found. */
export interface DeliveryCancel { id: string, outcome: CancelOutcome }

export interface Dispatcher {
  dispatch (request: DispatchRequest): Promise<DispatchResult>
  cancel (ids: readonly string[]): Promise<DeliveryCancel[]>
  redrive (ids: readonly string[]): Promise<RedriveOutcome[]>
  /** Schedules dispatches that have sat in the outbox since before `before` (epoch ms); returns how many. */
  recoverOutbox (before: number): Promise<number>
}

/**
 * Uniform numbers in [0, 1) from crypto bytes drawn 4 KB at a time. ulid asks
 * for one per character (16 per id), and its default made a crypto call for
 * each: 5% of the CPU of accepting a small send.
 */
function pooledRandom (): () => number {
  let pool = randomBytes(4096)
  let next = 0
  return () => {
    if (next === pool.length) {
      pool = randomBytes(4096)
      next = 0
    }
    return pool[next++]! / 256
  }
}

export function createDispatcher (deps: {
  contacts: ContactStore
  deliveries: DeliveryStore
  queues: SendQueues
  dispatchQueue: DispatchQueue
  dedupWindowSeconds: number
  /** One dispatch makes at most this many deliveries (MAX_DELIVERIES_PER_DISPATCH). */
  maxDeliveries: number
  log: FastifyBaseLogger
}): Dispatcher {
  const { contacts, deliveries, queues, dispatchQueue, log } = deps
  const newId = monotonicFactory(pooledRandom())

  /** The chosen contacts, each once: named ones in the order given, then the picked ones by name. */
  async function chooseContacts (request: DispatchRequest): Promise<{ chosen: Contact[], unknown: string[] }> {
    const names = [...new Set(request.contacts ?? [])]
    const [named, picked] = await Promise.all([
      contacts.findByNames(request.user, names),
      request.allContacts === true
        ? contacts.list(request.user)
        : request.tags !== undefined ? contacts.findByTags(request.user, request.tags) : []
    ])
    const found = new Map(named.map((c) => [c.name, c]))
    const chosen = names.flatMap((name) => found.get(name) ?? [])
    const seen = new Set(found.keys())
    chosen.push(...picked.filter((c) => !seen.has(c.name)).sort(byName))
    return { chosen, unknown: names.filter((name) => !found.has(name)) }
  }

  /** One delivery per messenger id of each chosen contact, then one per direct address. */
  function deliveriesOf (request: DispatchRequest, chosen: readonly Contact[]) {
    const messengers = MESSENGERS.filter((m) => request.messengers === undefined || request.messengers.includes(m))
    const withoutAddresses: string[] = []
    const planned: NewDelivery[] = []
    for (const contact of chosen) {
      const before = planned.length
      for (const messenger of messengers) {
        const raw = contact[messenger]
        if (raw === undefined || raw === '') continue
        const address = normalizeAddress(messenger, raw)
        if (!address.ok) {
          // Stores validate on write; an id that no longer passes is skipped, not sent malformed.
          log.warn({ user: request.user, contact: contact.name, messenger }, 'stored messenger id is not valid; skipped')
          continue
        }
        planned.push({ contact: contact.name, messenger, address: address.address })
      }
      if (planned.length === before) withoutAddresses.push(contact.name)
    }
    for (const [i, direct] of (request.addresses ?? []).entries()) {
      const address = normalizeAddress(direct.messenger, direct.address)
      if (!address.ok) throw invalidField(`addresses[${i}].address`, address.reason)
      if (messengers.includes(direct.messenger)) planned.push({ contact: '', messenger: direct.messenger, address: address.address })
    }
    return { planned, withoutAddresses }
  }

  function checkWindow (request: DispatchRequest, now: number): void {
    const { expiresAt, sendAt } = request
    if (expiresAt === undefined) return
    const field = request.fields?.expiresAt ?? 'expires_at'
    if (expiresAt <= now) {
      throw unprocessable('WINDOW_CLOSED', 'is already past: nothing could be sent', field)
    }
    if (expiresAt <= sendAt) {
      throw unprocessable('WINDOW_CLOSED', `is not after ${request.fields?.sendAt ?? 'send_at'}: nothing could be sent`, field)
    }
  }

  return {
    async dispatch (request) {
      const now = Date.now()
      checkWindow(request, now)
      const { chosen, unknown } = await chooseContacts(request)
      const { planned, withoutAddresses } = deliveriesOf(request, chosen)

      for (const messenger of MESSENGERS) {
        const limit = TEXT_LIMITS[messenger]
        if (request.text.length > limit && planned.some((delivery) => delivery.messenger === messenger)) {
          throw invalidField(request.fields?.text ?? 'text',
            `is ${request.text.length} characters long; ${messenger} accepts at most ${limit}`)
        }
      }
      if (planned.length > deps.maxDeliveries) {
        throw unprocessable('TOO_MANY_DELIVERIES', `would be ${planned.length} deliveries; one dispatch makes at most ${deps.maxDeliveries}`)
      }

      // Kept as given (the failed lookup shows the time the user asked for); a past time simply means now.
      const { sendAt, expiresAt } = request
      const scheduled = sendAt > now
      if (planned.length === 0) return { deliveries: 0, suppressed: 0, unknown, withoutAddresses, scheduled }

      const id = newId(now)
      const { suppressed } = await deliveries.createDispatch({
        id,
        user: request.user,
        text: request.text,
        sendAt,
        expiresAt,
        createdAt: now,
        dedupWindowSeconds: deps.dedupWindowSeconds,
        ...(request.whatsappTemplate !== undefined && { whatsappTemplate: request.whatsappTemplate })
      }, planned)
      // From here the dispatch is accepted: its records are durable and, if anything is to be sent, it is in the outbox.
      if (suppressed < planned.length) {
        try {
          await scheduleDispatch(dispatchQueue, { id, sendAt, expiresAt }, now)
          // Not awaited: the answer need not wait for the outbox entry to go (if it stays, the sweep
          // schedules the dispatch again, a no-op while its jobs exist).
          deliveries.markQueued(id).catch((err: unknown) => { log.warn({ err, dispatch: id }, 'could not take the dispatch out of the outbox; the sweep will') })
        } catch (err) {
          // Failing the request now would invite a resend of what the outbox sweep will send anyway.
          log.error({ err, dispatch: id }, 'scheduling failed; the outbox sweep will schedule the dispatch')
        }
      }
      // One line for the whole dispatch: its deliveries are `${dispatch}.00000` and up.
      log.info({
        dispatch: id,
        user: request.user,
        deliveries: planned.length,
        suppressed,
        state: scheduled ? 'scheduled' : 'queued',
        sendAt: new Date(sendAt).toISOString(),
        ...(expiresAt !== undefined && { expiresAt: new Date(expiresAt).toISOString() })
      }, 'dispatch accepted')
      return { dispatchId: id, deliveries: planned.length, suppressed, unknown, withoutAddresses, scheduled }
    },

    async cancel (ids) {
      const outcomes = await deliveries.cancel(ids)
      const result = ids.map((id, i) => ({ id, outcome: outcomes[i] ?? { kind: 'unknown' as const } }))
      const cancelled = result.filter((r) => r.outcome.kind === 'cancelled').length
      if (cancelled > 0) log.info({ deliveries: cancelled, first: ids[0] }, 'deliveries cancelled')
      return result
    },

    async redrive (ids) {
      const outcomes = await deliveries.redrive(ids)
      const redriven = outcomes.flatMap((o) => o.outcome === 'redriven' ? [o.delivery] : [])
      if (redriven.length > 0) {
        try {
          await enqueueDeliveries(queues, redriven)
          for (const dispatch of new Set(redriven.map((delivery) => dispatchOf(delivery.id)))) await deliveries.markQueued(dispatch)
        } catch (err) {
          log.error({ err }, 'queueing redriven deliveries failed; the outbox sweep will queue them')
        }
        log.info({ deliveries: redriven.length, first: redriven[0]!.id }, 'failed deliveries redriven')
      }
      return outcomes
    },

    async recoverOutbox (before) {
      let recovered = 0
      for (const dispatchId of await deliveries.outboxDue(before)) {
        const dispatch = await deliveries.getDispatch(dispatchId)
        if (dispatch !== undefined) await scheduleDispatch(dispatchQueue, dispatch)
        await deliveries.markQueued(dispatchId)
        recovered++
        log.warn({ dispatch: dispatchId }, 'dispatch recovered from the outbox and scheduled')
      }
      return recovered
    }
  }
}
