/**
 * What follows a connection by invite, in one place: whatever must change
 * once an address became a contact's goes here.
 */
import type { FastifyInstance } from 'fastify'
import type { Contact } from '../contacts/contact-store.js'
import type { Messenger } from '../model/messenger.js'

/**
 * Called once `address` on `messenger` became the contact's by invite (the
 * contact is as it is now, its history included).
 */
export async function onContactConnected (fastify: FastifyInstance, user: string, contact: Contact, messenger: Messenger, address: string): Promise<void> {
  // The person just reached the bot from this address: whatever failure said it was dead is over.
  await fastify.addressFacts.clearHealth(messenger, address)
  fastify.log.info({ user, contact: contact.name, messenger, address }, 'contact connected by invite')
}
