/**
 * One error shape for every route:
 *   { error: { code, message, details?: [{ field, message }] } }
 * plus `success: false` on the legacy routes, whose clients look for it.
 * Client errors keep their message; server errors are logged with their
 * context and answered with a generic message (no internals, no stack).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { ErrorObject } from 'ajv'
import { AUTH_CHALLENGE, type FieldProblem } from '../../errors.js'
import { fieldProblems } from '../../schemas/validators.js'
import { redisTrouble } from '../../redis-connection.js'

/** What a 503 for Redis's trouble asks the client to wait. */
const STORE_RETRY_AFTER_SECONDS = 1

interface ErrorBody {
  success?: false
  error: { code: string, message: string, details?: FieldProblem[] }
}

/** Fastify's own client errors, under codes of ours that will not change with Fastify's. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'INVALID_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG'
}

function validationDetails (error: FastifyError): FieldProblem[] {
  const where = error.validationContext === 'querystring' ? 'query' : error.validationContext ?? 'body'
  return fieldProblems((error.validation ?? []) as ErrorObject[], where)
}

export function errorBody (request: FastifyRequest, code: string, message: string, details?: FieldProblem[]): ErrorBody {
  const body: ErrorBody = { error: { code, message, ...(details && { details }) } }
  return request.url.startsWith('/api/') ? { success: false, ...body } : body
}

/**
 * Errors Fastify meets before a route is chosen (a path that is not valid
 * percent-encoding, a path parameter past maxParamLength): the server option
 * `frameworkErrors` (serverOptions in server-options.ts) answers them in the same shape.
 */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'the path is not valid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is too long'
}

export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  // Any other error Fastify may pass here keeps its own message rather than borrowing one of these.
  const message = FRAMEWORK_MESSAGES[error.code] ?? error.message
  void reply.status(status).send(errorBody(request, FASTIFY_CODES[error.code] ?? 'BAD_REQUEST', message, [{ field: 'path', message }]))
}

export default fp(async function errorHandler (fastify) {
  fastify.setErrorHandler(function (error: FastifyError & { details?: FieldProblem[], answer?: Record<string, unknown> }, request, reply: FastifyReply) {
    if (error.validation) {
      const details = validationDetails(error)
      const message = details.map((d) => `${d.field} ${d.message}`).join('; ')
      return reply.status(400).send(errorBody(request, 'INVALID_FIELD', message, details))
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // The challenge says how to authenticate to the API; a webhook's bad signature is not asked to try Basic.
      if (error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', AUTH_CHALLENGE)
      const code = FASTIFY_CODES[error.code] ?? (error.code?.startsWith('FST_') ? 'BAD_REQUEST' : error.code ?? 'BAD_REQUEST')
      return reply.status(status).send({ ...error.answer, ...errorBody(request, code, error.message, error.details) })
    }
    if (status === 503 && error.code === 'NOT_REPLICATED') {
      reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
      return reply.status(503).send(errorBody(request, error.code, error.message))
    }
    const trouble = redisTrouble(error)
    if (trouble !== undefined) {
      // Nothing is half-written: every change is one script, which Redis runs whole or not at all.
      request.log.warn({ err: { message: error.message }, trouble }, 'request refused: Redis is not able to serve')
      reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS))
      return trouble === 'full'
        ? reply.status(503).send(errorBody(request, 'STORE_FULL', 'the store is full (Redis reached its maxmemory) and refuses new writes; nothing of this request was written; retry once the operator has made room'))
        : reply.status(503).send(errorBody(request, 'STORE_UNAVAILABLE', 'the store (Redis) is not answering; retry shortly'))
    }
    request.log.error({ err: error }, 'request failed')
    return reply.status(500).send(errorBody(request, 'INTERNAL', 'internal error; the request id is in the x-request-id header'))
  })

  fastify.setNotFoundHandler(function (request, reply) {
    return reply.status(404).send(errorBody(request, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`))
  })
}, { name: 'error-handler' })
