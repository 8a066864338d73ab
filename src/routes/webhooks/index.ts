/**
 * The messengers' webhooks under /webhooks: receipts (and what people did)
 * from WhatsApp and Viber, and Telegram's updates (invite links). No API key:
 * WhatsApp and Viber sign their bodies (see messengers/webhook-signature.ts),
 * Telegram sends the secret it was given, so the raw bytes are kept for the check
 * and a body with a missing or wrong signature is a 401 that changes
 * nothing. They are not rate limited (a platform delivers in bursts and
 * retries what it could not deliver), and they answer as soon as what they
 * brought is recorded: the platforms retry a non-2xx answer for days.
 */
import type { FastifyPluginAsync } from 'fastify'
import { checkWebhookSecrets } from '../../config.js'
import telegram from './telegram.js'
import viber from './viber.js'
import whatsapp from './whatsapp.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as it came, for the signature check (webhook routes only). */
    rawBody?: Buffer
  }
}

const webhooks: FastifyPluginAsync = async function (fastify) {
  checkWebhookSecrets(fastify.config)
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, function (request, body, done) {
    request.rawBody = body as Buffer
    // Parsed once its signature is checked (in the route): a forged body is not even read.
    done(null, undefined)
  })
  await fastify.register(whatsapp, { prefix: '/whatsapp' })
  await fastify.register(viber, { prefix: '/viber' })
  await fastify.register(telegram, { prefix: '/telegram' })
}

export default webhooks
