/**
 * Dispatches and deliveries as the /v1 API shows them, and status webhooks
 * send them: snake_case, RFC 3339 times, absent rather than empty.
 */
import type { Delivery, Dispatch } from '../model/delivery.js'
import type { DispatchTargets } from './dispatcher.js'

/** A time as the API writes it (RFC 3339, UTC). */
export const iso = (ms: number): string => new Date(ms).toISOString()
const hhmm = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`

/** The local window a dispatch keeps with its targets, as the API writes it. */
function localWindowView (targets: DispatchTargets | undefined) {
  const window = targets?.localWindow
  if (window === undefined) return undefined
  return { from: hhmm(window.from), to: hhmm(window.to), ...(window.defaultZone !== undefined && { default_timezone: window.defaultZone }) }
}

export function dispatchView (d: Dispatch, now = Date.now()) {
  const targets = d.targets === undefined ? undefined : JSON.parse(d.targets) as DispatchTargets
  const localWindow = localWindowView(targets)
  const pending = d.counts.scheduled + d.counts.queued + d.counts.sending
  // Deliveries held for their local window keep a dispatch `scheduled` after its send_at.
  const waiting = d.sendAt > now || d.releaseTimes.some((at) => at > now)
  const status = pending === 0 ? 'finished' : d.counts.scheduled === pending && waiting ? 'scheduled' : 'in_progress'
  return {
    id: d.id,
    text: d.text,
    ...(d.whatsappTemplate !== undefined && { whatsapp_template: d.whatsappTemplate }),
    status: status as 'finished' | 'scheduled' | 'in_progress',
    created_at: iso(d.createdAt),
    send_at: iso(d.sendAt),
    ...(d.expiresAt !== undefined && { expires_at: iso(d.expiresAt) }),
    ...(localWindow !== undefined && { local_window: localWindow }),
    ...(targets?.skipUnreachable === true && { skip_unreachable: true as const }),
    revision: d.rev,
    total: d.total,
    counts: d.counts,
    by_messenger: d.countsByMessenger
  }
}

export function deliveryView (d: Delivery) {
  return {
    id: d.id,
    dispatch_id: d.dispatchId,
    ...(d.contact !== '' && { contact: d.contact }),
    messenger: d.messenger,
    address: d.address,
    text: d.text,
    state: d.state,
    attempts: d.attempts,
    created_at: iso(d.createdAt),
    send_at: iso(d.sendAt),
    ...(d.expiresAt !== undefined && { expires_at: iso(d.expiresAt) }),
    ...(d.dueAt !== undefined && { due_at: iso(d.dueAt) }),
    updated_at: iso(d.updatedAt),
    ...(d.finishedAt !== undefined && { finished_at: iso(d.finishedAt) }),
    ...(d.url !== undefined && { url: d.url }),
    ...(d.lastError !== undefined && { last_error: d.lastError }),
    ...(d.providerMessageId !== undefined && { provider_message_id: d.providerMessageId }),
    ...(d.sentAs !== undefined && { sent_as: d.sentAs }),
    ...(d.migratedFrom !== undefined && { migrated_from: d.migratedFrom }),
    receipts: d.receipts.map((r) => ({ state: r.status, at: iso(r.at), ...(r.code !== undefined && { code: r.code }) })),
    ...(d.duplicateOf !== undefined && { duplicate_of: d.duplicateOf }),
    ...(d.reason !== undefined && { reason: d.reason })
  }
}
