/**
 * Dispatches and deliveries, in the words of PRODUCT.md.
 *
 * Life cycle: scheduled (waiting for send_at) -> queued -> sending -> one
 * terminal state. A delivery waiting for a retry is `queued` again, with its
 * attempts and last error kept.
 */
import type { Messenger } from '../messengers/messenger.js'

export const TERMINAL_STATES = ['delivered', 'failed', 'cancelled', 'expired', 'suppressed'] as const
export const PENDING_STATES = ['scheduled', 'queued', 'sending'] as const

export type TerminalState = typeof TERMINAL_STATES[number]
export type PendingState = typeof PENDING_STATES[number]
export type DeliveryState = PendingState | TerminalState

/** One leg as the fan-out creates it. */
export interface NewDelivery {
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
  createdAt: number
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
  finishedAt?: number
  /** Where the last attempt went (never with a token in it). */
  url?: string
  lastError?: string
  providerMessageId?: string
}

/**
 * Delivery ids are the dispatch id and the leg's index: stable, unique, and
 * they lead to the dispatch without another index.
 */
export function deliveryId (dispatchId: string, index: number): string {
  return `${dispatchId}.${index}`
}

export function dispatchOf (id: string): string {
  const dot = id.lastIndexOf('.')
  return dot === -1 ? id : id.slice(0, dot)
}
