/** Status webhook endpoints and their attempts as /v1/webhooks shows them (see views.ts for the rest). */
import type { Attempt, Endpoint } from '../../webhooks/endpoint-store.js'
import { iso } from '../../deliveries/delivery-views.js'

export function endpointView (e: Endpoint) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    enabled: e.enabled,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
    ...(e.failingSince !== undefined && { failing_since: iso(e.failingSince) }),
    ...(e.disabledAt !== undefined && { disabled_at: iso(e.disabledAt) }),
    ...(e.disabledReason !== undefined && { disabled_reason: e.disabledReason })
  }
}

export function attemptView (a: Attempt) {
  return {
    id: a.id,
    message_id: a.messageId,
    type: a.type,
    at: iso(a.at),
    ...(a.status !== undefined && { status: a.status }),
    ok: a.ok,
    duration_ms: a.durationMs,
    ...(a.error !== undefined && { error: a.error }),
    attempt: a.attempt
  }
}
