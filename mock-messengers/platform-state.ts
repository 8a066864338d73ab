/**
 * What the platforms remember between requests, and the rules of the
 * realistic profile that read it (docs/messengers.md, "What happens after the API
 * said yes"): who last wrote to the WhatsApp number and when (the 24-hour
 * window), which WhatsApp templates are approved, who started the Telegram
 * bot, who is subscribed to the Viber bot and where its webhook is. Tests set
 * it through the /_mock/{messenger}/... routes.
 */

/** WhatsApp's customer-service window: free-form text reaches a person this long after their last message. */
export const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000

export type TemplateCategory = 'utility' | 'marketing' | 'authentication'

/** Viber events a set_webhook may name; `message`, `subscribed` and `unsubscribed` are sent whatever it names. */
export const VIBER_EVENT_TYPES = ['delivered', 'seen', 'failed', 'subscribed', 'unsubscribed', 'conversation_started', 'message'] as const
export type ViberEventType = typeof VIBER_EVENT_TYPES[number]
/** What set_webhook subscribes to when it names nothing (and what it answers then). */
export const VIBER_DEFAULT_EVENT_TYPES: ViberEventType[] = ['delivered', 'seen', 'failed', 'subscribed', 'unsubscribed', 'conversation_started']
const VIBER_MANDATORY_EVENTS: ViberEventType[] = ['message', 'subscribed', 'unsubscribed']

export interface ViberWebhook {
  url: string
  eventTypes: ViberEventType[]
  /** Whether callbacks carry the user's name and avatar (Viber's send_name / send_photo). */
  sendName: boolean
  sendPhoto: boolean
}

export interface TelegramUpdateRecord {
  url: string
  update: Record<string, unknown>
  /** The HTTP status of the answer; null: none (refused, timed out). */
  status: number | null
  /** The answer's body as JSON (a method Telegram then runs, e.g. sendMessage), when it was JSON. */
  answer?: unknown
  error?: string
  at: string
}

export class PlatformState {
  // --- WhatsApp
  /** Each person's (wa_id: digits) last inbound message, in ms. */
  private readonly lastInbound = new Map<string, number>()
  /** Approved templates; a new business account has `hello_world`. */
  readonly templates = new Map<string, { name: string, category: TemplateCategory }>([
    ['hello_world', { name: 'hello_world', category: 'utility' }]
  ])

  /** Open WhatsApp conversations (the unit of CBP pricing), per person and category. */
  private readonly conversations = new Map<string, { id: string, expiresAt: number }>()

  // --- Telegram
  /** Persons who sent /start, with the deep-link payload if there was one. */
  readonly telegramStarted = new Map<number, { payload?: string, at: string }>()
  /** Groups that became supergroups: old chat id -> new. */
  readonly telegramMigrated = new Map<number, number>()
  /** Where setWebhook said updates go, and the secret_token they carry. */
  telegramWebhook: { url: string, secretToken?: string } | undefined
  /** Every update POSTed to that webhook, with its answer. */
  readonly telegramUpdates: TelegramUpdateRecord[] = []

  // --- Viber
  viberWebhook: ViberWebhook | undefined
  /** Subscribed users, with what they were subscribed with. */
  readonly viberSubscribers = new Map<string, { name?: string, context?: string, at: string }>()

  wroteToWhatsApp (waId: string, at: number): void {
    this.lastInbound.set(waId, Math.max(at, this.lastInbound.get(waId) ?? -Infinity))
  }

  /** Until when free-form text reaches this person (undefined: they never wrote). */
  whatsappWindowUntil (waId: string): number | undefined {
    const last = this.lastInbound.get(waId)
    return last === undefined ? undefined : last + WHATSAPP_WINDOW_MS
  }

  whatsappWindowOpen (waId: string, now = Date.now()): boolean {
    return (this.whatsappWindowUntil(waId) ?? -Infinity) > now
  }

  /** The conversation a message to this person in this category opens or joins. */
  whatsappConversation (waId: string, category: string, newId: () => string, now = Date.now()): { id: string, expiresAt: number } {
    const key = `${waId} ${category}`
    const open = this.conversations.get(key)
    if (open !== undefined && open.expiresAt > now) return open
    const conversation = { id: newId(), expiresAt: now + WHATSAPP_WINDOW_MS }
    this.conversations.set(key, conversation)
    return conversation
  }

  /** Telegram: a person (positive chat id) must have started the bot; groups, channels and @usernames need not. */
  telegramMayMessage (chatId: number | string): boolean {
    return typeof chatId !== 'number' || chatId < 0 || this.telegramStarted.has(chatId)
  }

  /** Whether the Viber webhook (if one was set) asked for this event. */
  viberWants (event: ViberEventType): boolean {
    return this.viberWebhook === undefined || VIBER_MANDATORY_EVENTS.includes(event) || this.viberWebhook.eventTypes.includes(event)
  }
}
