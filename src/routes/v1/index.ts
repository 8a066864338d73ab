/**
 * The versioned REST API under /v1: contacts, dispatches, deliveries. Every
 * route acts for one user (`request.userName`) and sees only that user's data.
 *
 * Until API keys exist, the user is named by the `X-User-Name` header.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { Value } from 'typebox/value'
import { invalidField } from '../../errors.js'
import { UserName } from '../../schemas/common.js'
import contacts from './contacts.js'
import deliveries from './deliveries.js'
import dispatches from './dispatches.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The user this request acts for. */
    userName: string
  }
}

export const USER_HEADER = 'x-user-name'

async function identifyUser (request: FastifyRequest): Promise<void> {
  const given = request.headers[USER_HEADER]
  if (given === undefined || given === '') throw invalidField(USER_HEADER, 'header is required: the user the request acts for')
  if (typeof given !== 'string' || !Value.Check(UserName, given)) {
    throw invalidField(USER_HEADER, 'header must be 1-64 letters, digits, `.`, `_`, `@` or `-`')
  }
  request.userName = given
}

const v1: FastifyPluginAsync = async function (fastify) {
  fastify.decorateRequest('userName', '')
  fastify.addHook('onRequest', identifyUser)
  await fastify.register(contacts, { prefix: '/contacts' })
  await fastify.register(dispatches, { prefix: '/dispatches' })
  await fastify.register(deliveries, { prefix: '/deliveries' })
}

export default v1
