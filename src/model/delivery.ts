/**
 * Dispatches and deliveries, in the words of docs/product.md.
 *
 * Life cycle: scheduled (waiting for send_at) -> queued -> sending -> an
 * outcome of the sending. A delivery waiting for a retry is `queued` again,
 * with its attempts and last error kept. A redrive puts a `failed` one back
 * to `queued`.
 *
 * The outcomes: `sent` (the messenger accepted it), then what its receipts
 * say: `delivered`, `read`, or `failed` (a failure after acceptance); or
 * `failed` before acceptance, `cancelled`, `expired`, `suppressed`. Receipts
 * move a delivery forward only, by RECEIPT_RANK, so its final state is the
 * highest-ranked of what it was told, in whatever order that came.
 */
import type { Messenger } from './messenger.js'

export const PENDING_STATES = ['scheduled', 'queued', 'sending'] as const
/** Sending is over: nothing of the delivery waits in a queue; receipts may still move it among the first four. */
export const FINISHED_STATES = ['sent', 'delivered', 'read', 'failed', 'cancelled', 'expired', 'suppressed'] as const
/** The messenger accepted it. */
export const ACCEPTED_STATES = ['sent', 'delivered', 'read'] as const

export type FinishedState = typeof FINISHED_STATES[number]
export type PendingState = typeof PENDING_STATES[number]
export type DeliveryState = PendingState | FinishedState
export const DELIVERY_STATES = [...PENDING_STATES, ...FINISHED_STATES] as const

export function isFinished (state: DeliveryState): state is FinishedState {
  return (FINISHED_STATES as readonly string[]).includes(state)
}

/** What a receipt may say about a delivery the messenger accepted. */
export const RECEIPT_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const
export type ReceiptStatus = typeof RECEIPT_STATUSES[number]

/**
 * The order in which receipts move a delivery: only to a higher rank, never
 * back. A failure receipt outranks `sent` (the message did not arrive) but
 * not `delivered` or `read`: with several devices WhatsApp may report a
 * failure on one after the message reached another. Being a maximum, the
 * final state does not depend on the order the receipts arrive in, nor on
 * repeats.
 */
export const RECEIPT_RANK: Record<ReceiptStatus, number> = { sent: 1, failed: 2, delivered: 3, read: 4 }

/**
 * Delivery ids are the dispatch id (a ULID and its user's slot), a `.`, and
 * the delivery's index in its dispatch, zero-padded so that ids sort in index
 * order too: stable, unique, and they lead to the dispatch without another
 * index. The Lua scripts build the same ids (`luaDeliveryModel`).
 */
const INDEX_DIGITS = 5

/** The most deliveries one dispatch may fan out to (their ids carry a 5-digit index). */
export const MAX_DELIVERIES_PER_DISPATCH = 10 ** INDEX_DIGITS

/**
 * A dispatch id, as a regular expression source: a ULID (so ids sort by
 * time), then the slot of its user's data (src/redis-keys.ts: where Redis
 * Cluster keeps it).
 */
export const DISPATCH_ID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}[0-9a-f]{4}'
/** A delivery id, as a regular expression source. */
export const DELIVERY_ID_PATTERN = `${DISPATCH_ID_PATTERN}\\.[0-9]{${INDEX_DIGITS}}`

/** One delivery as the fan-out creates it. */
export interface NewDelivery {
  /** The contact's name; '' for a direct address given without a contact. */
  contact: string
  messenger: Messenger
  address: string
  /** Epoch ms: held past the dispatch's send_at until then (its contact's local window opens). */
  dueAt?: number
  /** Written `suppressed` for this reason instead of being sent (a repeat is found by the create script itself). */
  suppress?: 'address_unreachable'
}

/** Why a delivery is `suppressed`: it repeats a recent one (`duplicate_of`), or its address is marked dead and the dispatch skips those. */
export const SUPPRESSED_REASONS = ['duplicate', 'address_unreachable'] as const
export type SuppressedReason = typeof SUPPRESSED_REASONS[number]

/**
 * An approved WhatsApp template, sent instead of the text to people outside
 * WhatsApp's 24-hour customer-service window (see docs/messengers.md).
 */
export interface WhatsAppTemplate {
  name: string
  /** Its language code, e.g. en_US. */
  language: string
  /** Values of the template's body parameters, in order. */
  parameters?: string[]
}

