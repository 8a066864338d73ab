/**
 * The versioned REST API under /v1: contacts, dispatches, deliveries and the
 * user's own API keys, each route acting for one user (`request.userName`)
 * and seeing only that user's data; and /v1/admin, where the administrator
 * manages users.
 *
 * The user is the owner of the request's API key (plugins/app/auth.ts). With
 * AUTH=off (a loopback trial) the `X-User-Name` header names the user instead.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { invalidField } from '../../errors.js'
import { actAs, isUserName } from '../../plugins/app/auth.js'
import admin from './admin.js'
import contacts from './contacts.js'
import deliveries from './deliveries.js'
import dispatches from './dispatches.js'
import keys from './keys.js'

export const USER_HEADER = 'x-user-name'

/** The X-User-Name header: required with AUTH=off, and when given with a key it must name the key's owner. */
async function userFromHeader (request: FastifyRequest): Promise<void> {
  const given = request.headers[USER_HEADER]
  if (given === undefined || given === '') {
    if (request.userName === '') throw invalidField(USER_HEADER, 'header is required: the user the request acts for (AUTH is off)')
    return
  }
  if (!isUserName(given)) throw invalidField(USER_HEADER, 'header must be 1-64 letters, digits, `.`, `_`, `@` or `-`')
  actAs(request, given, USER_HEADER)
}

const v1: FastifyPluginAsync = async function (fastify) {
  await fastify.register(async function userRoutes (user) {
    user.addHook('onRequest', fastify.authenticateUser)
    user.addHook('onRequest', userFromHeader)
    await user.register(contacts, { prefix: '/contacts' })
    await user.register(dispatches, { prefix: '/dispatches' })
    await user.register(deliveries, { prefix: '/deliveries' })
    await user.register(keys, { prefix: '/keys' })
  })
  await fastify.register(admin, { prefix: '/admin' })
}

export default v1
