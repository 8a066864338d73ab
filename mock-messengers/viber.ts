/**
 * The Viber REST Bot API at /viber/pa/...: send_message (errors as HTTP 200
 * with a non-zero status), set_webhook (which first POSTs a `webhook` event
 * to the URL and wants a 200 back) and get_account_info; and the callbacks
 * Viber POSTs: delivered, seen or failed after each accepted send, and
 * subscribed, unsubscribed, conversation_started and message (inbound) when a
 * test makes a user do that (/_mock/viber/...). Realistic profile: no send
 * before set_webhook (status 10), only to subscribers (6), never to a phone
 * number (999).
 */
import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { Type } from 'typebox'
import { TEXT_LIMITS, normalizeAddress } from '../src/model/messenger.js'
import type { MockContext } from './context.js'
import { VIBER_DEFAULT_EVENT_TYPES, VIBER_EVENT_TYPES, type ViberEventType } from './platform-state.js'
import type { Receipt } from './receipts.js'

const CHAT_HOSTNAME = 'SN-CHAT-01_'
/** What Viber answers 999 "Bad receiver ID" to: receiver ids are opaque, never phone numbers. */
const PHONE_LIKE = /^\+?[0-9]{7,15}$/
const SENDER_NAME_MAX = 28
const FAILED_DESCRIPTION = 'Message could not be delivered: the receiver\'s devices are unreachable'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A 64-bit message token above 2^53, as its digits (a JS number would round it). */
export function viberMessageToken (): string {
  return (BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) | (1n << 60n)).toString()
}

/** A callback body: `fields` as JSON, and message_token as the raw JSON number it is. */
function callbackBody (fields: Record<string, unknown>, token: string): string {
  return `${JSON.stringify(fields).slice(0, -1)},"message_token":${token}}`
}

interface SendBody { receiver?: unknown, text?: unknown, sender?: unknown, min_api_version?: unknown }
interface WebhookBody { url?: unknown, event_types?: unknown, send_name?: unknown, send_photo?: unknown }

const ViberId = Type.String({ pattern: '^[A-Za-z0-9+/=_-]{1,64}$' })
const UserName = Type.String({ minLength: 1, maxLength: 28 })

