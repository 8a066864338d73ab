/**
 * What the mock received: one record per send to any messenger, with what the
 * mock answered, so that tests and people can see what reached "the
 * platforms" (GET /_mock/messages, with filters; DELETE forgets them).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Messenger } from '../src/model/messenger.js'

export interface ReceivedMessage {
  messenger: Messenger
  recipient: string
  /** The text sent; for a WhatsApp template, the template's name. */
  text: string
  /** `template`: a WhatsApp template message; everything else is `text`. */
  type: 'text' | 'template'
  idempotencyKey?: string
  receivedAt: string
  /** What the mock answered: `accepted`, or the error it gave. */
  outcome: string
}

/** What a send was about, as far as the record goes. */
export interface SendSubject {
  recipient: unknown
  text: unknown
  type?: ReceivedMessage['type']
}

export class MessageRecords {
  private records: ReceivedMessage[] = []

  constructor (private readonly max: number) {}

  /** `request` undefined: a message the bot sent otherwise than by a request (Telegram's answer in a webhook's reply). */
  add (messenger: Messenger, request: FastifyRequest | undefined, subject: SendSubject, outcome: string): void {
    const key = request?.headers['idempotency-key']
    this.records.push({
      messenger,
      recipient: String(subject.recipient),
      text: typeof subject.text === 'string' ? subject.text : '',
      type: subject.type ?? 'text',
      ...(typeof key === 'string' && { idempotencyKey: key }),
      receivedAt: new Date().toISOString(),
      outcome
    })
    if (this.records.length > this.max) this.records = this.records.slice(-this.max)
  }

  routes (app: FastifyInstance): void {
    app.get<{ Querystring: { messenger?: string, recipient?: string, outcome?: string } }>('/_mock/messages', async (request) => {
      const { messenger, recipient, outcome } = request.query
      const messages = this.records.filter((r) =>
        (messenger === undefined || r.messenger === messenger) &&
        (recipient === undefined || r.recipient === recipient) &&
        (outcome === undefined || r.outcome === outcome))
      const byRecipient: Record<string, number> = {}
      const byKey: Record<string, number> = {}
      for (const m of messages) {
        const who = `${m.messenger}:${m.recipient}`
        byRecipient[who] = (byRecipient[who] ?? 0) + 1
        if (m.idempotencyKey !== undefined) byKey[m.idempotencyKey] = (byKey[m.idempotencyKey] ?? 0) + 1
      }
      const repeats = Object.fromEntries(Object.entries(byKey).filter(([, n]) => n > 1))
      return { count: messages.length, messages, byRecipient, repeats }
    })

    app.delete('/_mock/messages', async () => {
      this.records = []
      return { ok: true }
    })
  }
}
