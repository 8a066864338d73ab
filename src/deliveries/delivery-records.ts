/**
 * Dispatch and delivery records as Redis holds them (hashes; the fields are
 * listed in lua/includes/move-delivery.lua) and as the code uses them, and
 * the scripts' answers read back.
 */
import { createHash } from 'node:crypto'
import { isMessenger, type Messenger } from '../model/messenger.js'
import { dispatchOf, DELIVERY_STATES, type Delivery, type DeliveryState, type Dispatch, type StateCounts } from '../model/delivery.js'

/** A script's answer, as ioredis gives it. */
export type Reply = string | number | null | Reply[]

export type StartResult =
  | { kind: 'send', attempts: number, messenger: Messenger, address: string, text: string, user: string }
  /** Ended by this start instead of being sent: past its expires_at, or cancelled while a crashed attempt held it. */
  | { kind: 'ended', state: 'expired' | 'cancelled' }
  /** Already finished before: nothing to send. */
  | { kind: 'finished', state: DeliveryState }
  /** The job belongs to another generation of the delivery (it was redriven since). */
  | { kind: 'stale' }
  | { kind: 'unknown' }

/** What an attempt's outcome adds to the delivery's record. */
export interface TransitionFields {
  url?: string
  lastError?: string
  providerMessageId?: string
}

/** The stored names of the fields an outcome sets. */
const STORED_FIELDS: Record<keyof TransitionFields, string> = {
  url: 'url',
  lastError: 'error',
  providerMessageId: 'provider_message_id'
}

/** The fields as field/value pairs for a script's ARGV. */
export function fieldPairs (fields: TransitionFields): string[] {
  const pairs: string[] = []
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) pairs.push(STORED_FIELDS[name as keyof TransitionFields], value)
  }
  return pairs
}

/** The dispatch fields a delivery shares (read beside each delivery, in this order, for `toDelivery`). */
export const SHARED_DISPATCH_FIELDS = ['user', 'text', 'created_at', 'send_at', 'expires_at'] as const

export function countsOf (hash: Record<string, string>): StateCounts {
  return Object.fromEntries(DELIVERY_STATES.map((s) => [s, Math.max(0, Number(hash[`n:${s}`] ?? 0))])) as StateCounts
}

export function toDispatch (id: string, hash: Record<string, string>): Dispatch | undefined {
  if (hash.user === undefined) return undefined
  return {
    id,
    user: hash.user,
    text: hash.text ?? '',
    createdAt: Number(hash.created_at),
    sendAt: Number(hash.send_at),
    ...(hash.expires_at !== undefined && { expiresAt: Number(hash.expires_at) }),
    total: Number(hash.total ?? 0),
    counts: countsOf(hash)
  }
}

/** A delivery from its hash and its dispatch's SHARED_DISPATCH_FIELDS; undefined when either is gone. */
export function toDelivery (id: string, stored: Record<string, string>, dispatch: Array<string | null>): Delivery | undefined {
  const [user, text, createdAt, sendAt, expiresAt] = dispatch
  if (stored.state === undefined || user == null || !isMessenger(stored.messenger ?? '')) return undefined
  return {
    id,
    dispatchId: dispatchOf(id),
    user,
    contact: stored.contact ?? '',
    messenger: stored.messenger as Messenger,
    address: stored.address ?? '',
    text: text ?? '',
    state: stored.state as DeliveryState,
    attempts: Number(stored.attempts ?? 0),
    createdAt: Number(createdAt),
    sendAt: Number(sendAt),
    ...(expiresAt != null && { expiresAt: Number(expiresAt) }),
    // A delivery not changed since it was created has no updated_at of its own.
    updatedAt: stored.updated_at === undefined ? Number(createdAt) : Number(stored.updated_at),
    ...(stored.finished_at !== undefined && { finishedAt: Number(stored.finished_at) }),
    ...(stored.duplicate_of !== undefined && { duplicateOf: stored.duplicate_of }),
    ...(stored.url !== undefined && { url: stored.url }),
    ...(stored.error !== undefined && { lastError: stored.error }),
    ...(stored.provider_message_id !== undefined && { providerMessageId: stored.provider_message_id })
  }
}

/** The start script's answer (lua/includes/start-delivery.lua). */
export function startResult (result: Reply[] | null): StartResult {
  if (result === null) return { kind: 'unknown' }
  const [state, attempts, messenger, address, text, user] = result as [string, number?, string?, string?, string?, string?]
  if (state === 'stale') return { kind: 'stale' }
  if (state === 'ended') return { kind: 'ended', state: result[1] as 'expired' | 'cancelled' }
  if (state !== 'sending') return { kind: 'finished', state: state as DeliveryState }
  if (!isMessenger(messenger ?? '') || address == null || text == null || user == null) return { kind: 'unknown' }
  return { kind: 'send', attempts: Number(attempts), messenger: messenger as Messenger, address, text, user }
}

/** Identifies a text for duplicate suppression without keeping the text in the key. */
export function textFingerprint (text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22)
}
