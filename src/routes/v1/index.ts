/**
 * The versioned REST API under /v1: contacts, dispatches, deliveries, the
 * user's own API keys, settings and status webhook endpoints, each route acting for one user (`request.userName`)
 * and seeing only that user's data; and /v1/admin, where the administrator
 * manages users.
 *
 * The user is the owner of the request's API key (plugins/app/auth.ts). With
 * AUTH=off (a loopback trial) the `X-User-Name` header names the user instead.
 */
import type { FastifyPluginAsync } from 'fastify'
import { userFromHeader } from '../../plugins/app/auth.js'
import admin from './admin.js'
import contactFiles from './contact-files.js'
import contacts from './contacts.js'
import deliveries from './deliveries.js'
import dispatches from './dispatches.js'
import invites from './invites.js'
import keys from './keys.js'
import settings from './settings.js'
import statusWebhooks from './webhooks.js'

const v1: FastifyPluginAsync = async function (fastify) {
  await fastify.register(async function userRoutes (user) {
    user.addHook('onRequest', fastify.authenticateUser)
    user.addHook('onRequest', userFromHeader)
    await user.register(contacts, { prefix: '/contacts' })
    await user.register(contactFiles, { prefix: '/contacts' })
    await user.register(invites, { prefix: '/contacts' })
    await user.register(dispatches, { prefix: '/dispatches' })
    await user.register(deliveries, { prefix: '/deliveries' })
    await user.register(keys, { prefix: '/keys' })
    await user.register(settings, { prefix: '/settings' })
    await user.register(statusWebhooks, { prefix: '/webhooks' })
  })
  await fastify.register(admin, { prefix: '/admin' })
}

export default v1
