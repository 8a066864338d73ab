/**
 * The Telegram Bot API at /telegram/bot{token}/{method}, as client libraries
 * find it: sendMessage and getMe, parameters from the query string, a form,
 * JSON or multipart, method names in any case, and Telegram's own bodies for
 * every error, unknown methods and paths included. Realistic profile: a person
 * must have started the bot first (POST /_mock/telegram/start). In any
 * profile, a group that became a supergroup (POST /_mock/telegram/migrate)
 * answers with its new id. Telegram sends bots no receipts, so nothing
 * follows a send. setWebhook (url, secret_token) says where updates go: a
 * person's /start is POSTed there (with X-Telegram-Bot-Api-Secret-Token), and
 * a method in the answer's body (sendMessage) is run, as Telegram runs it.
 */
import formbody from '@fastify/formbody'
import multipart from '@fastify/multipart'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createHash } from 'node:crypto'
import { Type } from 'typebox'
import { request as post } from 'undici'
import { TEXT_LIMITS, normalizeAddress } from '../src/model/messenger.js'
import type { MockContext } from './context.js'
import type { TelegramUpdateRecord } from './platform-state.js'

const BOT = { first_name: 'Fanout Mock Bot', username: 'fanout_mock_bot' }
/** A bot's id is the number before the colon of its token; the mock's default token has none. */
const DEFAULT_BOT_ID = 7000000001

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function telegramError (reply: FastifyReply, code: number, description: string): FastifyReply {
  return reply.status(code).send({ ok: false, error_code: code, description })
}

/** The chat a send reached, as Telegram describes it; @usernames get a stable made-up channel id. */
function chatOf (chatId: number | string) {
  if (typeof chatId === 'string') {
    const username = chatId.replace(/^@/, '')
    const digits = String(Number.parseInt(createHash('sha256').update(username).digest('hex').slice(0, 8), 16)).padStart(10, '0')
    return { id: -Number(`100${digits}`), title: username, username, type: 'channel' }
  }
  if (chatId > 0) return { id: chatId, first_name: 'Mock', type: 'private' }
  return { id: chatId, title: 'Mock group', type: String(chatId).startsWith('-100') ? 'supergroup' : 'group' }
}

type Params = Record<string, unknown>
type Method = (request: FastifyRequest, reply: FastifyReply, params: Params) => Promise<FastifyReply | object>

