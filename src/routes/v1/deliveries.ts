/**
 * /v1/deliveries: every delivery of every dispatch, queried back by state (the
 * failed ones above all), dispatch, contact, messenger and time; one of them
 * cancelled or redriven; finished history purged.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { conflict } from '../../errors.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import {
  CancelByIdsReport, CancelReport, Delivery, DeliveryIdsBody, DeliveryList, DeliveryListQuery, DeliveryLookup, DeliveryParams,
  MAX_IDS, PurgeQuery, Purged, RedriveReport
} from '../../schemas/dispatches.js'
import { slotOfId, slotOfUser } from '../../redis-keys.js'
import { ownedBy } from './owned.js'
import { deliveryView } from '../../deliveries/delivery-views.js'
import { cancelReport, redriveReport } from './views.js'

const tags = ['deliveries']

const deliveries: FastifyPluginAsyncTypebox = async function (fastify) {
  const { dispatcher } = fastify
  const store = fastify.deliveries
  const ownDelivery = async (user: string, id: string) => ownedBy(user, await store.get(id), `delivery ${id}`)

  /**
   * The ids asked for, each once, split into the user's deliveries and the
   * rest (another user's answer as unknown ones do). A user's delivery ids
   * end with the user's slot (redis-keys.ts), so an id of another slot is
   * nobody's here and is not read: what is read lies in one slot, one
   * pipelined read, on a Redis Cluster too. Another user of the same slot is
   * told apart by the record's owner.
   */
  async function ownDeliveries (user: string, asked: readonly string[]) {
    const ids = [...new Set(asked)]
    const slot = slotOfUser(user)
    const found = await store.getMany(ids.filter((id) => slotOfId(id) === slot))
    const owned = found.filter((d): d is NonNullable<typeof d> => d !== undefined && d.user === user)
    const ownedIds = new Set(owned.map((d) => d.id))
    return { owned, unknown: ids.filter((id) => !ownedIds.has(id)) }
  }

  fastify.post('/lookup', {
    schema: {
      tags,
      summary: `Status of up to ${MAX_IDS} deliveries by id, each answered`,
      description: 'An id that is not one of the user\'s deliveries (never made, purged, or another user\'s) is listed in `unknown`.',
      body: DeliveryIdsBody,
      response: { 200: DeliveryLookup, ...RequestErrors }
    }
  }, async (request) => {
    const { owned, unknown } = await ownDeliveries(request.userName, request.body.ids)
    return { deliveries: owned.map(deliveryView), unknown }
  })

  fastify.post('/cancel', {
    schema: {
      tags,
      summary: `Cancel up to ${MAX_IDS} deliveries by id, those not yet sent; each id answered`,
      description: 'As the cancel of one delivery, for each id; an id that is not one of the user\'s deliveries is listed in `unknown`.',
      body: DeliveryIdsBody,
      response: { 200: CancelByIdsReport, ...RequestErrors }
    }
  }, async (request) => {
    const { owned, unknown } = await ownDeliveries(request.userName, request.body.ids)
    const cancels = await dispatcher.cancel(owned.map((d) => d.id))
    // Purged between the read and the cancel: unknown too.
    const gone = cancels.filter((c) => c.outcome.kind === 'unknown').map((c) => c.id)
    const all = new Set([...unknown, ...gone])
    return { ...cancelReport(cancels), unknown: request.body.ids.filter((id, i, ids) => all.has(id) && ids.indexOf(id) === i) }
  })

  fastify.get('/', {
    schema: {
      tags,
      summary: 'The user\'s deliveries, newest first, filtered; `state=failed` is the failed lookup',
      description: 'Follow `next_cursor` (as `cursor`) until it is absent. Each page examines a bounded number of deliveries, ' +
        'so with narrow filters a page may hold fewer than `limit` (even none) and still have a `next_cursor`.',
      querystring: DeliveryListQuery,
      response: { 200: DeliveryList, ...RequestErrors }
    }
  }, async (request) => {
    const q = request.query
    const page = await store.listDeliveries(request.userName, {
      limit: q.limit ?? 100,
      ...(q.state !== undefined && { state: q.state }),
      ...(q.dispatch !== undefined && { dispatch: q.dispatch }),
      ...(q.contact !== undefined && { contact: q.contact }),
      ...(q.messenger !== undefined && { messenger: q.messenger }),
      ...(q.from !== undefined && { createdFrom: Date.parse(q.from) }),
      ...(q.to !== undefined && { createdBefore: Date.parse(q.to) }),
      ...(q.cursor !== undefined && { after: q.cursor })
    })
    return { deliveries: page.items.map(deliveryView), ...(page.next !== undefined && { next_cursor: page.next }) }
  })

  fastify.delete('/', {
    schema: {
      tags,
      summary: 'Purge finished history: delete delivered, failed, cancelled, expired and suppressed deliveries',
      description: 'Pending deliveries are never touched. With `before`, only deliveries that finished before it.',
      querystring: PurgeQuery,
      response: { 200: Purged, ...RequestErrors }
    }
  }, async (request) => {
    const before = request.query.before === undefined ? undefined : Date.parse(request.query.before)
    const purged = await store.purge(request.userName, before)
    request.log.info({ user: request.userName, purged, ...(before !== undefined && { before: request.query.before }) }, 'history purged')
    return { purged }
  })

  fastify.get('/:id', {
    schema: {
      tags,
      summary: 'One delivery: state, attempts, last error, URL tried, times, the messenger\'s message id',
      params: DeliveryParams,
      response: { 200: Delivery, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => deliveryView(await ownDelivery(request.userName, request.params.id)))

  fastify.post('/:id/cancel', {
    schema: {
      tags,
      summary: 'Cancel one delivery if it is not yet sent',
      params: DeliveryParams,
      response: { 200: CancelReport, 404: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    await ownDelivery(request.userName, request.params.id)
    return cancelReport(await dispatcher.cancel([request.params.id]))
  })

  fastify.post('/:id/redrive', {
    schema: {
      tags,
      summary: 'Queue one failed delivery again, as a new attempt',
      params: DeliveryParams,
      response: { 200: RedriveReport, 404: ErrorBody, 409: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const delivery = await ownDelivery(request.userName, request.params.id)
    const report = redriveReport(await dispatcher.redrive([delivery.id]))
    if (report.redriven.length === 0) {
      throw conflict('NOT_FAILED', `delivery ${delivery.id} is ${report.not_failed[0]?.state ?? delivery.state}; only failed deliveries are redriven`)
    }
    return report
  })
}

export default deliveries
