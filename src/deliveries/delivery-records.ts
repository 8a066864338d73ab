/**
 * Dispatch and delivery records as Redis holds them (hashes; the fields are
 * listed in lua/includes/move-delivery.lua) and as the code uses them, and
 * the scripts' answers read back.
 */
import { createHash } from 'node:crypto'
import { isMessenger, MESSENGERS, type Messenger } from '../model/messenger.js'
import {
  dispatchOf, DELIVERY_STATES, isFinished, type Delivery, type DeliveryState, type Dispatch, type ReceiptEntry, type ReceiptStatus,
  type StateCounts, type SuppressedReason, type WhatsAppTemplate
} from '../model/delivery.js'

/** A script's answer, as ioredis gives it. */
export type Reply = string | number | null | Reply[]

/** A delivery being sent: what the sender needs of it and of its dispatch. */
export interface Sending {
  kind: 'send'
  attempts: number
  messenger: Messenger
  address: string
  text: string
  user: string
  /** '' for a direct address. */
  contact: string
  whatsappTemplate?: WhatsAppTemplate
}

export type StartResult =
  | Sending
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
  sentAs?: 'template'
  /** The address it was sent to in the end (a Telegram group's new supergroup id)... */
  address?: string
  /** ...and the one it had. */
  migratedFrom?: string
}

/** The stored names of the fields an outcome sets. */
const STORED_FIELDS: Record<keyof TransitionFields, string> = {
  url: 'url',
  lastError: 'error',
  providerMessageId: 'provider_message_id',
  sentAs: 'sent_as',
  address: 'address',
  migratedFrom: 'migrated_from'
}

/** The fields as field/value pairs for a script's ARGV. */
export function fieldPairs (fields: TransitionFields): string[] {
  const pairs: string[] = []
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) pairs.push(STORED_FIELDS[name as keyof TransitionFields], value)
  }
  return pairs
}

/**
 * The dispatch fields a delivery shares (read beside each delivery, in this order, for `toDelivery`):
 * then the API address of each messenger's sends, `url:<messenger>` (move-delivery.lua).
 */
export const SHARED_DISPATCH_FIELDS = ['user', 'text', 'created_at', 'send_at', 'expires_at', ...MESSENGERS.map((m) => `url:${m}`)] as const

/** A stored template (JSON), or undefined. */
function templateOf (json: string | null | undefined): WhatsAppTemplate | undefined {
  return json == null || json === '' ? undefined : JSON.parse(json) as WhatsAppTemplate
}

/** A stored receipt timeline: [[status, epoch ms, code?], ...]. */
function timelineOf (json: string | undefined): ReceiptEntry[] {
  if (json === undefined) return []
  return (JSON.parse(json) as Array<[ReceiptStatus, number, (number | string)?]>)
    .map(([status, at, code]) => ({ status, at, ...(code !== undefined && { code }) }))
}

/** Counts per state from a hash's `n:<state>` fields, or with `messenger` its `n:<messenger>:<state>` ones. */
export function countsOf (hash: Record<string, string>, messenger?: Messenger): StateCounts {
  const field = messenger === undefined ? 'n:' : `n:${messenger}:`
  return Object.fromEntries(DELIVERY_STATES.map((s) => [s, Math.max(0, Number(hash[`${field}${s}`] ?? 0))])) as StateCounts
}

/** A dispatch's counts per messenger, for each messenger it has any delivery on. */
export function countsByMessenger (hash: Record<string, string>): Partial<Record<Messenger, StateCounts>> {
  return Object.fromEntries(MESSENGERS.flatMap((m) => {
    const counts = countsOf(hash, m)
    return Object.values(counts).some((n) => n > 0) ? [[m, counts]] : []
  }))
}

