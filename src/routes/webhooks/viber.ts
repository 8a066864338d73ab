/**
 * Viber's webhook: `delivered`, `seen` and `failed` about messages the bot
 * sent (receipts), `subscribed`, `conversation_started` and `unsubscribed`
 * (noted on the address; `unsubscribed` marks it dead, a subscription clears that), and `webhook`, Viber checking the URL while the
 * service registers it. Signed with the bot's auth token
 * (X-Viber-Content-Signature: <hex>).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseViberBody, readViberCallback } from '../../messengers/viber-webhook.js'
import { ErrorBody, RequestErrors } from '../../schemas/common.js'
import { WebhookAnswer } from '../../schemas/webhooks.js'
import { signedBody } from './signed-body.js'
import { takeReceipts } from './take-receipts.js'

const SIGNATURE = 'x-viber-content-signature'

const viber: FastifyPluginAsyncTypebox = async function (fastify) {
  const { token } = fastify.config.messengers.viber

  fastify.post('/', {
    config: { rateLimit: false },
    schema: {
      tags: ['webhooks'],
      summary: 'Viber\'s webhook: delivered, seen and failed callbacks (receipts), subscriptions',
      description: 'Signed by Viber: `X-Viber-Content-Signature: <hex HMAC-SHA256 of the raw body, keyed with VIBER_AUTH_TOKEN>`. ' +
        'A missing or wrong signature is a 401 and changes nothing.',
      response: { 200: WebhookAnswer, 401: ErrorBody, ...RequestErrors }
    }
  }, async (request) => {
    const body = signedBody(request, { header: SIGNATURE, secret: token, platform: 'Viber' }, parseViberBody)
    const callback = readViberCallback(body)
    if (callback.kind === 'receipt') return { ...await takeReceipts(fastify, [callback.receipt]), inbound: 0 }
    if (callback.kind === 'subscribed' || callback.kind === 'unsubscribed') {
      const facts = fastify.addressFacts
      // Unsubscribed: the user cannot be sent to until they subscribe again (the address's health says so).
      await Promise.all([
        facts.noteViberSubscription(callback.user, callback.kind === 'subscribed', callback.at),
        callback.kind === 'subscribed'
          ? facts.clearHealth('viber', callback.user, callback.at)
          : facts.markUnreachable('viber', callback.user, { code: 'unsubscribed', reason: 'unsubscribed' }, callback.at)
      ])
      request.log.info({ viberUser: callback.user, event: callback.kind }, 'viber subscription noted')
      return { receipts: 0, applied: 0, waiting: 0, inbound: 1 }
    }
    return { receipts: 0, applied: 0, waiting: 0, inbound: 0 }
  })
}

export default viber
