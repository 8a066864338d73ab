/**
 * With VIBER_WEBHOOK_URL set, registers it with Viber once the service
 * listens (Viber calls the URL while it answers, and sends for no bot without
 * a webhook). Tried a few times with backoff; a failure is logged, and Viber
 * then refuses the sends (status 10), which fail with that reason.
 */
import fp from 'fastify-plugin'
import pRetry from 'p-retry'
import { setViberWebhook } from '../../messengers/viber.js'

export default fp(async function viberWebhook (fastify) {
  const { viber } = fastify.config.messengers
  const url = viber.webhookUrl
  if (url === undefined) return
  fastify.addHook('onListen', async function () {
    const timeoutMs = fastify.config.delivery.sendTimeoutMs
    // Not awaited: the service serves while Viber is being told (and Viber's check of the URL needs it to).
    pRetry(async () => {
      const failure = await setViberWebhook({ ...viber, timeoutMs }, url)
      if (failure !== undefined) throw new Error(failure)
    }, { retries: 5, minTimeout: 1000, factor: 2 }).then(
      () => { fastify.log.info({ url }, 'viber webhook registered') },
      (err: unknown) => { fastify.log.error({ err, url }, 'could not register the viber webhook: Viber will refuse the sends (status 10)') }
    )
  })
}, { name: 'viber-webhook', dependencies: ['config'] })
