/**
 * The fan-out: one dispatch becomes one delivery per messenger id of every
 * chosen contact, recorded and queued so that nothing accepted is lost.
 *
 * Accepting is two writes that cannot share a transaction (our records, then
 * BullMQ's jobs), so the dispatch sits in an outbox between them: if the
 * process dies after the first, a sweep queues whatever is missing. Job ids
 * are delivery ids, so queueing twice is harmless.
 */
import type { FastifyBaseLogger } from 'fastify'
import { monotonicFactory } from 'ulid'
import type { ContactStore } from '../contacts/contact-store.js'
import { invalidField } from '../errors.js'
import { MESSENGERS, TEXT_LIMITS, normalizeAddress } from '../messengers/messenger.js'
import { deliveryId, type NewDelivery } from './delivery.js'
import type { DeliveryStore } from './delivery-store.js'
import { enqueueLegs, type SendQueues } from './send-queues.js'

export interface DispatchRequest {
  user: string
  /** Contact names, in the order given; repeats are sent once. */
  contacts: readonly string[]
  text: string
  /** Epoch ms, as the user gave it; a time not in the future means now. */
  sendAt: number
  /** The request field that holds the text, for error messages. */
  textField?: string
}

export interface DispatchResult {
  /** Absent when nothing was to be sent. */
  dispatchId?: string
  deliveries: number
  /** Names the user has no contact for. */
  unknown: string[]
  /** Contacts that exist but have no messenger id at all. */
  withoutAddresses: string[]
  /** True when the deliveries wait for `sendAt`; false when they go now. */
  scheduled: boolean
}

export interface Dispatcher {
  dispatch (request: DispatchRequest): Promise<DispatchResult>
  /** Queues the jobs of dispatches that have sat in the outbox since before `before` (epoch ms). */
  recoverOutbox (before: number): Promise<number>
}

export function createDispatcher (deps: {
  contacts: ContactStore
  deliveries: DeliveryStore
  queues: SendQueues
  log: FastifyBaseLogger
}): Dispatcher {
  const { contacts, deliveries, queues, log } = deps
  const newId = monotonicFactory()

  return {
    async dispatch (request) {
      const names = [...new Set(request.contacts)]
      const found = new Map((await contacts.findByNames(request.user, names)).map((c) => [c.name, c]))
      const unknown = names.filter((name) => !found.has(name))
      const withoutAddresses: string[] = []
      const legs: NewDelivery[] = []
      for (const name of names) {
        const contact = found.get(name)
        if (contact === undefined) continue
        const before = legs.length
        for (const messenger of MESSENGERS) {
          const raw = contact[messenger]
          if (raw === undefined || raw === '') continue
          const address = normalizeAddress(messenger, raw)
          if (!address.ok) {
            // Stores validate on write; an id that no longer passes is skipped, not sent malformed.
            log.warn({ user: request.user, contact: name, messenger }, 'stored messenger id is not valid; skipped')
            continue
          }
          legs.push({ contact: name, messenger, address: address.address })
        }
        if (legs.length === before) withoutAddresses.push(name)
      }

      for (const messenger of MESSENGERS) {
        const limit = TEXT_LIMITS[messenger]
        if (request.text.length > limit && legs.some((leg) => leg.messenger === messenger)) {
          throw invalidField(request.textField ?? 'text',
            `is ${request.text.length} characters long; ${messenger} accepts at most ${limit}`)
        }
      }

      const now = Date.now()
      // Kept as given (the failed lookup shows the time the user asked for); a past time simply means now.
      const sendAt = request.sendAt
      const scheduled = sendAt > now
      if (legs.length === 0) return { deliveries: 0, unknown, withoutAddresses, scheduled }

      const id = newId(now)
      await deliveries.createDispatch({ id, user: request.user, text: request.text, sendAt, createdAt: now }, legs)
      // From here the dispatch is accepted: its records are durable and it is in the outbox.
      try {
        await enqueueLegs(queues, legs.map((leg, index) => ({
          id: deliveryId(id, index), user: request.user, messenger: leg.messenger, sendAt
        })), now)
        await deliveries.markQueued(id)
      } catch (err) {
        // Failing the request now would invite a resend of what the outbox sweep will send anyway.
        log.error({ err, dispatch: id }, 'queueing failed; the outbox sweep will queue the dispatch')
      }
      // One line for the whole dispatch: its deliveries are `${dispatch}.0` .. `${dispatch}.${n - 1}`.
      log.info({ dispatch: id, user: request.user, deliveries: legs.length, state: scheduled ? 'scheduled' : 'queued', sendAt: new Date(sendAt).toISOString() }, 'dispatch accepted')
      return { dispatchId: id, deliveries: legs.length, unknown, withoutAddresses, scheduled }
    },

    async recoverOutbox (before) {
      let recovered = 0
      for (const dispatchId of await deliveries.outboxDue(before)) {
        const legs = await deliveries.pendingLegs(dispatchId)
        await enqueueLegs(queues, legs)
        await deliveries.markQueued(dispatchId)
        recovered += legs.length
        log.warn({ dispatch: dispatchId, deliveries: legs.length }, 'dispatch recovered from the outbox and queued')
      }
      return recovered
    }
  }
}
