/** What test/sdk uses of viber-bot (Viber's own Node SDK, plain JavaScript without types). */
declare module 'viber-bot' {
  import type { EventEmitter } from 'node:events'
  import type { RequestListener } from 'node:http'

  export interface UserProfile { id: string, name?: string, avatar?: string | null, country?: string | null, language?: string | null, apiVersion?: number | null }

  export class Bot extends EventEmitter {
    constructor (configuration: { authToken: string, name: string, avatar: string, registerToEvents?: string[] })
    setWebhook (url: string): Promise<{ status: number, status_message: string, event_types?: string[] }>
    getBotProfile (): Promise<Record<string, unknown>>
    sendMessage (user: { id: string }, messages: unknown | unknown[]): Promise<unknown[]>
    middleware (): RequestListener
    onSubscribe (callback: (response: { userProfile: UserProfile }) => void): void
    onUnsubscribe (callback: (userId: string) => void): void
    onTextMessage (pattern: RegExp, callback: (message: { text: string }, response: { userProfile: UserProfile }) => void): void
    onError (callback: (err: unknown) => void): void
  }

  export const Events: Record<string, string>
  export const Message: { Text: new (text: string) => unknown }
  const viber: { Bot: typeof Bot, Events: typeof Events, Message: typeof Message }
  export default viber
}
