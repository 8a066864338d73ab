/**
 * /v1/webhooks: the user's status webhook endpoints (their own URLs, told of
 * every change of their deliveries), each endpoint's attempts, a retry of
 * one, a test event. Not the messengers' receipts, which come in under
 * /webhooks (routes/webhooks/). Another user's endpoint ids answer 404.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isIP } from 'node:net'
import { Type } from 'typebox'
import { conflict, notFound, unprocessable } from '../../errors.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import {
  AttemptList, AttemptListQuery, AttemptParams, CreatedEndpoint, Endpoint, EndpointList, EndpointParams, EndpointPatchBody,
  NewEndpointBody, QueuedMessage, RotatedSecret
} from '../../schemas/status-webhooks.js'
import { TEST_EVENT } from '../../model/status-event.js'
import { messageBody } from '../../webhooks/event-relay.js'
import { forbiddenRange } from '../../webhooks/safe-agent.js'
import { jobOptions } from '../../webhooks/status-webhook-queue.js'
import { newAttemptId } from '../../webhooks/endpoint-store.js'
import { attemptView, endpointView } from './webhook-views.js'

const tags = ['status webhooks']

/** Endpoints a user may have: each event goes to every one of them. */
export const MAX_ENDPOINTS = 20

const errors = { 404: ErrorBody, ...RequestErrors }

