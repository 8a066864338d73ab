/**
 * With TELEGRAM_WEBHOOK_URL set, registers it with Telegram (setWebhook, with
 * TELEGRAM_WEBHOOK_SECRET as its secret_token) once the service listens, as
 * viber-webhook.ts does for Viber: tried a few times with backoff; a failure
 * is logged, and invite links for Telegram then connect nothing (Telegram
 * keeps the /start messages for getUpdates instead).
 */
import fp from 'fastify-plugin'
import pRetry from 'p-retry'
import { setTelegramWebhook } from '../../messengers/telegram.js'

export default fp(async function telegramWebhook (fastify) {
  const { telegram } = fastify.config.messengers
  const url = telegram.webhookUrl
  if (url === undefined) return
  fastify.addHook('onListen', async function () {
    const timeoutMs = fastify.config.delivery.sendTimeoutMs
    // Not awaited: the service serves while Telegram is being told.
    pRetry(async () => {
      const failure = await setTelegramWebhook({ ...telegram, timeoutMs }, url, telegram.webhookSecret)
      if (failure !== undefined) throw new Error(failure)
    }, { retries: 5, minTimeout: 1000, factor: 2 }).then(
      () => { fastify.log.info({ url }, 'telegram webhook registered') },
      (err: unknown) => { fastify.log.error({ err, url }, 'could not register the telegram webhook: invite links for Telegram connect nothing') }
    )
  })
}, { name: 'telegram-webhook', dependencies: ['config'] })
