/** Builds the three adapters from configuration; the same code path serves the mock and the real APIs. */
import type { Config } from '../config.js'
import type { MessengerAdapter } from './adapter.js'
import type { Messenger } from './messenger.js'
import { createTelegramAdapter } from './telegram.js'
import { createViberAdapter } from './viber.js'
import { createWhatsAppAdapter } from './whatsapp.js'

export function createAdapters (config: Config): Record<Messenger, MessengerAdapter> {
  const { telegram, whatsapp, viber } = config.messengers
  const timeoutMs = config.delivery.sendTimeoutMs
  return {
    telegram: createTelegramAdapter({ ...telegram, connections: telegram.concurrency, timeoutMs }),
    whatsapp: createWhatsAppAdapter({ ...whatsapp, connections: whatsapp.concurrency, timeoutMs }),
    viber: createViberAdapter({ ...viber, connections: viber.concurrency, timeoutMs })
  }
}