const webhooks: FastifyPluginAsyncTypebox = async function (fastify) {
  const { endpoints, queue } = fastify.statusWebhooks
  const settings = fastify.config.statusWebhooks
  const retentionSeconds = fastify.config.delivery.retentionSeconds

  /** The URL, unless it names a forbidden address literally (a name is checked when it is resolved, at each send). */
  function checkedUrl (url: string): string {
    if (!URL.canParse(url)) throw unprocessable('INVALID_URL', 'is not a URL', 'url')
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')
    const range = isIP(host) === 0 ? undefined : forbiddenRange(host)
    if (range !== undefined && !settings.allowPrivate) {
      throw unprocessable('WEBHOOK_FORBIDDEN_ADDRESS', `names ${host}, a ${range} address: status webhooks go only to public addresses`, 'url')
    }
    return url
  }

  const own = async (user: string, id: string) => {
    const endpoint = await endpoints.get(user, id)
    if (endpoint === undefined) throw notFound(`no endpoint ${id}`)
    return endpoint
  }

  async function queueManual (user: string, endpoint: string, message: string, type: string, jobId: string) {
    await queue.add(type, { user, endpoint, message, type: type as typeof TEST_EVENT, manual: true }, jobOptions(jobId, settings.scheduleMs, true))
  }

  fastify.get('/', {
    schema: { tags, summary: 'The user\'s status webhook endpoints (never their secrets)', response: { 200: EndpointList, ...RequestErrors } }
  }, async (request) => ({ endpoints: (await endpoints.list(request.userName)).map(endpointView) }))

  fastify.post('/', {
    schema: {
      tags,
      summary: 'Add an endpoint: the events chosen are POSTed to its URL, signed; its secret is in this answer only',
      body: NewEndpointBody,
      response: { 201: CreatedEndpoint, 409: ErrorBody, 422: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const { url, events, enabled } = request.body
    checkedUrl(url)
    if ((await endpoints.list(request.userName)).length >= MAX_ENDPOINTS) {
      throw conflict('TOO_MANY_ENDPOINTS', `a user has at most ${MAX_ENDPOINTS} status webhook endpoints; remove one first`)
    }
    const { endpoint, secret } = await endpoints.create(request.userName, { url, events, enabled: enabled ?? true })
    request.log.info({ user: request.userName, endpoint: endpoint.id }, 'status webhook endpoint added')
    return await reply.status(201).send({ ...endpointView(endpoint), secret })
  })

  fastify.get('/:id', {
    schema: { tags, summary: 'One endpoint', params: EndpointParams, response: { 200: Endpoint, ...errors } }
  }, async (request) => endpointView(await own(request.userName, request.params.id)))

  fastify.patch('/:id', {
    schema: {
      tags,
      summary: 'Change an endpoint\'s URL, events or enabled; `enabled: true` re-enables one disabled for failing',
      params: EndpointParams,
      body: EndpointPatchBody,
      response: { 200: Endpoint, 422: ErrorBody, ...errors }
    }
  }, async (request) => {
    if (request.body.url !== undefined) checkedUrl(request.body.url)
    const updated = await endpoints.update(request.userName, request.params.id, request.body)
    if (updated === undefined) throw notFound(`no endpoint ${request.params.id}`)
    return endpointView(updated)
  })

  fastify.delete('/:id', {
    schema: { tags, summary: 'Remove an endpoint and its attempts', params: EndpointParams, response: { 204: Type.Null({ description: 'Removed' }), ...errors } }
  }, async (request, reply) => {
    if (!await endpoints.remove(request.userName, request.params.id)) throw notFound(`no endpoint ${request.params.id}`)
    return await reply.status(204).send(null)
  })

  fastify.post('/:id/rotate', {
    schema: {
      tags,
      summary: 'A new signing secret, shown this once; the old one signs beside it for WEBHOOK_ROTATION_OVERLAP_MS',
      params: EndpointParams,
      response: { 201: RotatedSecret, ...errors }
    }
  }, async (request, reply) => {
    const now = Date.now()
    const secret = await endpoints.rotate(request.userName, request.params.id, settings.rotationOverlapMs, now)
    if (secret === undefined) throw notFound(`no endpoint ${request.params.id}`)
    request.log.info({ user: request.userName, endpoint: request.params.id }, 'status webhook secret rotated')
    return await reply.status(201).send({ id: request.params.id, secret, previous_secret_until: new Date(now + settings.rotationOverlapMs).toISOString() })
  })

  fastify.get('/:id/attempts', {
    schema: {
      tags,
      summary: 'The endpoint\'s attempts, newest first, kept for DELIVERY_RETENTION_SECONDS',
      params: EndpointParams,
      querystring: AttemptListQuery,
      response: { 200: AttemptList, ...errors }
    }
  }, async (request) => {
    await own(request.userName, request.params.id)
    return { attempts: (await endpoints.attempts(request.userName, request.params.id, request.query.limit ?? 100)).map(attemptView) }
  })

  fastify.post('/:id/attempts/:attemptId/retry', {
    schema: {
      tags,
      summary: 'Send an attempt\'s message again, once (the same webhook-id and body, a new timestamp and signature)',
      params: AttemptParams,
      response: { 202: QueuedMessage, 409: ErrorBody, ...errors }
    }
  }, async (request, reply) => {
    const { id, attemptId } = request.params
    await own(request.userName, id)
    const attempt = await endpoints.attempt(request.userName, id, attemptId)
    if (attempt === undefined) throw notFound(`no attempt ${attemptId}`)
    if (await endpoints.message(request.userName, attempt.messageId) === undefined) {
      throw conflict('MESSAGE_NOT_KEPT', `message ${attempt.messageId} is past the history retention`)
    }
    await queueManual(request.userName, id, attempt.messageId, attempt.type, `${attempt.messageId}.${id}.retry-${newAttemptId()}`)
    return await reply.status(202).send({ message_id: attempt.messageId })
  })

  fastify.post('/:id/test', {
    schema: {
      tags,
      summary: `Send a test event (\`${TEST_EVENT}\`) to the endpoint now, whatever events it takes`,
      params: EndpointParams,
      response: { 202: QueuedMessage, ...errors }
    }
  }, async (request, reply) => {
    const endpoint = await own(request.userName, request.params.id)
    const message = `msg_test_${randomBytes(9).toString('base64url')}`
    const now = Date.now()
    await endpoints.saveMessage(request.userName, message, messageBody(TEST_EVENT, now, { endpoint_id: endpoint.id, user: request.userName }), retentionSeconds)
    await queueManual(request.userName, endpoint.id, message, TEST_EVENT, `${message}.${endpoint.id}`)
    return await reply.status(202).send({ message_id: message })
  })
}

export default webhooks
