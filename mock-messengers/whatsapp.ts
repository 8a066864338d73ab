/**
 * The WhatsApp Business Cloud API at /whatsapp/{version}/{phone_number_id}/messages:
 * text and template sends, answered as Meta answers them, and what follows an
 * accepted send: status webhooks (sent, delivered, read, or failed) POSTed to
 * the service. Realistic profile: free-form text outside the person's 24-hour
 * window is accepted, then fails with 131047. Test controls: inbound messages
 * (which open the window, and reach the service as webhooks) and approved
 * templates.
 */
import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { Type } from 'typebox'
import { TEXT_LIMITS } from '../src/model/messenger.js'
import type { MockContext } from './context.js'
import type { TemplateCategory } from './platform-state.js'
import type { Receipt } from './receipts.js'

/** The WhatsApp Business Account the mock's phone number belongs to (the `entry[].id` of its webhooks). */
export const WHATSAPP_BUSINESS_ACCOUNT_ID = '102290129340398'
const DISPLAY_PHONE_NUMBER = '15550000000'
/** E.164 with or without its `+`: the Cloud API takes both. */
const PHONE_NUMBER = /^\+?[1-9][0-9]{6,14}$/
const RE_ENGAGEMENT = 131047

/** What a failed status says about each error code the mock sends by webhook. */
const FAILURES: Record<number, { title: string, details: string }> = {
  131026: { title: 'Message undeliverable', details: 'Message Undeliverable.' },
  [RE_ENGAGEMENT]: {
    title: 'Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'
  },
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.'
  },
  131000: { title: 'Something went wrong', details: 'Message failed to send due to an unknown error.' }
}

function whatsappFailure (code: number) {
  const known = FAILURES[code] ?? { title: 'Message failed to send', details: `Message failed to send (error ${code}).` }
  return { code, title: known.title, message: known.title, error_data: { details: known.details } }
}

const wamid = () => `wamid.${randomBytes(24).toString('base64url')}`
const seconds = (ms: number) => String(Math.floor(ms / 1000))

function graphError (message: string, code: number, details = message) {
  return { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details }, fbtrace_id: randomBytes(8).toString('hex') } }
}

interface SendBody {
  messaging_product?: unknown
  to?: unknown
  type?: unknown
  text?: { body?: unknown }
  template?: { name?: unknown, language?: { code?: unknown } }
}

/** The webhook body Meta POSTs: one entry, one change of field `messages`, around `value` (statuses, or contacts and messages). */
export function whatsappWebhookBody (phoneNumberId: string, value: Record<string, unknown>): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: WHATSAPP_BUSINESS_ACCOUNT_ID,
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: DISPLAY_PHONE_NUMBER, phone_number_id: phoneNumberId },
          ...value
        }
      }]
    }]
  })
}

