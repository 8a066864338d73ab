/** Schemas shared by several routes. */
import { Type } from 'typebox'

/** A user's name; it becomes part of Redis keys, so no separators or braces. */
export const UserName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[\\p{L}\\p{N}._@-]+$',
  description: 'The user the request acts for: letters, digits, `.`, `_`, `@`, `-`'
})

export const ContactName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[^\\p{Cc}]+$',
  description: 'Name of a contact, unique within the user\'s book'
})

export const FieldProblem = Type.Object({
  field: Type.String(),
  message: Type.String()
})

export const ErrorBody = Type.Object({
  success: Type.Optional(Type.Literal(false)),
  error: Type.Object({
    code: Type.String({ description: 'Stable error code, e.g. INVALID_FIELD, INVALID_JSON, NOT_FOUND' }),
    message: Type.String(),
    details: Type.Optional(Type.Array(FieldProblem))
  })
}, { description: 'An error; `details` names the fields at fault' })

/**
 * What any route may answer besides its own statuses: a body it cannot read
 * (every route reads one when sent, a GET's too: 400, 413, 415), a field at
 * fault (400), a fault of ours (500), or a store that cannot serve (503:
 * STORE_UNAVAILABLE, STORE_FULL; with Retry-After).
 */
export const RequestErrors = {
  400: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  500: ErrorBody,
  503: { ...ErrorBody, description: 'Redis is not answering (STORE_UNAVAILABLE) or is full (STORE_FULL); see Retry-After' }
}
