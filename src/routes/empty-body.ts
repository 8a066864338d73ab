/**
 * preValidation hook of routes whose body may be left out altogether (a
 * legacy GET with `?user_name=`, a new key that needs no label): no body is
 * validated as an empty object.
 */
import type { FastifyRequest } from 'fastify'

export async function emptyBodyAsObject (request: FastifyRequest): Promise<void> {
  request.body ??= {}
}
