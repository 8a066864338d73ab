/**
 * Status webhooks: the user's own endpoints (/v1/webhooks), told of their
 * deliveries' changes. Not the messengers' receipts, which come in (schemas/webhooks.ts).
 */
import { Type, type Static } from 'typebox'
import { STATUS_EVENTS } from '../model/status-event.js'

const Time = Type.String({ format: 'date-time' })

export const EndpointId = Type.String({ pattern: '^ep_[0-9a-f]{16}$', description: 'An endpoint\'s id: `ep_` and 16 hex digits' })
export const AttemptId = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'An attempt\'s id (a ULID)' })

const EventName = Type.Enum(STATUS_EVENTS, { description: STATUS_EVENTS.join(', ') })
const Events = Type.Array(EventName, { minItems: 1, uniqueItems: true, description: 'The events sent to it' })
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  pattern: '^[hH][tT][tT][pP][sS]?://[^\\s]+$',
  description: 'An http or https URL; its address must be public unless the deployment sets WEBHOOK_ALLOW_PRIVATE'
})

export const NewEndpointBody = Type.Object({
  url: Url,
  events: Events,
  enabled: Type.Optional(Type.Boolean({ default: true }))
}, { additionalProperties: false })
export type NewEndpointBody = Static<typeof NewEndpointBody>

export const EndpointPatchBody = Type.Object({
  url: Type.Optional(Url),
  events: Type.Optional(Events),
  enabled: Type.Optional(Type.Boolean({ description: 'true re-enables an endpoint disabled for failing' }))
}, { additionalProperties: false, minProperties: 1 })

export const Endpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  created_at: Time,
  updated_at: Time,
  failing_since: Type.Optional(Type.String({ format: 'date-time', description: 'Every attempt has failed since then' })),
  disabled_at: Type.Optional(Type.String({ format: 'date-time', description: 'When it was disabled for failing' })),
  disabled_reason: Type.Optional(Type.String({ description: 'Why it was disabled: every attempt failed for WEBHOOK_DISABLE_AFTER_MS' }))
}, { description: 'A status webhook endpoint, without its secret' })

export const CreatedEndpoint = Type.Object({
  ...Endpoint.properties,
  secret: Type.String({ description: 'The signing secret (`whsec_...`): shown this once, stored encrypted' })
})

export const RotatedSecret = Type.Object({
  id: Type.String(),
  secret: Type.String({ description: 'The new signing secret: shown this once' }),
  previous_secret_until: Type.String({ format: 'date-time', description: 'Until then the old secret signs too (two signatures)' })
})

export const EndpointList = Type.Object({ endpoints: Type.Array(Endpoint, { description: 'Oldest first' }) })

export const Attempt = Type.Object({
  id: Type.String(),
  message_id: Type.String({ description: 'The webhook-id: the same for every attempt of one message' }),
  type: Type.String({ description: 'The event' }),
  at: Time,
  status: Type.Optional(Type.Integer({ description: 'The HTTP status answered; absent when none came' })),
  ok: Type.Boolean(),
  duration_ms: Type.Integer(),
  error: Type.Optional(Type.String()),
  attempt: Type.Integer({ description: 'Which try of the message (1: the first)' })
})

export const AttemptList = Type.Object({ attempts: Type.Array(Attempt, { description: 'Newest first' }) })
export const AttemptListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 }))
}, { additionalProperties: false })

export const QueuedMessage = Type.Object({
  message_id: Type.String({ description: 'Its webhook-id' })
}, { description: 'Queued: it is sent within moments; its attempt is listed with the others' })

export const EndpointParams = Type.Object({ id: EndpointId })
export const AttemptParams = Type.Object({ id: EndpointId, attemptId: AttemptId })