export function toDispatch (id: string, hash: Record<string, string>): Dispatch | undefined {
  if (hash.user === undefined) return undefined
  return {
    id,
    user: hash.user,
    text: hash.text ?? '',
    ...(hash.whatsapp_template !== undefined && { whatsappTemplate: templateOf(hash.whatsapp_template) }),
    createdAt: Number(hash.created_at),
    sendAt: Number(hash.send_at),
    ...(hash.expires_at !== undefined && { expiresAt: Number(hash.expires_at) }),
    rev: Number(hash.rev ?? 0),
    releaseTimes: hash.release_times === undefined || hash.release_times === '' ? [] : hash.release_times.split(',').map(Number),
    ...(hash.targets !== undefined && { targets: hash.targets }),
    total: Number(hash.total ?? 0),
    counts: countsOf(hash),
    countsByMessenger: countsByMessenger(hash)
  }
}

/** A delivery from its hash and its dispatch's SHARED_DISPATCH_FIELDS; undefined when either is gone. */
export function toDelivery (id: string, stored: Record<string, string>, dispatch: Array<string | null>): Delivery | undefined {
  const [user, text, createdAt, sendAt, expiresAt, ...urls] = dispatch
  if (stored.state === undefined || user == null || !isMessenger(stored.messenger ?? '')) return undefined
  const messenger = stored.messenger as Messenger
  // '': where its dispatch's sends on that messenger went; absent: no attempt has ended yet.
  const url = stored.url === '' ? urls[MESSENGERS.indexOf(messenger)] : stored.url
  const updatedAt = stored.updated_at === undefined ? Number(createdAt) : Number(stored.updated_at)
  const state = stored.state as DeliveryState
  return {
    id,
    dispatchId: dispatchOf(id),
    user,
    contact: stored.contact ?? '',
    messenger,
    address: stored.address ?? '',
    text: text ?? '',
    state,
    attempts: Number(stored.attempts ?? 0),
    createdAt: Number(createdAt),
    sendAt: Number(sendAt),
    ...(expiresAt != null && { expiresAt: Number(expiresAt) }),
    // A delivery not changed since it was created has no updated_at of its own...
    updatedAt,
    ...(stored.due_at !== undefined && { dueAt: Number(stored.due_at) }),
    // ...and one whose last change was its finish no finished_at.
    ...(stored.finished_at !== undefined ? { finishedAt: Number(stored.finished_at) } : isFinished(state) && { finishedAt: updatedAt }),
    ...(stored.duplicate_of !== undefined && { duplicateOf: stored.duplicate_of }),
    // Repeats suppressed before reasons were kept have only their duplicate_of.
    ...(stored.state === 'suppressed' && { reason: (stored.reason ?? 'duplicate') as SuppressedReason }),
    ...(url != null && { url }),
    ...(stored.error !== undefined && { lastError: stored.error }),
    ...(stored.provider_message_id !== undefined && { providerMessageId: stored.provider_message_id }),
    ...(stored.sent_as === 'template' && { sentAs: 'template' as const }),
    ...(stored.migrated_from !== undefined && { migratedFrom: stored.migrated_from }),
    receipts: timelineOf(stored.receipts)
  }
}

/** The start script's answer (lua/includes/start-delivery.lua). */
export function startResult (result: Reply[] | null): StartResult {
  if (result === null) return { kind: 'unknown' }
  const [state, attempts, messenger, address, text, user, contact, template] = result as [string, number?, string?, string?, string?, string?, string?, string?]
  if (state === 'stale') return { kind: 'stale' }
  if (state === 'ended') return { kind: 'ended', state: result[1] as 'expired' | 'cancelled' }
  if (state !== 'sending') return { kind: 'finished', state: state as DeliveryState }
  if (!isMessenger(messenger ?? '') || address == null || text == null || user == null) return { kind: 'unknown' }
  const whatsappTemplate = templateOf(template)
  return {
    kind: 'send',
    attempts: Number(attempts),
    messenger: messenger as Messenger,
    address,
    text,
    user,
    contact: contact ?? '',
    ...(whatsappTemplate !== undefined && { whatsappTemplate })
  }
}

/** Identifies a text for duplicate suppression without keeping the text in the key. */
export function textFingerprint (text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22)
}
