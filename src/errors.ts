/**
 * The service's coded errors. Every error a client can cause carries a stable
 * code, an HTTP status and, where a field is at fault, that field's name; the
 * root error handler (plugins/app/error-handler.ts) turns them into
 *   { error: { code, message, details?: [{ field, message }] } }.
 */
import createError from '@fastify/error'

export interface FieldProblem {
  /** Dotted path of the field at fault, e.g. `contact.messangers.whatsApp` or `time[1]`. */
  field: string
  message: string
}

const InvalidField = createError<'INVALID_FIELD', 400, [string]>('INVALID_FIELD', '%s', 400)

type FieldError = InstanceType<typeof InvalidField> & { details: FieldProblem[] }

/** A 400 naming the field at fault. */
export function invalidField (field: string, message: string): FieldError {
  return Object.assign(new InvalidField(`${field} ${message}`), { details: [{ field, message }] })
}

