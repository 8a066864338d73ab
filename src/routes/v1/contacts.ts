/**
 * The user's contact book under /v1/contacts: create, read, replace, patch,
 * remove, and a paged listing filtered by tags. The user is
 * `request.userName` (see ./index.ts); a name is only ever looked up in that
 * user's book, so another user's contact answers 404 like a missing one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Value } from 'typebox/value'
import { checkedContact, checkedMessengerId, checkedTimeZone } from '../../contacts/contact-checks.js'
import { operatorOf, withOperator } from '../../contacts/operator.js'
import { compactContact, compactTags, type ContactPatch } from '../../contacts/contact-store.js'
import { conflict, invalidField, notFound } from '../../errors.js'
import { contactView } from '../../invites/invite-views.js'
import { MESSENGERS } from '../../model/messenger.js'
import { ContactName, ErrorBody, RequestErrors } from '../../schemas/common.js'
import {
  Contact as ContactAnswer, ContactHealthParams, ContactList, ContactListQuery, ContactParams, ContactWithHealth, DEFAULT_PAGE, MAX_TAGS,
  NewContactBody, PatchContactBody, Removed, ReplaceContactBody, Tag
} from '../../schemas/contacts.js'
import { clearEdited, contactAddress, contactHealth } from '../../contacts/contact-health.js'

const tags = ['contacts']

/** The change a PATCH body asks for, every field checked; null stays null (remove). */
function patchFrom (body: PatchContactBody): ContactPatch {
  const changes: ContactPatch = {}
  for (const messenger of MESSENGERS) {
    const raw = body[messenger]
    if (raw !== undefined) changes[messenger] = raw === null ? null : checkedMessengerId(messenger, raw)
  }
  if (body.tags !== undefined) changes.tags = body.tags === null ? null : compactTags(body.tags) ?? null
  if (body.timezone !== undefined) changes.timezone = body.timezone === null ? null : checkedTimeZone(body.timezone)
  if (body.operator !== undefined) changes.operator = body.operator
  return changes
}

/** A new WhatsApp number without an operator: the operator derived from it, or none (the old one was the old number's). */
async function withPatchedOperator (changes: ContactPatch): Promise<ContactPatch> {
  if (changes.operator !== undefined || changes.whatsapp === undefined) return changes
  const operator = changes.whatsapp === null ? undefined : await operatorOf(changes.whatsapp)
  return { ...changes, operator: operator ?? null }
}

/** A body may repeat the name of the path, never another one: renaming is not a replace. */
function checkSameName (pathName: string, bodyName: string | undefined): void {
  if (bodyName !== undefined && bodyName !== pathName) {
    throw invalidField('name', `must be the name in the path ("${pathName}") or left out: a contact cannot be renamed`)
  }
}

function missing (name: string): Error {
  return notFound(`no contact named "${name}"`)
}

/** The cursor is the last name of the page, base64url-encoded: opaque to clients, and any name survives a URL. */
function cursorOf (name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url')
}

function nameOfCursor (cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8')
  // Decoding is lenient (it skips stray characters, replaces broken UTF-8): only a cursor we could have made is one.
  if (cursorOf(name) !== cursor || !Value.Check(ContactName, name)) {
    throw invalidField('query.cursor', 'is not a cursor this API gave (pass `next_cursor` of the previous page as it is)')
  }
  return name
}

/** Tags from repeated parameters and/or comma-separated lists, each checked; blanks between commas are skipped. */
function tagsOf (field: string, given: readonly string[] | undefined): string[] | undefined {
  if (given === undefined) return undefined
  const split = given.flatMap((part) => part.split(',')).map((tag) => tag.trim()).filter((tag) => tag !== '')
  for (const tag of split) {
    if (!Value.Check(Tag, tag)) throw invalidField(`query.${field}`, `"${tag}" is not a tag: 1-64 letters, digits, \`_\`, \`.\`, \`:\` or \`-\``)
  }
  const unique = compactTags(split)
  if (unique !== undefined && unique.length > MAX_TAGS) throw invalidField(`query.${field}`, `has ${unique.length} tags; at most ${MAX_TAGS}`)
  return unique
}

