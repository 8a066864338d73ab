/**
 * Dispatches and deliveries, in the words of docs/product.md.
 *
 * Life cycle: scheduled (waiting for send_at) -> queued -> sending -> one
 * terminal state. A delivery waiting for a retry is `queued` again, with its
 * attempts and last error kept. A redrive puts a `failed` one back to `queued`.
 */
import type { Messenger } from './messenger.js'

export const TERMINAL_STATES = ['delivered', 'failed', 'cancelled', 'expired', 'suppressed'] as const
export const PENDING_STATES = ['scheduled', 'queued', 'sending'] as const

export type TerminalState = typeof TERMINAL_STATES[number]
export type PendingState = typeof PENDING_STATES[number]
export type DeliveryState = PendingState | TerminalState
export const DELIVERY_STATES = [...PENDING_STATES, ...TERMINAL_STATES] as const

export function isTerminal (state: DeliveryState): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state)
}

/**
 * Delivery ids are the dispatch id (a ULID, so ids sort by time), a `.`, and
 * the delivery's index in its dispatch, zero-padded so that ids sort in index
 * order too: stable, unique, and they lead to the dispatch without another
 * index. The Lua scripts build the same ids (`luaDeliveryModel`).
 */
const INDEX_DIGITS = 5

/** The most deliveries one dispatch may fan out to (their ids carry a 5-digit index). */
export const MAX_DELIVERIES_PER_DISPATCH = 10 ** INDEX_DIGITS

/** A dispatch id, as a regular expression source: a ULID. */
export const DISPATCH_ID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}'
/** A delivery id, as a regular expression source. */
export const DELIVERY_ID_PATTERN = `${DISPATCH_ID_PATTERN}\\.[0-9]{${INDEX_DIGITS}}`

/** One delivery as the fan-out creates it. */
export interface NewDelivery {
  /** The contact's name; '' for a direct address given without a contact. */
  contact: string
  messenger: Messenger
  address: string
}

export interface NewDispatch {
  id: string
  user: string
  text: string
  /** Epoch ms; not before this. */
  sendAt: number
  /** Epoch ms; give up after this. */
  expiresAt?: number
  createdAt: number
  /** Seconds within which the same text to the same address is suppressed; 0: off. */
  dedupWindowSeconds: number
}

/** Counts of a dispatch's (or a user's) deliveries per state. */
export type StateCounts = Record<DeliveryState, number>

/** A dispatch as users query it back. */
export interface Dispatch {
  id: string
  user: string
  text: string
  createdAt: number
  sendAt: number
  expiresAt?: number
  total: number
  counts: StateCounts
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
  finishedAt?: number
  /** For a suppressed delivery: the earlier delivery it repeats. */
  duplicateOf?: string
  /** Where the last attempt went (never with a token in it). */
  url?: string
  lastError?: string
  providerMessageId?: string
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
 * the sets of pending and terminal states, `delivery_id(dispatch, index)` and
 * `dispatch_of(id)`.
 */
export function luaDeliveryModel (): string {
  const set = (states: readonly string[]) => `{ ${states.map((s) => `${s} = true`).join(', ')} }`
  return [
    `local TERMINAL = ${set(TERMINAL_STATES)}`,
    `local PENDING = ${set(PENDING_STATES)}`,
    `local function delivery_id (dispatch_id, index) return string.format('%s.%0${INDEX_DIGITS}d', dispatch_id, index) end`,
    "local function dispatch_of (id) return string.match(id, '^(.*)%.[^.]*$') end"
  ].join('\n')
}
