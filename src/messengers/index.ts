/** Builds the three adapters from their settings; the same code path serves the mock and the real APIs. */
import type { Messenger } from '../model/messenger.js'
import type { MessengerAdapter } from './adapter.js'
import { createTelegramAdapter, type TelegramOptions } from './telegram.js'
import { createViberAdapter, type ViberOptions } from './viber.js'
import { createWhatsAppAdapter, type WhatsAppOptions } from './whatsapp.js'

/** Each messenger's options but the HTTP ones, which come from its concurrency and the send timeout. */
type Settings<Options> = Omit<Options, 'connections' | 'timeoutMs'> & { concurrency: number }

export interface AdapterSettings {
  telegram: Settings<TelegramOptions>
  whatsapp: Settings<WhatsAppOptions>
  viber: Settings<ViberOptions>
}

/** `timeoutMs` bounds each send; each messenger gets as many connections as sends it may have in flight. */
export function createAdapters (settings: AdapterSettings, timeoutMs: number): Record<Messenger, MessengerAdapter> {
  const { telegram, whatsapp, viber } = settings
  return {
    telegram: createTelegramAdapter({ ...telegram, connections: telegram.concurrency, timeoutMs }),
    whatsapp: createWhatsAppAdapter({ ...whatsapp, connections: whatsapp.concurrency, timeoutMs }),
    viber: createViberAdapter({ ...viber, connections: viber.concurrency, timeoutMs })
  }
}
