/**
 * The faults the behaviour knobs inject, the same way on every messenger:
 * outages and latency before a request is looked at, then throttling,
 * transient failures and garbage answers, each in the messenger's own manner.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MESSENGERS, type Messenger } from '../src/model/messenger.js'
import type { Behaviour } from './behaviour.js'
import type { MessageRecords, SendSubject } from './records.js'

/** How each messenger says "too many requests". */
const THROTTLE: Record<Messenger, (reply: FastifyReply, retryAfterSeconds: number) => FastifyReply> = {
  // Telegram says it twice: in the body and as an HTTP Retry-After header.
  telegram: (reply, retryAfter) => reply.status(429).header('retry-after', String(retryAfter)).send({
    ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter }
  }),
  whatsapp: (reply) => reply.status(429).send({
    error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429, error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' }, fbtrace_id: randomBytes(8).toString('hex') }
  }),
  viber: (reply) => reply.send({ status: 12, status_message: 'tooManyRequests', chat_hostname: 'SN-CHAT-01_' })
}

export interface Faults {
  /**
   * Before the messenger looks at a request: outages and latency. Returns true
   * when the request is taken care of (reset, or left hanging until the client gives up).
   */
  arrive (messenger: Messenger, request: FastifyRequest, reply: FastifyReply): Promise<boolean>
  /**
   * After the token check: throttling, transient failures and garbage, each in
   * the messenger's own manner. Returns true when it answered.
   */
  interfere (messenger: Messenger, request: FastifyRequest, reply: FastifyReply, subject: SendSubject): boolean
}

export function createFaults (behaviour: Record<Messenger, Behaviour>, records: MessageRecords): Faults {
  const windows = Object.fromEntries(MESSENGERS.map((m) => [m, { start: 0, count: 0 }])) as Record<Messenger, { start: number, count: number }>

  return {
    async arrive (messenger, request, reply) {
      const b = behaviour[messenger]
      if (b.outage !== 'none') {
        reply.hijack()
        const socket = request.raw.socket
        if (b.outage === 'refuse') socket.destroy()
        else await new Promise((resolve) => socket.once('close', resolve))
        return true
      }
      const [min, max] = b.latencyMs
      if (max > 0) await sleep(min + Math.random() * Math.max(0, max - min))
      return false
    },

    interfere (messenger, request, reply, subject) {
      const b = behaviour[messenger]
      if (b.ratePerSecond > 0) {
        const window = windows[messenger]
        const now = Date.now()
        if (now - window.start >= 1000) Object.assign(window, { start: now, count: 0 })
        if (window.count >= b.ratePerSecond) {
          const retryAfter = Math.max(1, Math.ceil((window.start + 1000 - now) / 1000))
          records.add(messenger, request, subject, 'throttled')
          THROTTLE[messenger](reply, retryAfter)
          return true
        }
        window.count += 1
      }
      if (b.failNext > 0 || (b.errorRate > 0 && Math.random() < b.errorRate)) {
        if (b.failNext > 0) b.failNext -= 1
        records.add(messenger, request, subject, `HTTP ${b.errorStatus}`)
        reply.status(b.errorStatus).type('text/plain').send('Service Unavailable')
        return true
      }
      if (b.garbage !== 'none') {
        records.add(messenger, request, subject, `garbage ${b.garbage}`)
        reply.type('application/json').send(b.garbage === 'invalid-json' ? '{"ok": tru' : '{"result": "maybe"}')
        return true
      }
      return false
    }
  }
}
