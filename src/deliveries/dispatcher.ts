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
import { slotOfUser } from '../redis-keys.js'
import { byName, type Contact, type ContactStore, type TagFilter } from '../contacts/contact-store.js'
import { conflict, invalidField, unprocessable } from '../errors.js'
import { nextOpening, type LocalWindow } from '../model/local-window.js'
import { MESSENGERS, TEXT_LIMITS, normalizeAddress, type Messenger } from '../model/messenger.js'
import { dispatchOf, type NewDelivery, type WhatsAppTemplate } from '../model/delivery.js'
import type { CancelOutcome, DeliveryStore, RedriveOutcome } from './delivery-store.js'
import { scheduleDispatch, unscheduleDispatch, type DispatchQueue } from './dispatch-jobs.js'
import { enqueueDeliveries, type SendQueues } from './send-queues.js'

export interface DirectAddress {
  messenger: Messenger
  address: string
}

/** Who a dispatch goes to, and in which local hours: kept with it (JSON) so that an edit can fan it out again. */
export interface DispatchTargets {
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
  /**
   * Only contacts with one of these operator codes, among those picked by
   * name, tag or the whole book; alone, from the whole book. Direct addresses are not filtered.
   */
  operatorCodes?: readonly string[]
  /** Each contact's deliveries wait until the window is open in the contact's time zone (else `defaultZone`). */
  localWindow?: LocalWindow & { defaultZone?: string }
  /** Addresses marked dead are not sent to: their deliveries are written `suppressed` (reason address_unreachable). */
  skipUnreachable?: boolean
}

export interface DispatchRequest extends DispatchTargets {
  user: string
  text: string
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
  /** Of `deliveries`, those that repeat a recent delivery, or go to an address marked dead (skipUnreachable), and will not be sent. */
  suppressed: number
  /** Names the user has no contact for. */
  unknown: string[]
  /** Contacts that exist but have no messenger id (among the ones asked for) at all. */
  withoutAddresses: string[]
  /** True when nothing goes now: the deliveries wait for `sendAt`, or each for its local window. */
  scheduled: boolean
}

/** A change to a dispatch none of whose deliveries has started; what is absent stays as it was. */
export interface DispatchEdit {
  user: string
  id: string
  text?: string
  sendAt?: number
  /** null: no longer expires. */
  expiresAt?: number | null
  /** Replace the targets, as a whole. */
  targets?: DispatchTargets
  /** null: no longer in local hours; absent: as it was (with new targets too). */
  localWindow?: DispatchTargets['localWindow'] | null
  /** Absent: as it was (with new targets too). */
  skipUnreachable?: boolean
  whatsappTemplate?: WhatsAppTemplate | null
}

/** What deleting a dispatch did. */
export interface DispatchRemoval {
  cancelled: number
  /** Deliveries deleted with their counts and index entries. */
  deleted: number
  /** Being sent when asked: marked cancelled (not retried), kept until they finish; delete again then. */
  inFlight: string[]
}

/** Per delivery, what a cancel found. */
export interface DeliveryCancel { id: string, outcome: CancelOutcome }

