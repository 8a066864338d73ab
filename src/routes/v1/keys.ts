/**
 * A user's own API keys under /v1/keys: list them (never their secrets),
 * issue another, rotate one (a new key with the same label; the old one stops
 * working at once) and revoke one. Key ids of other users answer 404.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { conflict, notFound } from '../../errors.js'
import { emptyBodyAsObject } from '../empty-body.js'
import { ErrorBody } from '../../schemas/common.js'
import { IssuedKey, KeyInfo, KeyList, KeyParams, NewKeyBody, userErrors } from '../../schemas/users.js'
import { MAX_ACTIVE_KEYS, type IssuedKey as Issued, type KeyRefusal } from '../../users/user-store.js'
import { issuedKeyView, keyView } from './views.js'

const tags = ['keys']

/** A refused key write as the error the client sees. */
export function keyRefused (refusal: KeyRefusal, user: string, keyId?: string): Error {
  switch (refusal) {
    case 'no-user': return notFound(`no user ${user}: the administrator creates users (POST /v1/admin/users)`)
    case 'no-key': return notFound(`no key ${keyId ?? ''}`)
    case 'revoked': return conflict('KEY_REVOKED', `key ${keyId ?? ''} is revoked; issue a new key instead`)
    case 'too-many-keys': return conflict('TOO_MANY_KEYS', `a user holds at most ${MAX_ACTIVE_KEYS} keys that are not revoked; revoke one first`)
  }
}

export function issued (result: Issued | KeyRefusal, user: string, keyId?: string): ReturnType<typeof issuedKeyView> {
  if (typeof result === 'string') throw keyRefused(result, user, keyId)
  return issuedKeyView(result)
}

const keys: FastifyPluginAsyncTypebox = async function (fastify) {
  const { users } = fastify

  fastify.get('/', {
    schema: { tags, summary: 'The user\'s API keys (never their secrets), revoked ones too', response: { 200: KeyList, ...userErrors } }
  }, async (request) => {
    return { keys: (await users.keys(request.userName)).map(keyView) }
  })

  fastify.post('/', {
    preValidation: emptyBodyAsObject,
    schema: {
      tags,
      summary: 'Issue another API key; its secret is in this answer only',
      body: NewKeyBody,
      response: { 201: IssuedKey, 409: ErrorBody, ...userErrors }
    }
  }, async (request, reply) => {
    const key = issued(await users.issue(request.userName, request.body.label), request.userName)
    return await reply.status(201).send(key)
  })

  fastify.post('/:id/rotate', {
    schema: {
      tags,
      summary: 'Replace a key: a new key with the same label, and the old one revoked at once',
      params: KeyParams,
      response: { 201: IssuedKey, 409: ErrorBody, ...userErrors }
    }
  }, async (request, reply) => {
    const key = issued(await users.rotate(request.userName, request.params.id), request.userName, request.params.id)
    return await reply.status(201).send(key)
  })

  fastify.delete('/:id', {
    schema: {
      tags,
      summary: 'Revoke a key: requests with it are refused from now on (revoking the key of this request is allowed)',
      params: KeyParams,
      response: { 200: KeyInfo, ...userErrors }
    }
  }, async (request) => {
    const revoked = await users.revoke(request.userName, request.params.id)
    if (revoked === 'no-key') throw keyRefused('no-key', request.userName, request.params.id)
    return keyView(revoked)
  })
}

export default keys