export function registerTelegram (app: FastifyInstance, ctx: MockContext): void {
  const botId = Number(/^(\d+):/.exec(ctx.options.tokens.telegram)?.[1] ?? DEFAULT_BOT_ID)
  const bot = { id: botId, is_bot: true, ...BOT }
  let messageId = 0

  const methods: Record<string, Method> = {
    async getme () {
      return { ok: true, result: { ...bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } }
    },

    async setwebhook (_request, reply, params) {
      const { url, secret_token: secretToken } = params
      if (url === undefined || url === '') {
        ctx.state.telegramWebhook = undefined
        return { ok: true, result: true, description: 'Webhook was deleted' }
      }
      if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return telegramError(reply, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook')
      if (secretToken !== undefined && (typeof secretToken !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken))) {
        return telegramError(reply, 400, 'Bad Request: secret token contains unallowed characters')
      }
      ctx.state.telegramWebhook = { url, ...(secretToken !== undefined && { secretToken }) }
      return { ok: true, result: true, description: 'Webhook was set' }
    },

    async deletewebhook () {
      ctx.state.telegramWebhook = undefined
      return { ok: true, result: true, description: 'Webhook was deleted' }
    },

    async getwebhookinfo () {
      return { ok: true, result: { url: ctx.state.telegramWebhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 } }
    },

    async sendmessage (request, reply, params) {
      const { chat_id: chatIdParam, text } = params
      const subject = { recipient: chatIdParam, text }
      const fail = (code: number, description: string) => {
        ctx.records.add('telegram', request, subject, `${code} ${description}`)
        return telegramError(reply, code, description)
      }
      if (ctx.faults.interfere('telegram', request, reply, subject)) return reply
      if (typeof text !== 'string' || text.length === 0) return fail(400, 'Bad Request: message text is empty')
      if (text.length > TEXT_LIMITS.telegram) return fail(400, 'Bad Request: message is too long')
      if ((typeof chatIdParam !== 'number' && typeof chatIdParam !== 'string') || !normalizeAddress('telegram', String(chatIdParam)).ok) {
        return fail(400, 'Bad Request: chat not found')
      }
      // From a query string or a form every parameter is a string: "123" is the chat 123.
      const chatId = typeof chatIdParam === 'number' || /^-?\d+$/.test(chatIdParam) ? Number(chatIdParam) : chatIdParam
      const migratedTo = typeof chatId === 'number' ? ctx.state.telegramMigrated.get(chatId) : undefined
      if (migratedTo !== undefined) {
        ctx.records.add('telegram', request, subject, '400 migrated')
        return reply.status(400).send({ ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: migratedTo } })
      }
      if (ctx.realistic && !ctx.state.telegramMayMessage(chatId)) return fail(403, 'Forbidden: bot can\'t initiate conversation with a user')
      if (ctx.behaviour.telegram.reject) return fail(403, 'Forbidden: bot was blocked by the user')
      ctx.records.add('telegram', request, subject, 'accepted')
      messageId += 1
      return { ok: true, result: { message_id: messageId, from: bot, chat: chatOf(chatId), date: Math.floor(Date.now() / 1000), text } }
    }
  }

  void app.register(async (telegram) => {
    // Client libraries send forms and multipart (grammy does for files), and JSON with an empty body for
    // methods without parameters (getMe): Telegram takes all of them.
    await telegram.register(formbody)
    await telegram.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 64 * 1024, files: 10, fields: 100 } })
    const json = telegram.getDefaultJsonParser('error', 'ignore')
    telegram.removeContentTypeParser('application/json')
    telegram.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '') done(null, {})
      else json(request, String(body), done)
    })
    telegram.setNotFoundHandler((_request, reply) => telegramError(reply, 404, 'Not Found'))
    telegram.setErrorHandler((err: FastifyError, _request, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
      return telegramError(reply, status, status === 400 ? `Bad Request: ${err.message}` : status === 500 ? 'Internal Server Error' : err.message)
    })

    telegram.route<{ Params: { token: string, method: string }, Querystring: Params }>({
      method: ['GET', 'POST'],
      url: '/bot:token/:method',
      handler: async (request, reply) => {
        const method = request.params.method.toLowerCase()
        const params = { ...request.query, ...(isRecord(request.body) ? request.body : {}) }
        if (await ctx.faults.arrive('telegram', request, reply)) return reply
        if (request.params.token !== ctx.options.tokens.telegram) {
          if (method === 'sendmessage') ctx.records.add('telegram', request, { recipient: params.chat_id, text: params.text }, '401 Unauthorized')
          return telegramError(reply, 401, 'Unauthorized')
        }
        const answer = methods[method]
        return answer === undefined ? telegramError(reply, 404, 'Not Found') : await answer(request, reply, params)
      }
    })
  }, { prefix: '/telegram' })

  let updateId = 0
  /**
   * POSTs a person's message to the webhook, as Telegram does (once here: a
   * test sees the answer), and runs a sendMessage the answer carries.
   */
  async function deliverUpdate (chatId: number, text: string): Promise<TelegramUpdateRecord | undefined> {
    const webhook = ctx.state.telegramWebhook
    if (webhook === undefined) return undefined
    updateId += 1
    messageId += 1
    const from = { id: chatId, is_bot: false, first_name: 'Mock', language_code: 'en' }
    const command = /^\/\w+/.exec(text)?.[0]
    const update = {
      update_id: updateId,
      message: {
        message_id: messageId,
        from,
        chat: { id: chatId, first_name: 'Mock', type: 'private' },
        date: Math.floor(Date.now() / 1000),
        text,
        ...(command !== undefined && { entities: [{ offset: 0, length: command.length, type: 'bot_command' }] })
      }
    }
    const record: TelegramUpdateRecord = { url: webhook.url, update, status: null, at: new Date().toISOString() }
    ctx.state.telegramUpdates.push(record)
    try {
      const response = await post(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(webhook.secretToken !== undefined && { 'x-telegram-bot-api-secret-token': webhook.secretToken }) },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(5000)
      })
      record.status = response.statusCode
      const body = await response.body.text()
      try { record.answer = JSON.parse(body) } catch { /* not JSON: Telegram ignores it */ }
    } catch (err) {
      record.error = (err as Error).message
    }
    const answer = record.answer
    if (record.status === 200 && isRecord(answer) && typeof answer.method === 'string' && answer.method.toLowerCase() === 'sendmessage') {
      ctx.records.add('telegram', undefined, { recipient: answer.chat_id, text: answer.text }, 'accepted')
    }
    return record
  }

  // --- Test controls: who started the bot ----------------------------------
  app.post<{ Body: { chat_id: number, payload?: string } }>('/_mock/telegram/start', {
    schema: {
      body: Type.Object({
        /** A person's chat id (persons are positive). */
        chat_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
        /** The deep-link parameter of /start, if they came by a t.me/bot?start= link. */
        payload: Type.Optional(Type.String({ maxLength: 64 }))
      }, { additionalProperties: false })
    }
  }, async (request) => {
    const { chat_id: chatId, payload } = request.body
    const entry = { ...(payload !== undefined && { payload }), at: new Date().toISOString() }
    ctx.state.telegramStarted.set(chatId, entry)
    // What the person's app sends on opening t.me/<bot>?start=<payload>: /start <payload>.
    const webhook = await deliverUpdate(chatId, payload === undefined ? '/start' : `/start ${payload}`)
    return { ok: true, chat_id: chatId, ...entry, ...(webhook !== undefined && { webhook: { url: webhook.url, status: webhook.status, answer: webhook.answer ?? null } }) }
  })

  app.get('/_mock/telegram/updates', async () => ({ updates: ctx.state.telegramUpdates }))

  // A group that became a supergroup: sends to its old id answer 400 with migrate_to_chat_id, as Telegram's do.
  app.post<{ Body: { chat_id: number, to: number } }>('/_mock/telegram/migrate', {
    schema: {
      body: Type.Object({
        chat_id: Type.Integer({ maximum: -1, minimum: -Number.MAX_SAFE_INTEGER }),
        to: Type.Integer({ maximum: -1, minimum: -Number.MAX_SAFE_INTEGER })
      }, { additionalProperties: false })
    }
  }, async (request) => {
    ctx.state.telegramMigrated.set(request.body.chat_id, request.body.to)
    return { ok: true, ...request.body }
  })

  app.get('/_mock/telegram/started', async () => ({
    chats: [...ctx.state.telegramStarted].map(([chatId, entry]) => ({ chat_id: chatId, ...entry }))
  }))
}