export function registerViber (app: FastifyInstance, ctx: MockContext): void {
  const { state } = ctx

  /** A user as callbacks describe one: name and avatar only when set_webhook asked for them (send_name, send_photo). */
  function userOf (id: string, name = 'Mock User') {
    const webhook = state.viberWebhook
    return {
      id,
      ...((webhook?.sendName ?? true) && { name }),
      ...((webhook?.sendPhoto ?? true) && { avatar: `https://avatars.example/${encodeURIComponent(id)}.jpg` }),
      language: 'en',
      country: 'US',
      api_version: 10
    }
  }

  /** Posts a callback about a user at once, if Viber has somewhere to post it and the webhook asked for it. */
  function notify (event: ViberEventType, fields: Record<string, unknown>): string | null {
    const url = ctx.webhookUrl('viber')
    if (url === undefined || !state.viberWants(event)) return null
    ctx.schedule.now('viber', url, callbackBody({ event, timestamp: Date.now(), chat_hostname: CHAT_HOSTNAME, ...fields }, viberMessageToken()))
    return url
  }

  /** Schedules what Viber says about one accepted message: delivered and perhaps seen, or failed. */
  function followUp (token: string, receiver: string): void {
    const url = ctx.webhookUrl('viber')
    if (url === undefined) return
    const knobs = ctx.behaviour.viber.receipts
    const event = (name: ViberEventType, extra: Record<string, unknown> = {}) => (at: number): Receipt =>
      ({ kind: 'body', messenger: 'viber', body: callbackBody({ event: name, timestamp: at, chat_hostname: CHAT_HOSTNAME, user_id: receiver, ...extra }, token) })
    const events: Array<[ViberEventType, (at: number) => Receipt]> = Math.random() < knobs.failRate
      ? [['failed', event('failed', { desc: FAILED_DESCRIPTION })]]
      : [['delivered', event('delivered')], ...(Math.random() < knobs.readRate ? [['seen', event('seen')] as [ViberEventType, (at: number) => Receipt]] : [])]
    ctx.schedule.follow(url, events.filter(([name]) => state.viberWants(name)).map(([, make]) => make), knobs)
  }

  app.post<{ Body: SendBody | undefined }>('/viber/pa/send_message', async (request, reply) => {
    const { receiver, text, sender, min_api_version: minApiVersion } = request.body ?? {}
    const subject = { recipient: receiver, text }
    // Viber answers errors with HTTP 200 and a non-zero status.
    const fail = (status: number, message: string) => {
      ctx.records.add('viber', request, subject, `${status} ${message}`)
      return reply.send({ status, status_message: message, chat_hostname: CHAT_HOSTNAME })
    }
    if (await ctx.faults.arrive('viber', request, reply)) return reply
    if (request.headers['x-viber-auth-token'] !== ctx.options.tokens.viber) return fail(2, 'invalidAuthToken')
    if (ctx.realistic && state.viberWebhook === undefined) return fail(10, 'webhookNotSet')
    if (ctx.faults.interfere('viber', request, reply, subject)) return reply
    if (!isRecord(sender) || typeof sender.name !== 'string' || sender.name === '') return fail(4, 'missingData')
    if (sender.name.length > SENDER_NAME_MAX) return fail(3, 'badData')
    if (minApiVersion !== undefined && !(Number.isInteger(minApiVersion) && (minApiVersion as number) >= 1)) return fail(3, 'badData')
    if (typeof receiver !== 'string' || !normalizeAddress('viber', receiver).ok) return fail(999, 'Bad receiver ID')
    if (typeof text !== 'string' || text.length === 0 || text.length > TEXT_LIMITS.viber) return fail(3, 'badData')
    if (ctx.realistic) {
      if (PHONE_LIKE.test(receiver)) return fail(999, 'Bad receiver ID')
      if (!state.viberSubscribers.has(receiver)) return fail(6, 'receiverNotSubscribed')
    }
    if (ctx.behaviour.viber.reject) return fail(6, 'receiverNotSubscribed')
    ctx.records.add('viber', request, subject, 'accepted')
    const token = viberMessageToken()
    followUp(token, receiver)
    // message_token is a 64-bit integer above 2^53: written as raw JSON so no digit is rounded.
    return reply.type('application/json').send(
      `{"status":0,"status_message":"ok","message_token":${token},"chat_hostname":"${CHAT_HOSTNAME}","billing_status":1}`
    )
  })

  app.post<{ Body: WebhookBody | undefined }>('/viber/pa/set_webhook', async (request, reply) => {
    const answer = (status: number, message: string, extra: Record<string, unknown> = {}) =>
      reply.send({ status, status_message: message, chat_hostname: CHAT_HOSTNAME, ...extra })
    if (await ctx.faults.arrive('viber', request, reply)) return reply
    if (request.headers['x-viber-auth-token'] !== ctx.options.tokens.viber) return answer(2, 'invalidAuthToken')
    const { url, event_types: eventTypes, send_name: sendName, send_photo: sendPhoto } = request.body ?? {}
    if (url === '') {
      // An empty URL removes the webhook.
      state.viberWebhook = undefined
      return answer(0, 'ok')
    }
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return answer(1, 'invalidUrl')
    if (eventTypes !== undefined &&
      (!Array.isArray(eventTypes) || !eventTypes.every((e) => (VIBER_EVENT_TYPES as readonly unknown[]).includes(e)))) return answer(3, 'badData')
    if ((sendName !== undefined && typeof sendName !== 'boolean') || (sendPhoto !== undefined && typeof sendPhoto !== 'boolean')) return answer(3, 'badData')
    // Viber calls the URL first, and sets it only if that call is answered 200.
    const check = await ctx.delivery.post('viber', url, callbackBody({ event: 'webhook', timestamp: Date.now(), chat_hostname: CHAT_HOSTNAME }, viberMessageToken()), { retries: 0 })
    if (check.status !== 200) return answer(1, 'invalidUrl')
    const types = (eventTypes as ViberEventType[] | undefined) ?? VIBER_DEFAULT_EVENT_TYPES
    state.viberWebhook = { url, eventTypes: types, sendName: sendName === true, sendPhoto: sendPhoto === true }
    return answer(0, 'ok', { event_types: types })
  })

  app.post('/viber/pa/get_account_info', async (request, reply) => {
    if (await ctx.faults.arrive('viber', request, reply)) return reply
    if (request.headers['x-viber-auth-token'] !== ctx.options.tokens.viber) {
      return reply.send({ status: 2, status_message: 'invalidAuthToken', chat_hostname: CHAT_HOSTNAME })
    }
    return {
      status: 0,
      status_message: 'ok',
      id: 'pa:5725345654565456789',
      chat_hostname: CHAT_HOSTNAME,
      name: 'Fanout Mock',
      uri: 'fanoutmock',
      category: 'Local Businesses',
      subcategory: 'Services',
      location: { lon: 0, lat: 0 },
      country: 'US',
      webhook: state.viberWebhook?.url ?? '',
      event_types: state.viberWebhook?.eventTypes ?? [],
      subscribers_count: state.viberSubscribers.size,
      members: [{ id: 'Mock+Admin+Id+0000000==', name: 'Mock Admin', role: 'admin' }]
    }
  })

  // --- Test controls: what users do ----------------------------------------
  app.post<{ Body: { id: string, name?: string, context?: string } }>('/_mock/viber/subscribe', {
    schema: { body: Type.Object({ id: ViberId, name: Type.Optional(UserName), context: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }) }
  }, async (request) => {
    const { id, name, context } = request.body
    state.viberSubscribers.set(id, { ...(name !== undefined && { name }), ...(context !== undefined && { context }), at: new Date().toISOString() })
    // A person who subscribed from a deep link (an invite's viber://pa?...&context=): the callback carries it.
    return { ok: true, id, callback: notify('subscribed', { user: userOf(id, name), ...(context !== undefined && { context }) }) }
  })

  app.post<{ Body: { id: string } }>('/_mock/viber/unsubscribe', {
    schema: { body: Type.Object({ id: ViberId }, { additionalProperties: false }) }
  }, async (request) => {
    const { id } = request.body
    state.viberSubscribers.delete(id)
    return { ok: true, id, callback: notify('unsubscribed', { user_id: id }) }
  })

  app.post<{ Body: { id: string, name?: string, context?: string } }>('/_mock/viber/conversation_started', {
    schema: { body: Type.Object({ id: ViberId, name: Type.Optional(UserName), context: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }) }
  }, async (request) => {
    const { id, name, context } = request.body
    const fields = { type: 'open', ...(context !== undefined && { context }), user: userOf(id, name), subscribed: state.viberSubscribers.has(id) }
    return { ok: true, id, callback: notify('conversation_started', fields) }
  })

  app.post<{ Body: { id: string, text: string, name?: string } }>('/_mock/viber/inbound', {
    schema: { body: Type.Object({ id: ViberId, text: Type.String({ minLength: 1, maxLength: TEXT_LIMITS.viber }), name: Type.Optional(UserName) }, { additionalProperties: false }) }
  }, async (request) => {
    const { id, text, name } = request.body
    // A user's first message subscribes them, with no `subscribed` callback.
    if (!state.viberSubscribers.has(id)) state.viberSubscribers.set(id, { ...(name !== undefined && { name }), at: new Date().toISOString() })
    const fields = { sender: userOf(id, name), message: { type: 'text', text }, silent: false }
    return { ok: true, id, callback: notify('message', fields) }
  })

  app.get('/_mock/viber/subscribers', async () => ({
    subscribers: [...state.viberSubscribers].map(([id, entry]) => ({ id, ...entry }))
  }))
}
