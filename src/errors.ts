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
const Unauthenticated = createError<'UNAUTHENTICATED', 401, [string]>('UNAUTHENTICATED', '%s', 401)
const InvalidSignature = createError<'INVALID_SIGNATURE', 401, [string]>('INVALID_SIGNATURE', '%s', 401)
const Forbidden = createError<'FORBIDDEN', 403, [string]>('FORBIDDEN', '%s', 403)
const NotFound = createError<'NOT_FOUND', 404, [string]>('NOT_FOUND', '%s', 404)
const NotAcceptable = createError<'NOT_ACCEPTABLE', 406, [string]>('NOT_ACCEPTABLE', '%s', 406)
const Conflict = createError<string, 409, [string]>('CONFLICT', '%s', 409)
const Unprocessable = createError<string, 422, [string]>('UNPROCESSABLE', '%s', 422)
const TooLarge = createError<string, 413, [string]>('BODY_TOO_LARGE', '%s', 413)
const TooManyRequests = createError<'RATE_LIMITED', 429, [string]>('RATE_LIMITED', '%s', 429)

type CodedError = Error & {
  code: string
  statusCode: number
  details?: FieldProblem[]
  /** More of the answer, beside `error` (a refused import's report). */
  answer?: Record<string, unknown>
}

/** A 400 naming the field at fault. */
export function invalidField (field: string, message: string): CodedError {
  return Object.assign(new InvalidField(`${field} ${message}`), { details: [{ field, message }] })
}

/**
 * The `WWW-Authenticate` of every 401: the two schemes the service takes.
 * Basic comes first: browsers act on the first challenge only, and Basic is
 * the one that makes them ask for a name and key (the admin page).
 */
export const AUTH_CHALLENGE = 'Basic realm="messenger-fanout", charset="UTF-8", Bearer realm="messenger-fanout"'

/** A 401: no credentials, or none that are valid (the error handler adds `WWW-Authenticate`). */
export function unauthenticated (message: string): CodedError {
  return new Unauthenticated(message)
}

/** A 401 for a messenger's webhook whose body does not carry that messenger's signature: nothing of it is used. */
export function invalidSignature (message: string, header: string): CodedError {
  return Object.assign(new InvalidSignature(`${header} ${message}`), { details: [{ field: header, message }] })
}

const NotReplicated = createError<'NOT_REPLICATED', 503, [string]>('NOT_REPLICATED', '%s', 503)

/**
 * A 503 for a send the master has but not yet `replicas` of its replicas
 * (REDIS_MIN_REPLICAS_ACK): accepted might not mean kept, so it is not
 * answered as accepted. It may still be sent (if the master lives); a
 * retry's repeat of the same text to the same address is suppressed.
 */
export function notReplicated (replicas: number, timeoutMs: number): CodedError {
  return new NotReplicated(`the send is recorded but not yet on ${replicas} replica${replicas === 1 ? '' : 's'} after ${timeoutMs} ms, so it may not survive a failover; ` +
    'retry shortly (a repeat of the same text to the same address within the dedup window is not sent twice)')
}

/** A 403: valid credentials that do not allow this (another user named in the request, a user key on an admin route). */
export function forbidden (message: string, field?: string): CodedError {
  const error = new Forbidden(field === undefined ? message : `${field} ${message}`)
  return field === undefined ? error : Object.assign(error, { details: [{ field, message }] })
}

/** A 404 for a resource the caller has no such thing of (another user's ids answer this too). */
export function notFound (message: string): CodedError {
  return new NotFound(message)
}

/** A 406: the route cannot answer in any type the request's Accept header takes. */
export function notAcceptable (message: string): CodedError {
  return new NotAcceptable(message)
}

/** A 409: the request clashes with the current state (an existing name, a request still in flight). */
export function conflict (code: string, message: string): CodedError {
  return Object.assign(new Conflict(message), { code })
}

/**
 * A 422: well-formed, but it cannot be done as asked (a window already closed,
 * nothing to send to). `field` names the field at fault when there is one.
 */
export function unprocessable (code: string, message: string, field?: string): CodedError {
  const error = Object.assign(new Unprocessable(field === undefined ? message : `${field} ${message}`), { code })
  return field === undefined ? error : Object.assign(error, { details: [{ field, message }] })
}

/** A 413: a body, or what it holds (the rows of an import), beyond its limit. */
export function tooLarge (code: string, message: string): CodedError {
  return Object.assign(new TooLarge(message), { code })
}

/** A 429: the key has spent its points for now (the rate limit sets `Retry-After`). */
export function tooManyRequests (message: string): CodedError {
  return new TooManyRequests(message)
}

/** The same error, answered with more beside `error` (the schema of the route's status must name it). */
export function withAnswer<E extends CodedError> (error: E, answer: Record<string, unknown>): E {
  return Object.assign(error, { answer })
}
