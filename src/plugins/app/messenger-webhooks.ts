/**
 * Registers the service's webhooks with the messengers that need telling,
 * once the service listens: Viber (VIBER_WEBHOOK_URL: Viber calls the URL
 * while it answers, and sends for no bot without a webhook) and Telegram
 * (TELEGRAM_WEBHOOK_URL, with TELEGRAM_WEBHOOK_SECRET as its secret_token:
 * the /start messages of invite links). Each is tried a few times with
 * backoff and not awaited (the service serves meanwhile); a failure is
 * logged with what it costs.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pRetry from 'p-retry'
import { setTelegramWebhook } from '../../messengers/telegram.js'
import { setViberWebhook } from '../../messengers/viber.js'

/** `register` answers a failure's description, or undefined once the messenger took the URL. */
function registerOnListen (fastify: FastifyInstance, messenger: string, url: string | undefined,
  register: (url: string) => Promise<string | undefined>, whenItFails: string): void {
  if (url === undefined) return
  fastify.addHook('onListen', async function () {
    pRetry(async () => {
      const failure = await register(url)
      if (failure !== undefined) throw new Error(failure)
    }, { retries: 5, minTimeout: 1000, factor: 2 }).then(
      () => { fastify.log.info({ url }, `${messenger} webhook registered`) },
      (err: unknown) => { fastify.log.error({ err, url }, `could not register the ${messenger} webhook: ${whenItFails}`) }
    )
  })
}

export default fp(async function messengerWebhooks (fastify) {
  const { telegram, viber } = fastify.config.messengers
  const timeoutMs = fastify.config.delivery.sendTimeoutMs
  registerOnListen(fastify, 'viber', viber.webhookUrl, async (url) => await setViberWebhook({ ...viber, timeoutMs }, url),
    'Viber will refuse the sends (status 10)')
  registerOnListen(fastify, 'telegram', telegram.webhookUrl, async (url) => await setTelegramWebhook({ ...telegram, timeoutMs }, url, telegram.webhookSecret),
    'invite links for Telegram connect nothing')
}, { name: 'messenger-webhooks', dependencies: ['config'] })
