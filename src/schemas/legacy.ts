/**
 * The legacy-compatible API: the request and answer shapes of the origin
 * system's curl examples (including its spelling `messangers` and `whatsApp`).
 * Unknown top-level fields are ignored, as that system did.
 */
import { Type, type Static } from 'typebox'
import { ContactName, ErrorBody, UserName } from './common.js'

const MessengerId = Type.String({ maxLength: 64, description: 'An id on that messenger; "" means none' })

export const LegacyMessengers = Type.Object({
  telegram: Type.Optional(MessengerId),
  whatsApp: Type.Optional(MessengerId),
  /** Accepted too: the lower-case spelling is the one every other part of the product uses. */
  whatsapp: Type.Optional(MessengerId),
  viber: Type.Optional(MessengerId)
}, { additionalProperties: false })

export const CreateContactBody = Type.Object({
  user_name: UserName,
  contact: Type.Object({
    name: ContactName,
    messangers: LegacyMessengers
  })
})
export type CreateContactBody = Static<typeof CreateContactBody>

export const DeleteContactBody = Type.Object({
  user_name: UserName,
  contact: ContactName
})
export type DeleteContactBody = Static<typeof DeleteContactBody>

const Recipients = Type.Union([
  Type.Array(ContactName, { minItems: 1, maxItems: 10_000 }),
  ContactName
], { description: 'Contact names (a list, or one name)' })

export const SendBody = Type.Object({
  user_name: UserName,
  contact: Type.Optional(Recipients),
  contacts: Type.Optional(Recipients),
  message: Type.String({ minLength: 1, maxLength: 7000 }),
  time: Type.Optional(Type.Array(Type.Integer(), {
    description: '[year, month (1-12), day, hour, minute, second] in the service\'s time zone; now or past means send now'
  }))
})
export type SendBody = Static<typeof SendBody>

export const UserQuery = Type.Object({
  user_name: Type.Optional(UserName)
})
export const UserBody = Type.Object({
  user_name: Type.Optional(UserName)
})

export const FailedQuery = Type.Object({
  user_name: Type.Optional(UserName),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 }))
})
export const FailedBody = Type.Object({
  user_name: Type.Optional(UserName),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 }))
})

export const Success = Type.Object({ success: Type.Boolean() })

export const SendAnswer = Type.Object({
  success: Type.Boolean({ description: 'true when at least one delivery was created' }),
  dispatch_id: Type.Optional(Type.String()),
  deliveries: Type.Integer({ description: 'Deliveries created: one per messenger id of each known contact' }),
  unknown: Type.Array(Type.String(), { description: 'Names not in the user\'s book: nothing was sent to them' }),
  without_ids: Type.Array(Type.String(), { description: 'Contacts that have no messenger id at all' }),
  send_at: Type.String({ format: 'date-time', description: 'Not before this time, as given' }),
  scheduled: Type.Boolean({ description: 'true when the deliveries wait for send_at; false when they go now' })
})

export const LegacyIds = Type.Object({
  telegram: Type.String(),
  whatsApp: Type.String(),
  viber: Type.String()
})

export const ContactsAnswer = Type.Object({
  contacts: Type.Record(Type.String(), LegacyIds)
})

export const FailedDelivery = Type.Object({
  sender: Type.String({ description: 'The user who sent it' }),
  message: Type.String(),
  contact: Type.String(),
  url: Type.String({ description: 'Where the last attempt went (without the token)' }),
  time: Type.Array(Type.Integer(), { description: 'When it was scheduled for, as [Y, M, D, h, m, s]' }),
  messenger: Type.String(),
  address: Type.String(),
  attempts: Type.Integer(),
  error: Type.String(),
  failed_at: Type.String({ format: 'date-time' }),
  delivery_id: Type.String(),
  dispatch_id: Type.String()
})

export const FailedAnswer = Type.Object({
  data: Type.Array(FailedDelivery, { description: 'Newest first (by when the send was accepted)' }),
  total: Type.Integer({ description: 'Failed deliveries kept for this user (data holds at most `limit`)' })
})

export const LegacyError = ErrorBody
