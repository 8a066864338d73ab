/**
 * The administrator's routes under /v1/admin: create users (each with a
 * first key, shown once), list and read them, issue and revoke their keys.
 * Only the ADMIN_API_KEY passes, whatever AUTH says; a user's key is a 403.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { conflict, notFound } from '../../errors.js'
import { ErrorBody } from '../../schemas/common.js'
import {
  IssuedKey, KeyInfo, NewKeyBody, NewUser, NewUserBody, UserDetail, UserKeyParams, UserList, UserListQuery,
  UserParams, userErrors
} from '../../schemas/users.js'
import { DEFAULT_PAGE } from '../../schemas/contacts.js'
import { emptyBodyAsObject } from '../empty-body.js'
import { issued, keyRefused } from './keys.js'
import { issuedKeyView, keyView, userView } from './views.js'

const tags = ['admin']

const admin: FastifyPluginAsyncTypebox = async function (fastify) {
  const { users } = fastify
  fastify.addHook('onRequest', fastify.authenticateAdmin)

  fastify.post('/users', {
    schema: {
      tags,
      summary: 'Create a user and its first API key; the key is in this answer only',
      body: NewUserBody,
      response: { 201: NewUser, 409: ErrorBody, ...userErrors }
    }
  }, async (request, reply) => {
    const created = await users.create(request.body.name, request.body.label)
    if (created === undefined) throw conflict('USER_EXISTS', `user ${request.body.name} exists`)
    return await reply.status(201).send({ user: userView(created.user), key: issuedKeyView(created.key) })
  })

  fastify.get('/users', {
    schema: { tags, summary: 'The users, in name order', querystring: UserListQuery, response: { 200: UserList, ...userErrors } }
  }, async (request) => {
    const { limit = DEFAULT_PAGE, cursor } = request.query
    const page = await users.page({ limit, ...(cursor !== undefined && { after: cursor }) })
    return { users: page.users.map(userView), ...(page.next !== undefined && { next_cursor: page.next }) }
  })

  fastify.get('/users/:name', {
    schema: { tags, summary: 'A user and its keys (never their secrets)', params: UserParams, response: { 200: UserDetail, ...userErrors } }
  }, async (request) => {
    const { name } = request.params
    const user = await users.get(name)
    if (user === undefined) throw keyRefused('no-user', name)
    return { ...userView(user), keys: user.keys.map(keyView) }
  })

  fastify.post('/users/:name/keys', {
    preValidation: emptyBodyAsObject,
    schema: {
      tags,
      summary: 'Issue a key for the user (a lost key is replaced this way); its secret is in this answer only',
      params: UserParams,
      body: NewKeyBody,
      response: { 201: IssuedKey, 409: ErrorBody, ...userErrors }
    }
  }, async (request, reply) => {
    const key = issued(await users.issue(request.params.name, request.body.label), request.params.name)
    return await reply.status(201).send(key)
  })

  fastify.delete('/users/:name/keys/:id', {
    schema: { tags, summary: 'Revoke a user\'s key, at once', params: UserKeyParams, response: { 200: KeyInfo, ...userErrors } }
  }, async (request) => {
    const revoked = await users.revoke(request.params.name, request.params.id)
    if (revoked === 'no-key') throw notFound(`user ${request.params.name} has no key ${request.params.id}`)
    return keyView(revoked)
  })
}

export default admin