export interface NewDispatch {
  id: string
  user: string
  text: string
  whatsappTemplate?: WhatsAppTemplate
  /** Epoch ms; not before this. */
  sendAt: number
  /** Epoch ms; give up after this. */
  expiresAt?: number
  createdAt: number
  /** Seconds within which the same text to the same address is suppressed; 0: off. */
  dedupWindowSeconds: number
  /** When the outbox sweep first looks at it (epoch ms), should its jobs not be queued by then. */
  checkAt: number
  /** Later than sendAt, before expiresAt: when deliveries held for their local window are due (a release job each). */
  releaseTimes?: readonly number[]
  /** What it targets, as the dispatcher takes it (JSON), so that an edit can fan it out again. */
  targets?: string
}

/** Counts of a dispatch's (or a user's) deliveries per state. */
export type StateCounts = Record<DeliveryState, number>

/** A dispatch as users query it back. */
export interface Dispatch {
  id: string
  user: string
  text: string
  whatsappTemplate?: WhatsAppTemplate
  createdAt: number
  sendAt: number
  expiresAt?: number
  /** Bumped by each edit: the release and expire jobs carry it, so an old job does nothing. */
  rev: number
  /** When deliveries held for their local window are due (see NewDispatch). */
  releaseTimes: number[]
  /** See NewDispatch; absent for a dispatch accepted before edits existed. */
  targets?: string
  total: number
  counts: StateCounts
  /** The same counts per messenger, for the messengers it has deliveries on. */
  countsByMessenger: Partial<Record<Messenger, StateCounts>>
}

/** A delivery as users query it back. */
export interface Delivery {
  id: string
  dispatchId: string
  user: string
  contact: string
  messenger: Messenger
  address: string
  text: string
  state: DeliveryState
  attempts: number
  createdAt: number
  sendAt: number
  updatedAt: number
  expiresAt?: number
  /** Held for its contact's local window until then (epoch ms). */
  dueAt?: number
  finishedAt?: number
  /** For a suppressed delivery: the earlier delivery it repeats. */
  duplicateOf?: string
  /** For a suppressed delivery: why. */
  reason?: SuppressedReason
  /** Where the last attempt went (never with a token in it). */
  url?: string
  lastError?: string
  providerMessageId?: string
  /** 'template' when WhatsApp got the dispatch's template instead of the text. */
  sentAs?: 'template'
  /** A Telegram group that became a supergroup: the chat id it was sent to first (`address` is the new one). */
  migratedFrom?: string
  /** What the messenger said since it accepted the send, each status once, in the order heard. */
  receipts: ReceiptEntry[]
}

/** One entry of a delivery's receipt timeline. */
export interface ReceiptEntry {
  status: ReceiptStatus
  /** Epoch ms, as the messenger stamped it. */
  at: number
  /** The messenger's code, for a failure. */
  code?: number | string
}

/** What a receipt says about a message. */
export interface ReceiptReport {
  status: ReceiptStatus
  /** Epoch ms, as the messenger stamped it. */
  at: number
  code?: number | string
  /** For a failure: the messenger's words, kept as the delivery's last error. */
  error?: string
}

/** A receipt as a messenger's webhook brings it: a report on one message. */
export interface Receipt extends ReceiptReport {
  messenger: Messenger
  /** The messenger's id of the message (WhatsApp's wamid, Viber's message_token as text). */
  providerId: string
}

export function deliveryId (dispatchId: string, index: number): string {
  return `${dispatchId}.${String(index).padStart(INDEX_DIGITS, '0')}`
}

export function dispatchOf (id: string): string {
  const dot = id.lastIndexOf('.')
  return dot === -1 ? id : id.slice(0, dot)
}

/** The index a delivery id ends with (the inverse of deliveryId, as dispatchOf is). */
export function deliveryIndexOf (id: string): number {
  return Number(id.slice(id.lastIndexOf('.') + 1))
}

/**
 * The same model for the Lua scripts (their `--- @include "delivery-model"`):
 * the sets of pending, finished and accepted states, the receipts' ranks,
 * `delivery_id(dispatch, index)` and `dispatch_of(id)`.
 */
export function luaDeliveryModel (): string {
  const set = (states: readonly string[]) => `{ ${states.map((s) => `${s} = true`).join(', ')} }`
  return [
    `local FINISHED = ${set(FINISHED_STATES)}`,
    `local PENDING = ${set(PENDING_STATES)}`,
    `local ACCEPTED = ${set(ACCEPTED_STATES)}`,
    `local RECEIPT_RANK = { ${Object.entries(RECEIPT_RANK).map(([s, rank]) => `${s} = ${rank}`).join(', ')} }`,
    `local function delivery_id (dispatch_id, index) return string.format('%s.%0${INDEX_DIGITS}d', dispatch_id, index) end`,
    "local function dispatch_of (id) return string.match(id, '^(.*)%.[^.]*$') end"
  ].join('\n')
}
