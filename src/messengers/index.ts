/** Builds the three adapters from their settings; the same code path serves the mock and the real APIs. */
import type { MessengerSettings } from '../config.js'
import type { MessengerAdapter } from './adapter.js'
import type { Messenger } from './messenger.js'
import { createTelegramAdapter } from './telegram.js'
import { createViberAdapter } from './viber.js'
import { createWhatsAppAdapter } from './whatsapp.js'

/** `timeoutMs` bounds each send; each messenger gets as many connections as sends it may have in flight. */
export function createAdapters (settings: MessengerSettings, timeoutMs: number): Record<Messenger, MessengerAdapter> {
  const { telegram, whatsapp, viber } = settings
  return {
    telegram: createTelegramAdapter({ ...telegram, connections: telegram.concurrency, timeoutMs }),
    whatsapp: createWhatsAppAdapter({ ...whatsapp, connections: whatsapp.concurrency, timeoutMs }),
    viber: createViberAdapter({ ...viber, connections: viber.concurrency, timeoutMs })
  }
}