const contacts: FastifyPluginAsyncTypebox = async function (fastify) {
  const store = fastify.contacts
  const facts = fastify.addressFacts
  const base = fastify.prefix

  fastify.post('/', {
    schema: {
      tags,
      summary: 'Add a contact; 409 CONTACT_EXISTS when the name is taken',
      body: NewContactBody,
      response: { 201: ContactAnswer, 409: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const { name, ...fields } = request.body
    const contact = await withOperator(checkedContact(name, fields))
    if (!await store.create(request.userName, contact)) {
      throw conflict('CONTACT_EXISTS', `a contact named "${name}" exists; PUT or PATCH ${base}/{name} changes it`)
    }
    reply.code(201).header('location', `${base}/${encodeURIComponent(name)}`)
    return compactContact(contact)
  })

  fastify.get('/', {
    schema: {
      tags,
      summary: 'One page of the contact book, in name order, optionally only contacts with given tags',
      description: 'Follow `next_cursor` (as `cursor`) until it is absent: a contact that exists for the whole walk is listed ' +
        'exactly once. `tags_any`: contacts with at least one of the tags; `tags_all`: with every one; both: both.',
      querystring: ContactListQuery,
      response: { 200: ContactList, ...RequestErrors }
    }
  }, async (request) => {
    const { limit = DEFAULT_PAGE, cursor } = request.query
    const any = tagsOf('tags_any', request.query.tags_any)
    const all = tagsOf('tags_all', request.query.tags_all)
    const page = await store.page(request.userName, {
      limit,
      ...(cursor !== undefined && { after: nameOfCursor(cursor) }),
      tags: { ...(any && { any }), ...(all && { all }) }
    })
    return { contacts: page.contacts, ...(page.next !== undefined && { next_cursor: cursorOf(page.next) }) }
  })

  fastify.get('/:name', {
    schema: {
      tags,
      summary: 'One contact, with the health of each of its addresses (whether a failure said it is dead) and the addresses it got by invite (`connections`)',
      params: ContactParams,
      response: { 200: ContactWithHealth, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const { name } = request.params
    const [contact, connections] = await Promise.all([store.get(request.userName, name), fastify.invites.store.connections(request.userName, name)])
    if (contact === undefined) throw missing(name)
    return { ...contactView(contact, connections), health: await contactHealth(facts, contact) }
  })

  fastify.post('/:name/health/:messenger/reset', {
    schema: {
      tags,
      summary: 'Clear the dead mark of the contact\'s address on a messenger: it is sent to again, also by dispatches with skip_unreachable',
      description: 'Answers the contact as GET /v1/contacts/{name} does, with its health. 404 when there is no such contact, ' +
        'or it has no address on that messenger. A failure dated before the reset (a late receipt) does not mark it again.',
      params: ContactHealthParams,
      response: { 200: ContactWithHealth, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const { name, messenger } = request.params
    const contact = await store.get(request.userName, name)
    if (contact === undefined) throw missing(name)
    const address = contactAddress(contact, messenger)
    if (address === undefined) throw notFound(`contact "${name}" has no ${messenger} address`)
    await facts.clearHealth(messenger, address)
    request.log.info({ contact: name, messenger }, 'address health reset')
    const connections = await fastify.invites.store.connections(request.userName, name)
    return { ...contactView(contact, connections), health: await contactHealth(facts, contact) }
  })

  fastify.put('/:name', {
    schema: {
      tags,
      summary: 'Replace a contact: a field left out is removed; 404 when there is no such contact',
      params: ContactParams,
      body: ReplaceContactBody,
      response: { 200: ContactAnswer, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const { name } = request.params
    const { name: bodyName, ...fields } = request.body
    checkSameName(name, bodyName)
    const contact = await withOperator(checkedContact(name, fields))
    const before = await store.get(request.userName, name)
    if (!await store.replace(request.userName, contact)) throw missing(name)
    await clearEdited(facts, before, contact)
    return compactContact(contact)
  })

  fastify.patch('/:name', {
    schema: {
      tags,
      summary: 'Change some fields of a contact: null removes a field, tags replace the old ones; 404 when there is no such contact',
      params: ContactParams,
      body: PatchContactBody,
      response: { 200: ContactAnswer, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const { name } = request.params
    checkSameName(name, request.body.name)
    const changes = await withPatchedOperator(patchFrom(request.body))
    const before = MESSENGERS.some((m) => typeof changes[m] === 'string') ? await store.get(request.userName, name) : undefined
    const contact = await store.patch(request.userName, name, changes)
    if (contact === undefined) throw missing(name)
    if (before !== undefined) await clearEdited(facts, before, contact)
    return contact
  })

  fastify.delete('/:name', {
    schema: {
      tags,
      summary: 'Remove a contact, its open invites and its connections; 404 when there is no such contact',
      params: ContactParams,
      response: { 204: Removed, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    if (!await store.remove(request.userName, request.params.name)) throw missing(request.params.name)
    await fastify.invites.store.forgetContact(request.userName, request.params.name)
    return reply.code(204).send(null)
  })
}

export default contacts
