/**
 * /v1/dispatches: send a text to contacts, tags, the whole book or direct
 * addresses (now, or within a window), follow its progress, cancel it,
 * redrive its failures.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { checkedTimeZone } from '../../contacts/contact-checks.js'
import type { DispatchTargets } from '../../deliveries/dispatcher.js'
import { invalidField, notAcceptable, unprocessable } from '../../errors.js'
import { minuteOfDay } from '../../model/local-window.js'
import { COSTS } from '../../plugins/app/rate-limit.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import {
  CancelReport, Dispatch, DispatchAccepted, DispatchDeleted, DispatchEdited, DispatchEventsHeaders, DispatchEventsQuery, DispatchEventStream,
  DispatchList, DispatchListQuery, DispatchParams, EditDispatchBody, IdempotencyHeaders, NewDispatchBody, RedriveReport, StreamFinished,
  TARGET_FIELDS
} from '../../schemas/dispatches.js'
import { streamDispatch } from './dispatch-stream.js'
import { ownedBy } from './owned.js'
import { dispatchView } from '../../deliveries/delivery-views.js'
import { cancelReport, redriveReport } from './views.js'

const tags = ['dispatches']

type WindowBody = NonNullable<NewDispatchBody['local_window']>

/** A request's local window as the dispatcher takes it, its zone checked. */
function localWindowOf (body: WindowBody): NonNullable<DispatchTargets['localWindow']> {
  const window = { from: minuteOfDay(body.from), to: minuteOfDay(body.to) }
  if (window.from === window.to) throw invalidField('local_window.to', 'must differ from local_window.from: the window would be empty')
  if (body.default_timezone === undefined) return window
  return { ...window, defaultZone: checkedTimeZone(body.default_timezone, 'local_window.default_timezone') }
}

/** The targets of a new send or an edit, as the dispatcher takes them; throws the 400 when there is none. */
function targetsOf (body: Pick<NewDispatchBody, typeof TARGET_FIELDS[number]>): DispatchTargets {
  const { contacts, tags: tagFilter, all_contacts: allContacts, addresses, messengers, operator_codes: operatorCodes } = body
  if (contacts === undefined && tagFilter === undefined && allContacts !== true && addresses === undefined && operatorCodes === undefined) {
    throw invalidField('contacts', 'or tags, all_contacts, operator_codes or addresses: give at least one target')
  }
  return { contacts, tags: tagFilter, allContacts, addresses, messengers, operatorCodes }
}

/** Why nothing was planned, for the 422. */
function nothingToSend (result: { unknown: string[], withoutAddresses: string[] }): Error {
  const why = [
    result.unknown.length > 0 && `unknown contacts: ${result.unknown.join(', ')}`,
    result.withoutAddresses.length > 0 && `contacts without an id on the messengers asked for: ${result.withoutAddresses.join(', ')}`
  ].filter(Boolean).join('; ')
  return unprocessable('NO_DELIVERIES', `nothing to send${why === '' ? ': no contact matched' : `: ${why}`}`)
}

