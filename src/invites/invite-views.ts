/** Invites and connections as the /v1 API (and the contact.connected event) show them: snake_case, RFC 3339 times. */
import type { Contact } from '../contacts/contact-store.js'
import { iso } from '../deliveries/delivery-views.js'
import type { Connection } from './invite-store.js'

export function connectionView (c: Connection) {
  return { messenger: c.messenger, id: c.id, ...(c.previousId !== undefined && { previous_id: c.previousId }), at: iso(c.at), via: c.via }
}

/** The contact as GET /v1/contacts/{name} shows it: with its connections, when it has any. */
export function contactView (contact: Contact, connections: readonly Connection[]) {
  return connections.length === 0 ? contact : { ...contact, connections: connections.map(connectionView) }
}
