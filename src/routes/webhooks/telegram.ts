/**
 * Telegram's webhook (registered by plugins/app/messenger-webhooks.ts): the
 * updates of the bot, of which the service reads `/start <token>`, a person
 * opening an invite link. Telegram signs nothing; it sends the secret_token
 * given to setWebhook in X-Telegram-Bot-Api-Secret-Token, compared here in
 * constant time (a missing or wrong one: 401, nothing changes). The answer to
 * the person rides on the reply: Telegram runs a method given in the body
 * of a webhook's answer (sendMessage), so no call of our own is needed.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { invalidSignature } from '../../errors.js'
import { readTelegramUpdate } from '../../messengers/telegram-webhook.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import { answerInvite } from './invite-answers.js'

const SECRET = 'x-telegram-bot-api-secret-token'

const TelegramAnswer = Type.Object({
  method: Type.Optional(Type.Literal('sendMessage')),
  chat_id: Type.Optional(Type.Integer()),
  text: Type.Optional(Type.String())
}, { description: 'Received. With `method`, Telegram sends that message to the person (connected, or why not); empty: nothing to answer' })

const telegram: FastifyPluginAsyncTypebox = async function (fastify) {
  const expected = Buffer.from(fastify.config.messengers.telegram.webhookSecret)

  fastify.post('/', {
    config: { rateLimit: false },
    schema: {
      tags: ['webhooks'],
      summary: 'Telegram\'s webhook: /start messages of invite links',
      description: 'Checked by the `X-Telegram-Bot-Api-Secret-Token` header, which must be TELEGRAM_WEBHOOK_SECRET; a missing or wrong one ' +
        'is a 401 and changes nothing. Any update Telegram sends is answered 200.',
      response: { 200: TelegramAnswer, 401: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const header = request.headers[SECRET]
    // Compared as bytes: a header of other characters than the secret's may be as long in characters, not in bytes.
    const given = typeof header === 'string' ? Buffer.from(header) : undefined
    if (given === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw invalidSignature('is missing or wrong: Telegram sends the secret_token given to setWebhook (TELEGRAM_WEBHOOK_SECRET)', SECRET)
    }
    let body: unknown
    try {
      body = JSON.parse((request.rawBody ?? Buffer.alloc(0)).toString('utf8'))
    } catch {
      // From Telegram (the secret says so), yet unreadable: nothing to do, and nothing Telegram should send again.
      return {}
    }
    const update = readTelegramUpdate(body)
    if (update.kind !== 'start' || update.payload === undefined) return {}
    const text = await answerInvite(fastify, request, 'telegram', update.payload, update.chatId)
    return { method: 'sendMessage' as const, chat_id: Number(update.chatId), text }
  })
}

export default telegram