const dispatches: FastifyPluginAsyncTypebox = async function (fastify) {
  const { dispatcher, deliveries } = fastify
  const ownDispatch = async (user: string, id: string) => ownedBy(user, await deliveries.getDispatch(id), `dispatch ${id}`)

  async function accept (user: string, body: NewDispatchBody) {
    const { text, whatsapp_template: whatsappTemplate } = body
    const targets = targetsOf(body)
    const localWindow = body.local_window === undefined ? undefined : localWindowOf(body.local_window)
    const now = Date.now()
    const sendAt = body.send_at === undefined ? now : Date.parse(body.send_at)
    const expiresAt = body.expires_at === undefined ? undefined : Date.parse(body.expires_at)
    const result = await dispatcher.dispatch({
      user,
      text,
      sendAt,
      ...targets,
      localWindow,
      ...(expiresAt !== undefined && { expiresAt }),
      ...(whatsappTemplate !== undefined && { whatsappTemplate }),
      ...(body.skip_unreachable !== undefined && { skipUnreachable: body.skip_unreachable })
    })
    if (result.dispatchId === undefined) throw nothingToSend(result)
    return {
      status: 202,
      body: {
        id: result.dispatchId,
        deliveries: result.deliveries,
        suppressed: result.suppressed,
        unknown: result.unknown,
        without_addresses: result.withoutAddresses,
        state: result.scheduled ? 'scheduled' as const : 'queued' as const,
        send_at: new Date(sendAt).toISOString(),
        ...(expiresAt !== undefined && { expires_at: new Date(expiresAt).toISOString() })
      }
    }
  }

  fastify.post('/', {
    config: { rateLimit: { cost: COSTS.send } },
    schema: {
      tags,
      summary: 'Send a text: fanned out to one delivery per messenger id of every target',
      description: 'Answers 202 once every delivery is recorded; `Location` points at the dispatch. ' +
        'With an `Idempotency-Key`, a retry of the same request answers the first answer (header `Idempotent-Replayed: true`).',
      headers: IdempotencyHeaders,
      body: NewDispatchBody,
      response: { 202: DispatchAccepted, 409: ErrorBody, 422: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const user = request.userName
    const key = request.headers['idempotency-key']
    const answer = key === undefined
      ? { ...await accept(user, request.body), replayed: false }
      : await fastify.idempotency.run(user, key, request.body, async () => await accept(user, request.body))
    const body = answer.body as Awaited<ReturnType<typeof accept>>['body']
    if (answer.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(answer.status).header('location', `/v1/dispatches/${body.id}`).send(body)
  })

  fastify.get('/', {
    schema: {
      tags,
      summary: 'The user\'s dispatches, newest first, with totals per delivery state across all of them',
      querystring: DispatchListQuery,
      response: { 200: DispatchList, ...RequestErrors }
    }
  }, async (request) => {
    const { limit = 100, cursor } = request.query
    const [page, totals] = await Promise.all([
      deliveries.listDispatches(request.userName, { limit, ...(cursor !== undefined && { after: cursor }) }),
      deliveries.userTotals(request.userName)
    ])
    const now = Date.now()
    return {
      dispatches: page.items.map((d) => dispatchView(d, now)),
      totals,
      ...(page.next !== undefined && { next_cursor: page.next })
    }
  })

  fastify.get('/:id', {
    schema: {
      tags,
      summary: 'A dispatch: its times and how many of its deliveries are in each state',
      params: DispatchParams,
      response: { 200: Dispatch, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => dispatchView(await ownDispatch(request.userName, request.params.id)))

  fastify.get('/:id/events', {
    sse: 'manual',
    config: { userFromQuery: true },
    schema: {
      tags,
      summary: 'Live progress: Server-Sent Events with the dispatch\'s counts whenever they change, until it is finished',
      description: 'Events `progress` and, last, `finished`, each carrying the dispatch as GET /v1/dispatches/{id} answers it ' +
        '(`by_messenger` included). Resumable: send `Last-Event-ID` and the stream sends the current state at once only if it differs ' +
        'from that one; a client that already has the finished state gets a 204. An EventSource in a browser sends the page\'s Basic ' +
        'credentials by itself; with AUTH=off it names the user with `?user=`.',
      params: DispatchParams,
      querystring: DispatchEventsQuery,
      headers: DispatchEventsHeaders,
      response: { 200: DispatchEventStream, 204: StreamFinished, 404: ErrorBody, 406: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const dispatch = await ownDispatch(request.userName, request.params.id)
    const accept = request.headers.accept
    if (accept !== undefined && accept !== '' && !/text\/event-stream|text\/\*|\*\/\*/i.test(accept)) {
      throw notAcceptable('this route answers text/event-stream only (Server-Sent Events)')
    }
    await streamDispatch(reply, dispatch, fastify.dispatchEvents)
  })

  fastify.patch('/:id', {
    config: { rateLimit: { cost: COSTS.send } },
    schema: {
      tags,
      summary: 'Change a dispatch none of whose deliveries has started: its text, times, local window or targets',
      description: 'The deliveries are rebuilt from the edited request in one step, with the same checks as a new send (a reader sees the old ' +
        'dispatch or the new one, never a mix), and the release and expire jobs move to the new times. Once any delivery is queued, being ' +
        'sent or done: 409 `DISPATCH_STARTED` (what is left: cancel, or delete). Two edits at once: the second gets 409 `DISPATCH_CHANGED`. ' +
        'Repeating the same edit gives the same dispatch (no `Idempotency-Key` needed).',
      params: DispatchParams,
      body: EditDispatchBody,
      response: { 200: DispatchEdited, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const { id } = request.params
    await ownDispatch(request.userName, id)
    const body = request.body
    const targets = TARGET_FIELDS.some((field) => body[field] !== undefined) ? targetsOf(body) : undefined
    const result = await dispatcher.edit({
      user: request.userName,
      id,
      ...(body.text !== undefined && { text: body.text }),
      ...(body.send_at !== undefined && { sendAt: Date.parse(body.send_at) }),
      ...(body.expires_at !== undefined && { expiresAt: body.expires_at === null ? null : Date.parse(body.expires_at) }),
      ...(body.local_window !== undefined && { localWindow: body.local_window === null ? null : localWindowOf(body.local_window) }),
      ...(body.whatsapp_template !== undefined && { whatsappTemplate: body.whatsapp_template }),
      ...(body.skip_unreachable !== undefined && { skipUnreachable: body.skip_unreachable }),
      ...(targets !== undefined && { targets })
    })
    if (result.deliveries === 0) throw nothingToSend(result)
    return {
      id,
      revision: result.rev,
      deliveries: result.deliveries,
      suppressed: result.suppressed,
      unknown: result.unknown,
      without_addresses: result.withoutAddresses,
      state: result.scheduled ? 'scheduled' as const : 'queued' as const,
      send_at: new Date(result.sendAt).toISOString(),
      ...(result.expiresAt !== undefined && { expires_at: new Date(result.expiresAt).toISOString() })
    }
  })

  fastify.delete('/:id', {
    schema: {
      tags,
      summary: 'Delete a dispatch: cancel what is pending, then remove it, its deliveries and their counts',
      description: 'A delivery being sent at that moment cannot be taken back: it is marked cancelled and kept, with the dispatch, until it ' +
        'finishes (`in_flight`); a DELETE then removes the rest. Afterwards the dispatch and its deliveries answer 404.',
      params: DispatchParams,
      response: { 200: DispatchDeleted, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    await ownDispatch(request.userName, request.params.id)
    const { cancelled, deleted, inFlight } = await dispatcher.remove(request.params.id)
    return { cancelled, deleted, in_flight: inFlight }
  })

  fastify.post('/:id/cancel', {
    schema: {
      tags,
      summary: 'Cancel every delivery of the dispatch not yet sent',
      description: 'Reports per delivery what was cancelled, what was being sent at that moment, and what had already finished.',
      params: DispatchParams,
      response: { 200: CancelReport, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    await ownDispatch(request.userName, request.params.id)
    return cancelReport(await dispatcher.cancel(await deliveries.deliveryIds(request.params.id)))
  })

  fastify.post('/:id/redrive', {
    schema: {
      tags,
      summary: 'Queue the failed deliveries of the dispatch again, as new attempts',
      description: 'Delivered deliveries are never resent.',
      params: DispatchParams,
      response: { 200: RedriveReport, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    await ownDispatch(request.userName, request.params.id)
    return redriveReport(await dispatcher.redrive(await deliveries.deliveryIds(request.params.id)))
  })
}

export default dispatches
