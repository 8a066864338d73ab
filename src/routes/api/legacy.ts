/**
 * The legacy-compatible API under /api: the origin system's curl examples
 * work against it verbatim. It is a thin adapter: contacts go to the contact
 * store, sends to the dispatcher, failures come from the delivery records.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Contact } from '../../contacts/contact-store.js'
import { invalidField } from '../../errors.js'
import { actAs } from '../../plugins/app/auth.js'
import { COSTS } from '../../plugins/app/rate-limit.js'
import { RequestErrors } from '../../schemas/common.js'
import { emptyBodyAsObject } from '../empty-body.js'
import { checkedMessengerId } from '../../contacts/contact-checks.js'
import type { Messenger } from '../../model/messenger.js'
import { epochToLegacyTime, legacyTimeToEpoch } from './legacy-time.js'
import {
  ContactsAnswer, CreateContactBody, DeleteContactBody, FailedAnswer, FailedBody, FailedQuery,
  LegacyError, SendAnswer, SendBody, Success, UserBody, UserQuery
} from '../../schemas/legacy.js'

const DEFAULT_FAILED_LIMIT = 1000

// 401, 403 and 429 are documented on every route that needs credentials (plugins/app/openapi.ts).
const errors = { ...RequestErrors, 422: LegacyError }
const tags = ['legacy']

/**
 * The user of a request: the owner of its API key, which the `user_name` the
 * body (as the curl examples send it) or the query names must be (else 403);
 * with AUTH=off, the user that `user_name` names.
 */
function userOf (request: FastifyRequest, named: { user_name?: string } | null | undefined, query?: { user_name?: string }): string {
  const user = actAs(request, named?.user_name ?? query?.user_name, 'user_name')
  if (user === '') throw invalidField('user_name', 'is required, in the JSON body or as ?user_name=')
  return user
}

/** Checks the legacy `messangers` object and returns the ids as given (trimmed), "" meaning none. */
function contactFrom (body: CreateContactBody['contact']): Contact {
  const { telegram, whatsApp, whatsapp, viber } = body.messangers
  if (whatsApp !== undefined && whatsapp !== undefined && whatsApp.trim() !== whatsapp.trim()) {
    throw invalidField('contact.messangers.whatsApp', 'and contact.messangers.whatsapp differ; give one')
  }
  const given: Array<[Messenger, string, string | undefined]> = [
    ['telegram', 'telegram', telegram],
    ['whatsapp', whatsApp !== undefined ? 'whatsApp' : 'whatsapp', whatsApp ?? whatsapp],
    ['viber', 'viber', viber]
  ]
  const contact: Contact = { name: body.name }
  for (const [messenger, key, raw] of given) {
    // "" means no id on that messenger, as in the origin system.
    if (raw === undefined || raw.trim() === '') continue
    contact[messenger] = checkedMessengerId(messenger, raw, `contact.messangers.${key}`)
  }
  return contact
}

const legacy: FastifyPluginAsyncTypebox = async function (fastify) {
  const { contacts, dispatcher, deliveries, config } = fastify
  fastify.addHook('onRequest', fastify.authenticateUser)

  fastify.post('/contacts', {
    schema: {
      tags,
      summary: 'Add a contact, or replace the ids of an existing one',
      body: CreateContactBody,
      response: { 200: Success, ...errors }
    }
  }, async (request) => {
    await contacts.upsert(userOf(request, request.body), contactFrom(request.body.contact))
    return { success: true }
  })

  fastify.delete('/contacts', {
    schema: {
      tags,
      summary: 'Delete a contact; success is false when there was no such contact',
      body: DeleteContactBody,
      response: { 200: Success, ...errors }
    }
  }, async (request) => {
    const user = userOf(request, request.body)
    const removed = await contacts.remove(user, request.body.contact)
    // Its open invites and connections go with it, as with DELETE /v1/contacts/{name}.
    if (removed) await fastify.invites.store.forgetContact(user, request.body.contact)
    return { success: removed }
  })

  fastify.put('/contacts', {
    config: { rateLimit: { cost: COSTS.send } },
    schema: {
      tags,
      summary: 'Send a message to contacts, on every messenger each of them has, now or not before `time`',
      body: SendBody,
      response: { 200: SendAnswer, ...errors }
    }
  }, async (request) => {
    const user = userOf(request, request.body)
    const { message } = request.body
    const recipients = request.body.contacts ?? request.body.contact
    if (recipients === undefined) throw invalidField('contacts', 'is required: the names of the contacts to send to')
    const sendAt = request.body.time === undefined ? Date.now() : legacyTimeToEpoch(request.body.time, config.timeZone)
    const result = await dispatcher.dispatch({
      user,
      contacts: typeof recipients === 'string' ? [recipients] : recipients,
      text: message,
      sendAt,
      fields: { text: 'message', sendAt: 'time' }
    })
    return {
      success: result.deliveries > 0,
      ...(result.dispatchId !== undefined && { dispatch_id: result.dispatchId }),
      deliveries: result.deliveries,
      unknown: result.unknown,
      without_ids: result.withoutAddresses,
      send_at: new Date(sendAt).toISOString(),
      scheduled: result.scheduled
    }
  })

  fastify.get('/contacts', {
    // A HEAD twin would inherit the body schema, which HEAD cannot carry.
    exposeHeadRoute: false,
    preValidation: emptyBodyAsObject,
    schema: {
      tags,
      summary: 'List the user\'s contacts (user_name in a JSON body, as in the curl examples, or in the query)',
      body: UserBody,
      querystring: UserQuery,
      response: { 200: ContactsAnswer, ...errors }
    }
  }, async (request) => {
    const book = await contacts.list(userOf(request, request.body, request.query))
    return {
      contacts: Object.fromEntries(book.map((c) => [c.name, {
        telegram: c.telegram ?? '',
        whatsApp: c.whatsapp ?? '',
        viber: c.viber ?? ''
      }]))
    }
  })

  fastify.get('/get_failed_mess', {
    exposeHeadRoute: false,
    preValidation: emptyBodyAsObject,
    schema: {
      tags,
      summary: 'The user\'s failed deliveries, newest dispatch first',
      body: FailedBody,
      querystring: FailedQuery,
      response: { 200: FailedAnswer, ...errors }
    }
  }, async (request) => {
    const limit = request.body?.limit ?? request.query.limit ?? DEFAULT_FAILED_LIMIT
    const user = userOf(request, request.body, request.query)
    const [{ items: failed }, { counts }] = await Promise.all([
      deliveries.listDeliveries(user, { state: 'failed', limit }),
      deliveries.userTotals(user)
    ])
    return {
      total: counts.failed,
      data: failed.map((d) => ({
        sender: d.user,
        message: d.text,
        contact: d.contact,
        url: d.url ?? '',
        time: epochToLegacyTime(d.sendAt, config.timeZone),
        messenger: d.messenger,
        address: d.address,
        attempts: d.attempts,
        error: d.lastError ?? '',
        failed_at: new Date(d.finishedAt ?? d.updatedAt).toISOString(),
        delivery_id: d.id,
        dispatch_id: d.dispatchId
      }))
    }
  })
}

export default legacy
