/**
 * WhatsApp's webhook: `GET` is the set-up handshake (Meta sends
 * hub.mode=subscribe, the verify token you gave it, and a challenge to echo);
 * `POST` brings statuses about the messages sent (receipts) and messages
 * people sent, which open their 24-hour window; one that carries an invite's
 * code (`invite:<token>`) connects the sender's number to the contact, and
 * the person gets a short text back (see invite-answers.ts). Signed with the app secret
 * (X-Hub-Signature-256: sha256=<hex>).
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { forbidden, invalidField } from '../../errors.js'
import { tokenInText } from '../../invites/invite-links.js'
import { readWhatsAppNotification } from '../../messengers/whatsapp-webhook.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import { WebhookAnswer, WhatsAppVerifyQuery } from '../../schemas/webhooks.js'
import { answerInvite } from './invite-answers.js'
import { signedBody } from './signed-body.js'
import { takeReceipts } from './take-receipts.js'

const SIGNATURE = 'x-hub-signature-256'
const tags = ['webhooks']

/** Compared as bytes, in constant time: a text of other characters may be as long in characters and not in bytes. */
const sameText = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)]
  return x.length === y.length && timingSafeEqual(x, y)
}

const whatsapp: FastifyPluginAsyncTypebox = async function (fastify) {
  const { appSecret, verifyToken } = fastify.config.messengers.whatsapp

  fastify.get('/', {
    config: { rateLimit: false },
    schema: {
      tags,
      summary: 'WhatsApp\'s webhook set-up: answers the challenge when the verify token is WHATSAPP_VERIFY_TOKEN',
      querystring: WhatsAppVerifyQuery,
      response: { 200: Type.String({ description: 'hub.challenge, as sent' }), 403: ErrorBody, ...RequestErrors }
    }
  }, async (request, reply) => {
    const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = request.query
    if (mode !== 'subscribe') throw invalidField('query.hub.mode', 'must be subscribe')
    if (challenge === undefined) throw invalidField('query.hub.challenge', 'is required')
    if (token === undefined || !sameText(token, verifyToken)) throw forbidden('is not this service\'s WHATSAPP_VERIFY_TOKEN', 'query.hub.verify_token')
    return await reply.type('text/plain; charset=utf-8').send(challenge)
  })

  fastify.post('/', {
    config: { rateLimit: false },
    schema: {
      tags,
      summary: 'WhatsApp\'s webhook: statuses of sent messages (receipts) and messages from people',
      description: 'Signed by WhatsApp: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with WHATSAPP_APP_SECRET>`. ' +
        'A missing or wrong signature is a 401 and changes nothing.',
      response: { 200: WebhookAnswer, 401: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const body = signedBody(request, { header: SIGNATURE, secret: appSecret, prefix: 'sha256=', platform: 'WhatsApp' })
    const { receipts, inbound } = readWhatsAppNotification(body)
    const [taken] = await Promise.all([
      takeReceipts(fastify, receipts),
      Promise.all(inbound.map(async (message) => {
        // The window first: the answer to an invite is a text, which needs it open.
        await fastify.addressFacts.noteInbound(message.from, message.at)
        const token = tokenInText(message.text)
        if (token !== undefined) await fastify.invites.reply('whatsapp', message.from, await answerInvite(fastify, request, 'whatsapp', token, message.from))
      }))
    ])
    return { ...taken, inbound: inbound.length }
  })
}

export default whatsapp
