/**
 * The mock messengers: Telegram, WhatsApp and Viber at the real APIs' paths,
 * answering in their shapes (successes, errors, throttling), so that pointing
 * the service at the real ones is configuration only.
 *
 *   POST /telegram/bot{token}/sendMessage
 *   POST /whatsapp/{version}/{phone_number_id}/messages
 *   POST /viber/pa/send_message            (fails by default, as HTTP 200 + non-zero status)
 *
 * It records every message it receives (GET /_mock/messages, reset with
 * DELETE). Each messenger's behaviour (behaviour.ts) is set at start
 * (MOCK_BEHAVIOUR, config.ts) and changed at run time with
 * PUT /_mock/behaviour/{messenger}.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MESSENGERS, TEXT_LIMITS, normalizeAddress, type Messenger } from '../src/model/messenger.js'
import { BehaviourChange, DEFAULT_BEHAVIOUR, type Behaviour } from './behaviour.js'
import type { MockOptions } from './config.js'

export interface ReceivedMessage {
  messenger: Messenger
  recipient: string
  text: string
  idempotencyKey?: string
  receivedAt: string
  /** What the mock answered: `accepted`, or the error it gave. */
  outcome: string
}

/** How each messenger says "too many requests". */
const THROTTLE: Record<Messenger, (reply: FastifyReply, retryAfterSeconds: number) => FastifyReply> = {
  telegram: (reply, retryAfter) => reply.status(429).send({
    ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter }
  }),
  whatsapp: (reply) => reply.status(429).send({
    error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429, error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' }, fbtrace_id: randomBytes(8).toString('hex') }
  }),
  viber: (reply) => reply.send({ status: 12, status_message: 'tooManyRequests', chat_hostname: 'SN-CHAT-01_' })
}

