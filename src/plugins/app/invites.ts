/**
 * Invite links (`fastify.invites`): issuing a contact's tokens, connecting
 * the address a person answers a link from, and the short texts sent back
 * to that person on WhatsApp and Viber (Telegram's answer rides on the
 * webhook's own reply). The texts go through clients of their own, with two
 * connections each, so they never wait behind the send queues.
 */
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { ContactPatch } from '../../contacts/contact-store.js'
import { operatorOf } from '../../contacts/operator.js'
import { inviteLink, missingSetting, whatsappCode, type InviteLinkSettings } from '../../invites/invite-links.js'
import { createInviteStore, type InviteStore } from '../../invites/invite-store.js'
import { contactHealth } from '../../contacts/contact-health.js'
import { contactView } from '../../invites/invite-views.js'
import { createViberAdapter } from '../../messengers/viber.js'
import { createWhatsAppAdapter } from '../../messengers/whatsapp.js'
import { MESSENGERS, normalizeAddress, type Messenger } from '../../model/messenger.js'

export type ConnectOutcome =
  | { connected: true, user: string, contact: string, previousId?: string }
  /** `invalid_token`: never issued, used, expired or another messenger's; `contact_deleted`; `invalid_address`: not an address of that messenger. */
  | { connected: false, reason: 'invalid_token' | 'contact_deleted' | 'invalid_address' }

export interface IssuedLinks {
  expiresAt: number
  links: Partial<Record<Messenger, { url: string, token: string, code?: string }>>
  unavailable: Array<{ messenger: Messenger, reason: string }>
}

export interface Invites {
  store: InviteStore
  /** New links for the user's contact (which the caller knows exists). */
  issue (user: string, contact: string): Promise<IssuedLinks>
  /** A person answered a link from `address`: the token is taken, and the address becomes the contact's. */
  connect (messenger: Messenger, token: string, address: string, now?: number): Promise<ConnectOutcome>
  /** A short text to the person (WhatsApp: they just wrote, so the window is open); a failure is logged, never thrown. */
  reply (messenger: 'whatsapp' | 'viber', address: string, text: string): Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    invites: Invites
  }
}

export default fp(async function invites (fastify) {
  const { config } = fastify
  const store = createInviteStore(fastify.redis, fastify.redisKeys)
  const settings: InviteLinkSettings = {
    telegramBot: config.messengers.telegram.botUsername,
    viberChatUri: config.messengers.viber.chatUri,
    whatsappNumber: config.messengers.whatsapp.businessNumber
  }
  const http = { connections: 2, timeoutMs: config.delivery.sendTimeoutMs }
  const repliers = {
    whatsapp: createWhatsAppAdapter({ ...config.messengers.whatsapp, ...http }),
    viber: createViberAdapter({ ...config.messengers.viber, ...http })
  }
  fastify.addHook('onClose', async () => {
    await Promise.all([repliers.whatsapp.close(), repliers.viber.close()])
  })

  const service: Invites = {
    store,

    async issue (user, contact) {
      const unavailable = MESSENGERS.flatMap((messenger) => {
        const reason = missingSetting(messenger, settings)
        return reason === undefined ? [] : [{ messenger, reason }]
      })
      const usable = MESSENGERS.filter((m) => !unavailable.some((u) => u.messenger === m))
      const { tokens, expiresAt } = await store.issue(user, contact, usable, config.invites.ttlSeconds)
      const links: IssuedLinks['links'] = {}
      for (const messenger of usable) {
        const token = tokens[messenger]!
        links[messenger] = { url: inviteLink(messenger, token, settings), token, ...(messenger === 'whatsapp' && { code: whatsappCode(token) }) }
      }
      return { expiresAt, links, unavailable }
    },

    async connect (messenger, token, raw, now = Date.now()) {
      const checked = normalizeAddress(messenger, raw)
      if (!checked.ok) return { connected: false, reason: 'invalid_address' }
      const address = checked.address
      const invite = await store.take(messenger, token)
      if (invite === undefined) return { connected: false, reason: 'invalid_token' }
      const { user, contact: name } = invite
      const before = await fastify.contacts.get(user, name)
      if (before === undefined) return { connected: false, reason: 'contact_deleted' }
      const changes: ContactPatch = { [messenger]: address }
      // As a PATCH of the number does: the operator is the new number's (or none), not the old one's.
      if (messenger === 'whatsapp' && before.whatsapp !== address) changes.operator = await operatorOf(address) ?? null
      const after = await fastify.contacts.patch(user, name, changes)
      if (after === undefined) return { connected: false, reason: 'contact_deleted' }
      const old = before[messenger]
      const previousId = old !== undefined && old !== address ? old : undefined
      await store.addConnection(user, name, { messenger, id: address, ...(previousId !== undefined && { previousId }), at: now, via: 'invite' })
      // The person just reached the bot from this address: whatever failure said it was dead is over.
      await fastify.addressFacts.clearHealth(messenger, address)
      // The contact as GET /v1/contacts/{name} shows it now: its connections, and its addresses' health.
      const shown = { ...contactView(after, await store.connections(user, name)), health: await contactHealth(fastify.addressFacts, after) }
      await store.recordEvent(user, 'contact.connected', name, now, {
        contact: shown, messenger, id: address, ...(previousId !== undefined && { previous_id: previousId })
      })
      return { connected: true, user, contact: name, ...(previousId !== undefined && { previousId }) }
    },

    async reply (messenger, address, text) {
      const outcome = await repliers[messenger].send({
        address,
        text,
        idempotencyKey: `invite-reply-${randomUUID()}`,
        ...(messenger === 'whatsapp' && { whatsapp: { window: 'open' as const } })
      })
      if (outcome.result === 'accepted') return true
      fastify.log.warn({ messenger, error: outcome.error }, 'the answer to an invite could not be sent')
      return false
    }
  }
  fastify.decorate('invites', service)
}, { name: 'invites', dependencies: ['config', 'redis', 'contacts'] })
