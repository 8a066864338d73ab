/**
 * The links an invite carries, one per messenger, each opening the bot or
 * the business with the token where that messenger hands it back: Telegram's
 * deep link `?start=` (the /start message's payload), Viber's `context`
 * (conversation_started, subscribed), and for WhatsApp the text the person
 * sends (`?text=`), which carries the code `invite:<token>`. A messenger
 * whose setting (bot username, chat URI, business number) is not set gets
 * no link, and the reason why.
 */
import type { Messenger } from '../model/messenger.js'

export interface InviteLinkSettings {
  /** TELEGRAM_BOT_USERNAME */
  telegramBot?: string | undefined
  /** VIBER_CHAT_URI */
  viberChatUri?: string | undefined
  /** WHATSAPP_BUSINESS_NUMBER, E.164 */
  whatsappNumber?: string | undefined
}

/** What a WhatsApp message carries before the token: plain text a person can see and send as it is. */
export const WHATSAPP_CODE_PREFIX = 'invite:'

/** The text a WhatsApp invite has the person send. */
export function whatsappCode (token: string): string {
  return `${WHATSAPP_CODE_PREFIX}${token}`
}

/** The token in a WhatsApp text, if it carries an invite code; any other text is no invite. */
export function tokenInText (text: string | undefined): string | undefined {
  return text === undefined ? undefined : /(?:^|\s)invite:([A-Za-z0-9_-]{1,64})(?=\s|$)/.exec(text)?.[1]
}

/** Why a messenger has no invite link, or undefined when it has one. */
export function missingSetting (messenger: Messenger, settings: InviteLinkSettings): string | undefined {
  switch (messenger) {
    case 'telegram': return settings.telegramBot === undefined ? 'TELEGRAM_BOT_USERNAME is not set: the service does not know its bot\'s username' : undefined
    case 'viber': return settings.viberChatUri === undefined ? 'VIBER_CHAT_URI is not set: the service does not know its bot\'s chat URI' : undefined
    case 'whatsapp': return settings.whatsappNumber === undefined ? 'WHATSAPP_BUSINESS_NUMBER is not set: the service does not know its business number' : undefined
  }
}

/** The link for a token; call only for a messenger with its setting (see missingSetting). */
export function inviteLink (messenger: Messenger, token: string, settings: InviteLinkSettings): string {
  switch (messenger) {
    case 'telegram': return `https://t.me/${settings.telegramBot ?? ''}?start=${token}`
    case 'viber': return `viber://pa?chatURI=${encodeURIComponent(settings.viberChatUri ?? '')}&context=${token}`
    case 'whatsapp': return `https://wa.me/${(settings.whatsappNumber ?? '').replace(/^\+/, '')}?text=${encodeURIComponent(whatsappCode(token))}`
  }
}