export function registerWhatsApp (app: FastifyInstance, ctx: MockContext): void {
  const { state } = ctx

  /** Schedules the statuses of one accepted message: a single `failed`, or sent, delivered and perhaps read. */
  function followUp (id: string, waId: string, category: TemplateCategory | 'service', failure: number | undefined): void {
    const url = ctx.webhookUrl('whatsapp')
    if (url === undefined) return
    const knobs = ctx.behaviour.whatsapp.receipts
    const status = (name: string, at: number, extra: Record<string, unknown> = {}): Receipt =>
      ({ kind: 'status', status: { id, status: name, timestamp: seconds(at), recipient_id: waId, ...extra } })
    if (failure !== undefined) {
      ctx.schedule.follow(url, [(at) => status('failed', at, { errors: [whatsappFailure(failure)] })], knobs)
      return
    }
    const conversation = state.whatsappConversation(waId, category, () => randomBytes(16).toString('hex'))
    // Service conversations have been free since November 2024; the others are billed.
    const pricing = { billable: category !== 'service', pricing_model: 'CBP', category }
    const origin = { type: category }
    const makers = [
      (at: number) => status('sent', at, { conversation: { id: conversation.id, expiration_timestamp: seconds(conversation.expiresAt), origin }, pricing }),
      (at: number) => status('delivered', at, { conversation: { id: conversation.id, origin }, pricing })
    ]
    if (Math.random() < knobs.readRate) makers.push((at) => status('read', at))
    ctx.schedule.follow(url, makers, knobs)
  }

  app.post<{ Params: { version: string, phoneId: string }, Body: SendBody | undefined }>('/whatsapp/:version/:phoneId/messages', async (request, reply) => {
    const body = request.body ?? {}
    const { to } = body
    const type = body.type ?? 'text'
    const subject = type === 'template'
      ? { recipient: to, text: body.template?.name, type: 'template' as const }
      : { recipient: to, text: body.text?.body }
    const fail = (status: number, code: number, message: string, details?: string) => {
      ctx.records.add('whatsapp', request, subject, `${code} ${message}`)
      return reply.status(status).send(graphError(message, code, details))
    }
    if (await ctx.faults.arrive('whatsapp', request, reply)) return reply
    if (request.headers.authorization !== `Bearer ${ctx.options.tokens.whatsapp}`) {
      return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token')
    }
    if (request.params.phoneId !== ctx.options.whatsappPhoneNumberId) return fail(400, 100, '(#100) Invalid parameter')
    if (ctx.faults.interfere('whatsapp', request, reply, subject)) return reply
    if (body.messaging_product !== 'whatsapp') return fail(400, 100, '(#100) The parameter messaging_product is required.')
    if (typeof to !== 'string' || !PHONE_NUMBER.test(to)) return fail(400, 131008, '(#131008) Required parameter is missing or invalid')

    let category: TemplateCategory | 'service' = 'service'
    if (type === 'template') {
      const { name, language } = body.template ?? {}
      if (typeof name !== 'string' || name === '') return fail(400, 100, '(#100) The parameter template[\'name\'] is required.')
      if (typeof language?.code !== 'string' || language.code === '') return fail(400, 100, '(#100) The parameter template[\'language\'] is required.')
      const template = state.templates.get(name)
      if (template === undefined) {
        return fail(404, 132001, '(#132001) Template name does not exist in the translation', `template name (${name}) does not exist in ${language.code}`)
      }
      category = template.category
    } else if (type === 'text') {
      const text = body.text?.body
      if (typeof text !== 'string' || text.length === 0 || text.length > TEXT_LIMITS.whatsapp) return fail(400, 100, '(#100) Invalid parameter')
    } else {
      return fail(400, 100, '(#100) Invalid parameter')
    }
    if (ctx.behaviour.whatsapp.reject) return fail(400, 131026, '(#131026) Message undeliverable')

    ctx.records.add('whatsapp', request, subject, 'accepted')
    const id = wamid()
    const waId = to.replace(/^\+/, '')
    // Accepted either way: a free-form text outside the 24-hour window fails later, by webhook.
    const outsideWindow = ctx.realistic && type === 'text' && !state.whatsappWindowOpen(waId)
    const { failRate, failCode } = ctx.behaviour.whatsapp.receipts
    const failure = outsideWindow ? RE_ENGAGEMENT : Math.random() < failRate ? failCode : undefined
    followUp(id, waId, category, failure)
    return { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: waId }], messages: [{ id }] }
  })

  // --- Test controls: someone writes to the business; approved templates ---
  app.post<{ Body: { from: string, text: string, at?: string, name?: string } }>('/_mock/whatsapp/inbound', {
    schema: {
      body: Type.Object({
        from: Type.String({ pattern: PHONE_NUMBER.source }),
        text: Type.String({ minLength: 1, maxLength: TEXT_LIMITS.whatsapp }),
        /** When they wrote (RFC 3339); default now. An hour 25 ago makes a window that closed an hour ago. */
        at: Type.Optional(Type.String({ format: 'date-time' })),
        /** Their WhatsApp profile name. */
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 }))
      }, { additionalProperties: false })
    }
  }, async (request) => {
    const { from, text, name = 'Mock Customer' } = request.body
    const at = request.body.at === undefined ? Date.now() : Date.parse(request.body.at)
    const waId = from.replace(/^\+/, '')
    state.wroteToWhatsApp(waId, at)
    const id = wamid()
    const url = ctx.webhookUrl('whatsapp')
    if (url !== undefined) {
      ctx.schedule.now('whatsapp', url, whatsappWebhookBody(ctx.options.whatsappPhoneNumberId, {
        contacts: [{ profile: { name }, wa_id: waId }],
        messages: [{ from: waId, id, timestamp: seconds(at), type: 'text', text: { body: text } }]
      }))
    }
    return {
      id,
      wa_id: waId,
      at: new Date(at).toISOString(),
      windowOpenUntil: new Date(state.whatsappWindowUntil(waId) ?? at).toISOString(),
      webhook: url ?? null
    }
  })

  app.get('/_mock/whatsapp/templates', async () => ({ templates: [...state.templates.values()] }))

  app.post<{ Body: { name: string, category?: TemplateCategory } }>('/_mock/whatsapp/templates', {
    schema: {
      body: Type.Object({
        /** Meta's rule for template names: lowercase letters, digits and underscores. */
        name: Type.String({ pattern: '^[a-z0-9_]{1,512}$' }),
        category: Type.Optional(Type.Union([Type.Literal('utility'), Type.Literal('marketing'), Type.Literal('authentication')]))
      }, { additionalProperties: false })
    }
  }, async (request) => {
    const { name, category = 'utility' } = request.body
    state.templates.set(name, { name, category })
    return { templates: [...state.templates.values()] }
  })
}