export function buildMock (options: MockOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    // A knob set to "true" or "2" is a mistake to report, not a value to guess.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Hung requests must not keep the mock from closing.
    forceCloseConnections: true
  })
  const maxRecords = options.maxRecords ?? 100_000
  const behaviour = Object.fromEntries(MESSENGERS.map((m) => [m, {
    ...DEFAULT_BEHAVIOUR,
    reject: m === 'viber',
    ...options.behaviour?.[m]
  }])) as Record<Messenger, Behaviour>
  const windows = Object.fromEntries(MESSENGERS.map((m) => [m, { start: 0, count: 0 }])) as Record<Messenger, { start: number, count: number }>
  let records: ReceivedMessage[] = []
  let telegramMessageId = 0

  function record (messenger: Messenger, request: FastifyRequest, recipient: unknown, text: unknown, outcome: string) {
    const key = request.headers['idempotency-key']
    records.push({
      messenger,
      recipient: String(recipient),
      text: typeof text === 'string' ? text : '',
      ...(typeof key === 'string' && { idempotencyKey: key }),
      receivedAt: new Date().toISOString(),
      outcome
    })
    if (records.length > maxRecords) records = records.slice(-maxRecords)
  }

  /**
   * Before the messenger looks at a request: outages and latency. Returns true
   * when the request is taken care of (reset, or left hanging until the client gives up).
   */
  async function arrive (messenger: Messenger, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const b = behaviour[messenger]
    if (b.outage !== 'none') {
      reply.hijack()
      const socket = request.raw.socket
      if (b.outage === 'refuse') socket.destroy()
      else await new Promise((resolve) => socket.once('close', resolve))
      return true
    }
    const [min, max] = b.latencyMs
    if (max > 0) await sleep(min + Math.random() * Math.max(0, max - min))
    return false
  }

  /**
   * After the token check: throttling, transient failures and garbage, each in
   * the messenger's own manner. Returns true when it answered.
   */
  function interfere (messenger: Messenger, request: FastifyRequest, reply: FastifyReply, recipient: unknown, text: unknown): boolean {
    const b = behaviour[messenger]
    if (b.ratePerSecond > 0) {
      const window = windows[messenger]
      const now = Date.now()
      if (now - window.start >= 1000) Object.assign(window, { start: now, count: 0 })
      if (window.count >= b.ratePerSecond) {
        const retryAfter = Math.max(1, Math.ceil((window.start + 1000 - now) / 1000))
        record(messenger, request, recipient, text, 'throttled')
        THROTTLE[messenger](reply, retryAfter)
        return true
      }
      window.count += 1
    }
    if (b.failNext > 0 || (b.errorRate > 0 && Math.random() < b.errorRate)) {
      if (b.failNext > 0) b.failNext -= 1
      record(messenger, request, recipient, text, `HTTP ${b.errorStatus}`)
      reply.status(b.errorStatus).type('text/plain').send('Service Unavailable')
      return true
    }
    if (b.garbage !== 'none') {
      record(messenger, request, recipient, text, `garbage ${b.garbage}`)
      reply.type('application/json').send(b.garbage === 'invalid-json' ? '{"ok": tru' : '{"result": "maybe"}')
      return true
    }
    return false
  }

  // --- Telegram Bot API ---------------------------------------------------
  app.post<{ Params: { token: string }, Body: { chat_id?: unknown, text?: unknown } }>('/telegram/bot:token/sendMessage', async (request, reply) => {
    const { chat_id: chatId, text } = request.body ?? {}
    const fail = (code: number, description: string) => {
      record('telegram', request, chatId, text, `${code} ${description}`)
      return reply.status(code).send({ ok: false, error_code: code, description })
    }
    if (await arrive('telegram', request, reply)) return reply
    if (request.params.token !== options.tokens.telegram) return fail(401, 'Unauthorized')
    if (interfere('telegram', request, reply, chatId, text)) return reply
    if (typeof text !== 'string' || text.length === 0) return fail(400, 'Bad Request: message text is empty')
    if (text.length > TEXT_LIMITS.telegram) return fail(400, 'Bad Request: message is too long')
    if ((typeof chatId !== 'number' && typeof chatId !== 'string') || !normalizeAddress('telegram', String(chatId)).ok) {
      return fail(400, 'Bad Request: chat not found')
    }
    if (behaviour.telegram.reject) return fail(403, 'Forbidden: bot was blocked by the user')
    record('telegram', request, chatId, text, 'accepted')
    telegramMessageId += 1
    return {
      ok: true,
      result: {
        message_id: telegramMessageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: typeof chatId === 'number' ? chatId : 0, type: 'private' },
        text
      }
    }
  })

  // --- WhatsApp Cloud API -------------------------------------------------
  app.post<{ Params: { version: string, phoneId: string }, Body: { to?: unknown, text?: { body?: unknown }, messaging_product?: unknown } }>(
    '/whatsapp/:version/:phoneId/messages', async (request, reply) => {
      const { to, text } = request.body ?? {}
      const fail = (status: number, code: number, message: string) => {
        record('whatsapp', request, to, text?.body, `${code} ${message}`)
        return reply.status(status).send({
          error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: message }, fbtrace_id: randomBytes(8).toString('hex') }
        })
      }
      if (await arrive('whatsapp', request, reply)) return reply
      if (request.headers.authorization !== `Bearer ${options.tokens.whatsapp}`) {
        return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token')
      }
      if (request.params.phoneId !== options.whatsappPhoneNumberId) return fail(400, 100, '(#100) Invalid parameter')
      if (interfere('whatsapp', request, reply, to, text?.body)) return reply
      if (request.body?.messaging_product !== 'whatsapp') return fail(400, 100, '(#100) The parameter messaging_product is required.')
      if (typeof to !== 'string' || !normalizeAddress('whatsapp', to).ok) return fail(400, 131008, '(#131008) Required parameter is missing or invalid')
      if (typeof text?.body !== 'string' || text.body.length === 0 || text.body.length > TEXT_LIMITS.whatsapp) {
        return fail(400, 100, '(#100) Invalid parameter')
      }
      if (behaviour.whatsapp.reject) return fail(400, 131026, '(#131026) Message undeliverable')
      record('whatsapp', request, to, text.body, 'accepted')
      return {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }],
        messages: [{ id: `wamid.${randomBytes(24).toString('base64url')}` }]
      }
    })

  // --- Viber REST Bot API -------------------------------------------------
  app.post<{ Body: { receiver?: unknown, text?: unknown } }>('/viber/pa/send_message', async (request, reply) => {
    const { receiver, text } = request.body ?? {}
    // Viber answers errors with HTTP 200 and a non-zero status.
    const fail = (status: number, message: string) => {
      record('viber', request, receiver, text, `${status} ${message}`)
      return reply.send({ status, status_message: message, chat_hostname: 'SN-CHAT-01_' })
    }
    if (await arrive('viber', request, reply)) return reply
    if (request.headers['x-viber-auth-token'] !== options.tokens.viber) return fail(2, 'invalidAuthToken')
    if (interfere('viber', request, reply, receiver, text)) return reply
    if (typeof receiver !== 'string' || !normalizeAddress('viber', receiver).ok) return fail(999, 'Bad receiver ID')
    if (typeof text !== 'string' || text.length === 0 || text.length > TEXT_LIMITS.viber) return fail(3, 'badData')
    if (behaviour.viber.reject) return fail(6, 'receiverNotSubscribed')
    record('viber', request, receiver, text, 'accepted')
    // message_token is a 64-bit integer above 2^53: written as raw JSON so no digit is rounded.
    const token = (BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) | (1n << 60n)).toString()
    return reply.type('application/json').send(
      `{"status":0,"status_message":"ok","message_token":${token},"chat_hostname":"SN-CHAT-01_","billing_status":1}`
    )
  })

  // --- What the mock received, and its behaviour ----------------------------
  app.get<{ Querystring: { messenger?: string, recipient?: string, outcome?: string } }>('/_mock/messages', async (request) => {
    const { messenger, recipient, outcome } = request.query
    const messages = records.filter((r) =>
      (messenger === undefined || r.messenger === messenger) &&
      (recipient === undefined || r.recipient === recipient) &&
      (outcome === undefined || r.outcome === outcome))
    const byRecipient: Record<string, number> = {}
    const byKey: Record<string, number> = {}
    for (const m of messages) {
      const who = `${m.messenger}:${m.recipient}`
      byRecipient[who] = (byRecipient[who] ?? 0) + 1
      if (m.idempotencyKey !== undefined) byKey[m.idempotencyKey] = (byKey[m.idempotencyKey] ?? 0) + 1
    }
    const repeats = Object.fromEntries(Object.entries(byKey).filter(([, n]) => n > 1))
    return { count: messages.length, messages, byRecipient, repeats }
  })

  app.delete('/_mock/messages', async () => {
    records = []
    return { ok: true }
  })

  app.get('/_mock/behaviour', async () => behaviour)

  app.put<{ Params: { messenger: string }, Body: Partial<Behaviour> }>('/_mock/behaviour/:messenger', {
    schema: { body: BehaviourChange }
  }, async (request, reply) => {
    const { messenger } = request.params
    if (!(MESSENGERS as readonly string[]).includes(messenger)) {
      return reply.status(404).send({ error: `no messenger ${messenger}` })
    }
    Object.assign(behaviour[messenger as Messenger], request.body)
    return behaviour[messenger as Messenger]
  })

  return app
}