export interface Dispatcher {
  dispatch (request: DispatchRequest): Promise<DispatchResult>
  /** Rebuilds a dispatch that has not started (409 DISPATCH_STARTED once one delivery has left `scheduled`). */
  edit (edit: DispatchEdit): Promise<DispatchResult & { rev: number, sendAt: number, expiresAt?: number }>
  /** Cancels what is pending and deletes the dispatch with its deliveries. */
  remove (dispatchId: string): Promise<DispatchRemoval>
  cancel (ids: readonly string[]): Promise<DeliveryCancel[]>
  redrive (ids: readonly string[]): Promise<RedriveOutcome[]>
  /**
   * The outbox sweep: for each dispatch due at `now`, schedules it if a crash
   * kept it from being scheduled, queues again the deliveries that have
   * waited too long (a crash, or a Redis failover that lost writes), drops
   * what is finished. Returns how many deliveries were queued again.
   */
  reconcile (now: number): Promise<number>
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

/** The longest the outbox sweep leaves an unfinished dispatch alone. */
const RECONCILE_MAX_INTERVAL_MS = 10 * 60_000

export function createDispatcher (deps: {
  contacts: ContactStore
  deliveries: DeliveryStore
  queues: SendQueues
  dispatchQueue: DispatchQueue
  dedupWindowSeconds: number
  /** One dispatch makes at most this many deliveries (MAX_DELIVERIES_PER_DISPATCH). */
  maxDeliveries: number
  /**
   * The outbox sweep: `graceMs`, how long after the accept before it first looks (the accepting process
   * schedules the dispatch within it); `stuckMs`, how long a delivery may wait (queued, or sending) before
   * its job is taken for lost.
   */
  reconcile: { graceMs: number, stuckMs: number }
  /** The zone of a local window for contacts without a timezone, when the dispatch names none (TIME_ZONE). */
  defaultZone: string
  /** For each address, whether it is marked dead (src/addresses/address-facts.ts); without it, none is. */
  unreachable?: (addresses: readonly NewDelivery[]) => Promise<boolean[]>
  /** Whether the user's requests that do not say skipUnreachable skip dead addresses: their setting, else SKIP_UNREACHABLE_DEFAULT. Without it, they do not. */
  skipUnreachableDefault?: (user: string) => Promise<boolean>
  /** With REDIS_MIN_REPLICAS_ACK: resolves once enough replicas have the dispatch's records, else throws a 503. */
  replicated?: (dispatchId: string) => Promise<void>
  log: FastifyBaseLogger
}): Dispatcher {
  const { contacts, deliveries, queues, dispatchQueue, log } = deps
  const newId = monotonicFactory(pooledRandom())
  const started = () => conflict('DISPATCH_STARTED', 'some of its deliveries are queued, being sent or done, so it can no longer be edited; ' +
    'what can still be done: cancel what is not yet sent (POST /v1/dispatches/{id}/cancel) or delete it (DELETE /v1/dispatches/{id})')
  const skipUnreachableDefault = async (user: string) => await deps.skipUnreachableDefault?.(user) ?? false
  /** A dispatch's first look by the sweep once scheduled: after its release could have left deliveries stuck. */
  const firstCheck = (sendAt: number, now: number) => Math.max(sendAt, now) + deps.reconcile.stuckMs

  /** The chosen contacts, each once: named ones in the order given, then the picked ones by name. */
  async function chooseContacts (request: DispatchRequest): Promise<{ chosen: Contact[], unknown: string[] }> {
    const names = [...new Set(request.contacts ?? [])]
    const wholeBook = request.allContacts === true ||
      (request.operatorCodes !== undefined && names.length === 0 && request.tags === undefined)
    const [named, picked] = await Promise.all([
      contacts.findByNames(request.user, names),
      wholeBook
        ? contacts.list(request.user)
        : request.tags !== undefined ? contacts.findByTags(request.user, request.tags) : []
    ])
    const found = new Map(named.map((c) => [c.name, c]))
    const chosen = names.flatMap((name) => found.get(name) ?? [])
    const seen = new Set(found.keys())
    chosen.push(...picked.filter((c) => !seen.has(c.name)).sort(byName))
    const unknown = names.filter((name) => !found.has(name))
    if (request.operatorCodes === undefined) return { chosen, unknown }
    const codes = new Set(request.operatorCodes)
    return { chosen: chosen.filter((c) => c.operator !== undefined && codes.has(c.operator)), unknown }
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

  /**
   * Each delivery's due time in its contact's local window (none when the
   * window is open at the send time), and the distinct ones before expires_at:
   * each gets a release job. One due at or past expires_at is never released; its expire job ends it.
   */
  function holdForWindow (request: DispatchRequest, chosen: readonly Contact[], planned: NewDelivery[], now: number): number[] {
    const window = request.localWindow
    if (window === undefined) return []
    const start = Math.max(request.sendAt, now)
    const zones = new Map(chosen.map((c) => [c.name, c.timezone]))
    const openings = new Map<string, number>()
    const releaseTimes = new Set<number>()
    for (const delivery of planned) {
      const zone = (delivery.contact === '' ? undefined : zones.get(delivery.contact)) ?? window.defaultZone ?? deps.defaultZone
      let opening = openings.get(zone)
      if (opening === undefined) openings.set(zone, opening = nextOpening(start, window, zone))
      if (opening <= start) continue
      delivery.dueAt = opening
      if (request.expiresAt === undefined || opening < request.expiresAt) releaseTimes.add(opening)
    }
    return [...releaseTimes].sort((a, b) => a - b)
  }

  /** The deliveries of a request, checked as a new send is; throws the 4xx for what cannot be sent. */
  async function plan (request: DispatchRequest, now: number) {
    checkWindow(request, now)
    // What the request does not say of dead addresses the user's setting says: read beside the contacts.
    const [{ chosen, unknown }, skipUnreachable] = await Promise.all([chooseContacts(request), request.skipUnreachable ?? skipUnreachableDefault(request.user)])
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
    const releaseTimes = holdForWindow(request, chosen, planned, now)
    if (skipUnreachable) await skipDead(planned)
    return { planned, unknown, withoutAddresses, releaseTimes, targets: targetsOf({ ...request, skipUnreachable }) }
  }

  /**
   * With skipUnreachable: the deliveries to addresses marked dead are to be
   * written `suppressed`. Their health is read before the create script, all
   * at once: on a cluster those records are in other slots than the dispatch.
   */
  async function skipDead (planned: NewDelivery[]): Promise<void> {
    if (deps.unreachable === undefined || planned.length === 0) return
    const dead = await deps.unreachable(planned)
    planned.forEach((delivery, i) => { if (dead[i] === true) delivery.suppress = 'address_unreachable' })
  }

  /** The targeting parts of a request, as kept with the dispatch. */
  function targetsOf (request: DispatchRequest): string {
    const { contacts, tags, allContacts, addresses, messengers, operatorCodes, localWindow, skipUnreachable } = request
    return JSON.stringify({ contacts, tags, allContacts, addresses, messengers, operatorCodes, localWindow, skipUnreachable } satisfies DispatchTargets)
  }

  /** Nothing goes now: the send time is ahead, or every delivery to be sent is held for its local window (as the dispatch's status then says). */
  function waitsToStart (sendAt: number, planned: readonly NewDelivery[], now: number): boolean {
    if (sendAt > now) return true
    const toSend = planned.filter((d) => d.suppress === undefined)
    return toSend.length > 0 && toSend.every((d) => d.dueAt !== undefined && d.dueAt > now)
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
      const { planned, unknown, withoutAddresses, releaseTimes, targets } = await plan(request, now)

      // Kept as given (the failed lookup shows the time the user asked for); a past time simply means now.
      const { sendAt, expiresAt } = request
      const scheduled = waitsToStart(sendAt, planned, now)
      if (planned.length === 0) return { deliveries: 0, suppressed: 0, unknown, withoutAddresses, scheduled }

      // The user's slot at the end: the dispatch's records live in it (src/redis-keys.ts).
      const id = newId(now) + slotOfUser(request.user)
      const { suppressed } = await deliveries.createDispatch({
        id,
        user: request.user,
        text: request.text,
        sendAt,
        expiresAt,
        createdAt: now,
        dedupWindowSeconds: deps.dedupWindowSeconds,
        checkAt: now + deps.reconcile.graceMs,
        releaseTimes,
        targets,
        ...(request.whatsappTemplate !== undefined && { whatsappTemplate: request.whatsappTemplate })
      }, planned)
      // Accepted means kept: with replicas asked for, the answer waits until they have the records.
      await deps.replicated?.(id)
      // From here the dispatch is accepted: its records are durable and, if anything is to be sent, it is in the outbox.
      if (suppressed < planned.length) {
        try {
          await scheduleDispatch(dispatchQueue, { id, sendAt, expiresAt, releaseTimes }, now)
          // Not awaited: the answer need not wait for the outbox to take note (if it does not, the sweep
          // schedules the dispatch again, a no-op while its jobs exist).
          deliveries.checkAgainAt(id, firstCheck(sendAt, now)).catch((err: unknown) => { log.warn({ err, dispatch: id }, 'could not note the dispatch\'s next check in the outbox') })
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

    async edit (edit) {
      const current = await deliveries.getDispatch(edit.id)
      if (current === undefined || current.user !== edit.user) return { deliveries: 0, suppressed: 0, unknown: [], withoutAddresses: [], scheduled: false, rev: 0, sendAt: 0 }
      const pending = current.counts.scheduled
      if (current.counts.queued + current.counts.sending > 0 || current.total - pending - current.counts.suppressed > 0) throw started()
      const stored = current.targets === undefined ? undefined : JSON.parse(current.targets) as DispatchTargets
      const targets = edit.targets ?? stored
      if (targets === undefined) {
        throw unprocessable('TARGETS_REQUIRED', 'this dispatch was accepted before edits kept its targets: give them (contacts, tags, all_contacts or addresses)')
      }
      const localWindow = edit.localWindow === null ? undefined : edit.localWindow ?? stored?.localWindow
      // Left unsaid by both (a dispatch from before edits kept it), the user's setting decides (plan).
      const skipUnreachable = edit.skipUnreachable ?? stored?.skipUnreachable
      const whatsappTemplate = edit.whatsappTemplate === null ? undefined : edit.whatsappTemplate ?? current.whatsappTemplate
      const expiresAt = edit.expiresAt === null ? undefined : edit.expiresAt ?? current.expiresAt
      const request: DispatchRequest = {
        ...targets,
        user: edit.user,
        text: edit.text ?? current.text,
        sendAt: edit.sendAt ?? current.sendAt,
        localWindow,
        skipUnreachable,
        ...(expiresAt !== undefined && { expiresAt }),
        ...(whatsappTemplate !== undefined && { whatsappTemplate })
      }
      const now = Date.now()
      const { planned, unknown, withoutAddresses, releaseTimes, targets: newTargets } = await plan(request, now)
      const base = { deliveries: planned.length, unknown, withoutAddresses, sendAt: request.sendAt, ...(expiresAt !== undefined && { expiresAt }) }
      if (planned.length === 0) return { ...base, suppressed: 0, scheduled: false, rev: current.rev }
      const outcome = await deliveries.replaceDispatch({
        id: edit.id,
        user: edit.user,
        text: request.text,
        sendAt: request.sendAt,
        expiresAt,
        createdAt: current.createdAt,
        dedupWindowSeconds: deps.dedupWindowSeconds,
        checkAt: now + deps.reconcile.graceMs,
        releaseTimes,
        targets: newTargets,
        ...(whatsappTemplate !== undefined && { whatsappTemplate })
      }, planned, { rev: current.rev, text: current.text })
      if (outcome.kind === 'started') throw started()
      if (outcome.kind === 'changed') throw conflict('DISPATCH_CHANGED', 'another edit of this dispatch came first; read it again and retry')
      if (outcome.kind === 'unknown') return { ...base, deliveries: 0, suppressed: 0, scheduled: false, rev: 0 }
      await deps.replicated?.(edit.id)
      const { rev, suppressed } = outcome
      // The old jobs go (best effort: any left, or running now, find the revision changed and do nothing).
      await unscheduleDispatch(dispatchQueue, current).catch((err: unknown) => { log.warn({ err, dispatch: edit.id }, 'could not remove the jobs of the dispatch before its edit; they will do nothing') })
      if (suppressed < planned.length) {
        try {
          await scheduleDispatch(dispatchQueue, { id: edit.id, rev, sendAt: request.sendAt, expiresAt, releaseTimes }, now)
          await deliveries.checkAgainAt(edit.id, firstCheck(request.sendAt, now))
        } catch (err) {
          log.error({ err, dispatch: edit.id }, 'scheduling failed; the outbox sweep will schedule the dispatch')
        }
      } else {
        await deliveries.dropFromOutbox(edit.id)
      }
      log.info({ dispatch: edit.id, user: edit.user, rev, deliveries: planned.length, suppressed }, 'dispatch edited')
      return { ...base, suppressed, scheduled: waitsToStart(request.sendAt, planned, now), rev }
    },

    async remove (dispatchId) {
      const dispatch = await deliveries.getDispatch(dispatchId)
      if (dispatch === undefined) return { cancelled: 0, deleted: 0, inFlight: [] }
      await unscheduleDispatch(dispatchQueue, dispatch).catch((err: unknown) => { log.warn({ err, dispatch: dispatchId }, 'could not remove the jobs of a deleted dispatch; they will find nothing') })
      const cancels = await deliveries.cancel(await deliveries.deliveryIds(dispatchId))
      const { deleted, inFlight } = await deliveries.deleteDispatch(dispatchId)
      if (inFlight.length === 0) await deliveries.dropFromOutbox(dispatchId)
      log.info({ dispatch: dispatchId, deleted, inFlight: inFlight.length }, 'dispatch deleted')
      return { cancelled: cancels.filter((c) => c.kind === 'cancelled').length, deleted, inFlight }
    },

    async cancel (ids) {
      const outcomes = await deliveries.cancel(ids)
      const result = ids.map((id, i) => ({ id, outcome: outcomes[i] ?? { kind: 'unknown' as const } }))
      const cancelled = result.filter((r) => r.outcome.kind === 'cancelled').length
      if (cancelled > 0) log.info({ deliveries: cancelled, first: ids[0] }, 'deliveries cancelled')
      return result
    },

    async redrive (ids) {
      // Unfinished again: back in the outbox (first: it is in a slot of its own), so a crash before the jobs are queued loses nothing.
      const now = Date.now()
      const dispatches = [...new Set(ids.map(dispatchOf))]
      await Promise.all(dispatches.map(async (dispatch) => { await deliveries.checkAgainAt(dispatch, now + deps.reconcile.graceMs) }))
      const outcomes = await deliveries.redrive(ids)
      const redriven = outcomes.flatMap((o) => o.outcome === 'redriven' ? [o.delivery] : [])
      try {
        if (redriven.length > 0) await enqueueDeliveries(queues, redriven)
        await Promise.all(dispatches.map(async (dispatch) => { await deliveries.checkAgainAt(dispatch, firstCheck(now, now)) }))
      } catch (err) {
        log.error({ err }, 'queueing redriven deliveries failed; the outbox sweep will queue them')
      }
      if (redriven.length > 0) log.info({ deliveries: redriven.length, first: redriven[0]!.id }, 'failed deliveries redriven')
      return outcomes
    },

    async reconcile (now) {
      let requeued = 0
      const stuckBefore = now - deps.reconcile.stuckMs
      for (const dispatchId of await deliveries.outboxDue(now)) {
        const dispatch = await deliveries.getDispatch(dispatchId)
        const pending = dispatch === undefined ? 0 : dispatch.counts.scheduled + dispatch.counts.queued + dispatch.counts.sending
        if (dispatch === undefined || pending === 0) {
          // Gone (its process died before writing it, or purged), or finished: nothing more to look after.
          await deliveries.dropFromOutbox(dispatchId)
          continue
        }
        if (dispatch.sendAt > now) {
          // Not due yet: its release jobs must exist (adding them again is a no-op while they do).
          await scheduleDispatch(dispatchQueue, dispatch, now)
          await deliveries.checkAgainAt(dispatchId, firstCheck(dispatch.sendAt, now))
          continue
        }
        if (dispatch.expiresAt !== undefined && dispatch.expiresAt <= now) {
          // Past expires_at: what still waits (held for a local window past it, say) ends expired, should the expire job be lost.
          await deliveries.expire(dispatchId)
        }
        const later = dispatch.releaseTimes.filter((at) => at > now)
        // Deliveries held for their local window: the jobs of the times to come must exist too.
        if (later.length > 0) await scheduleDispatch(dispatchQueue, dispatch, now, now)
        // Due: whatever has waited too long gets its job again (a job that exists is not added twice).
        const stuck = await deliveries.release(dispatchId, stuckBefore)
        if (stuck.length > 0) {
          await enqueueDeliveries(queues, stuck)
          requeued += stuck.length
          log.warn({ dispatch: dispatchId, deliveries: stuck.length, first: stuck[0]!.id }, 'deliveries waiting too long queued again (a crash or a Redis failover may have lost their jobs)')
        }
        // Looked at less and less often as it ages, up to every RECONCILE_MAX_INTERVAL_MS.
        const age = now - Math.max(dispatch.sendAt, dispatch.createdAt)
        const next = now + Math.min(RECONCILE_MAX_INTERVAL_MS, Math.max(deps.reconcile.stuckMs, age / 2))
        await deliveries.checkAgainAt(dispatchId, later.length > 0 ? Math.min(next, firstCheck(later[0]!, now)) : next)
      }
      return requeued
    }
  }
}
