/**
 * Dispatches and deliveries, in the words of PRODUCT.md.
 *
 * Life cycle: scheduled (waiting for send_at) -> queued -> sending -> one
 * terminal state. A delivery waiting for a retry is `queued` again, with its
 * attempts and last error kept. A redrive puts a `failed` one back to `queued`.
 */
import type { Messenger } from '../messengers/messenger.js'

export const TERMINAL_STATES = ['delivered', 'failed', 'cancelled', 'expired', 'suppressed'] as const
export const PENDING_STATES = ['scheduled', 'queued', 'sending'] as const

export type TerminalState = typeof TERMINAL_STATES[number]
export type PendingState = typeof PENDING_STATES[number]
export type DeliveryState = PendingState | TerminalState
export const DELIVERY_STATES = [...PENDING_STATES, ...TERMINAL_STATES] as const

export function isTerminal (state: DeliveryState): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state)
}

/** The most deliveries one dispatch may fan out to (their ids carry a 5-digit index). */
export const MAX_DELIVERIES_PER_DISPATCH = 100_000

/** One leg as the fan-out creates it. */
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

/**
 * Delivery ids are the dispatch id (a ULID, so ids sort by time) and the leg's
 * index, zero-padded so that ids sort in leg order too: stable, unique, and
 * they lead to the dispatch without another index. The Lua scripts build the
 * same ids (`%s.%05d`).
 */
export function deliveryId (dispatchId: string, index: number): string {
  return `${dispatchId}.${String(index).padStart(5, '0')}`
}

export function dispatchOf (id: string): string {
  const dot = id.lastIndexOf('.')
  return dot === -1 ? id : id.slice(0, dot)
}

/** The leg index a delivery id ends with (the inverse of deliveryId, as dispatchOf is). */
export function legIndexOf (id: string): number {
  return Number(id.slice(id.lastIndexOf('.') + 1))
}
