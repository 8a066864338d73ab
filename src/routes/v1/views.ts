/**
 * Records as the /v1 API shows them: snake_case, RFC 3339 times, absent
 * rather than empty. Dispatches and deliveries: src/deliveries/delivery-views.ts
 * (status webhooks send them too).
 */
import type { CancelOutcome, RedriveOutcome } from '../../deliveries/delivery-store.js'
import type { DeliveryCancel } from '../../deliveries/dispatcher.js'
import type { IssuedKey, KeyInfo, UserInfo } from '../../users/user-store.js'
import { iso } from '../../deliveries/delivery-views.js'

export function cancelReport (cancels: readonly DeliveryCancel[]) {
  const of = (kind: CancelOutcome['kind']) => cancels.filter((l) => l.outcome.kind === kind).map((l) => l.id)
  return {
    cancelled: of('cancelled'),
    in_flight: of('in_flight'),
    already_finished: cancels.flatMap((l) => l.outcome.kind === 'finished' ? [{ id: l.id, state: l.outcome.state }] : [])
  }
}

export function redriveReport (outcomes: readonly RedriveOutcome[]) {
  return {
    redriven: outcomes.filter((o) => o.outcome === 'redriven').map((o) => o.id),
    not_failed: outcomes.flatMap((o) => o.outcome === 'redriven' || o.outcome === 'unknown' ? [] : [{ id: o.id, state: o.outcome }])
  }
}

export function keyView (k: KeyInfo) {
  return {
    id: k.id,
    ...(k.label !== undefined && { label: k.label }),
    created_at: iso(k.createdAt),
    ...(k.revokedAt !== undefined && { revoked_at: iso(k.revokedAt) })
  }
}

export function issuedKeyView (k: IssuedKey) {
  return { id: k.id, key: k.key, ...(k.label !== undefined && { label: k.label }), created_at: iso(k.createdAt) }
}

export function userView (u: UserInfo) {
  return { name: u.name, created_at: iso(u.createdAt), active_keys: u.keys.filter((k) => k.revokedAt === undefined).length }
}
