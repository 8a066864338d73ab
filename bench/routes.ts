/**
 * The HTTP calls the benchmarks make to the service, in one place.
 *
 * Every scenario goes through `ROUTES`, which uses the /v1 API; switching a
 * scenario's line to `legacy.x` measures the legacy API instead.
 */

/** One request, as autocannon and undici both take it. */
export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT'
  path: string
  headers: Record<string, string>
  body?: string
}

/** A contact with an id on every messenger, the same for every benchmark. */
export interface BenchContact {
  name: string
  telegram: string
  whatsapp: string
  viber: string
}

export interface SendOptions {
  user: string
  contacts: readonly string[]
  text: string
  /** Not before this time; absent: now. */
  sendAt?: Date
}

export interface SendRoute {
  call (options: SendOptions): ApiCall
  /** How many deliveries the service says it created, from its answer. */
  deliveries (answer: Record<string, unknown>): number
}

export interface RouteSet {
  createContact (user: string, contact: BenchContact): ApiCall
  listContacts (user: string): ApiCall
  send: SendRoute
}

/** Contact number `i`: valid ids on all three messengers, unique per `i` (up to 7,999,999). */
export function benchContact (i: number): BenchContact {
  return { name: `contact-${i}`, telegram: String(1_000_000 + i), whatsapp: `+1555${2_000_000 + i}`, viber: `viber-${i}` }
}

/** A new object each time: autocannon writes content-length into the headers it is given. */
const jsonHeaders = (more: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...more })

/** A time as the legacy API's `[Y, M, D, h, m, s]`, read in the service's TIME_ZONE (the benchmarks leave it at UTC). */
function legacyTime (date: Date): number[] {
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
}

/** The legacy API under /api (docs/api.md, "The legacy API"). */
export const legacy: RouteSet = {
  createContact: (user, c) => ({
    method: 'POST',
    path: '/api/contacts',
    headers: jsonHeaders(),
    body: JSON.stringify({ user_name: user, contact: { name: c.name, messangers: { telegram: c.telegram, whatsApp: c.whatsapp, viber: c.viber } } })
  }),
  listContacts: (user) => ({ method: 'GET', path: `/api/contacts?user_name=${encodeURIComponent(user)}`, headers: {} }),
  send: {
    call: ({ user, contacts, text, sendAt }) => ({
      method: 'PUT',
      path: '/api/contacts',
      headers: jsonHeaders(),
      body: JSON.stringify({ user_name: user, contacts, message: text, ...(sendAt !== undefined && { time: legacyTime(sendAt) }) })
    }),
    deliveries: (answer) => Number(answer.deliveries)
  }
}

/** The /v1 API (docs/api.md, "The /v1 API"): the user in the X-User-Name header. */
export const v1: RouteSet = {
  createContact: (user, c) => ({
    method: 'POST',
    path: '/v1/contacts',
    headers: jsonHeaders({ 'x-user-name': user }),
    body: JSON.stringify({ name: c.name, telegram: c.telegram, whatsapp: c.whatsapp, viber: c.viber })
  }),
  listContacts: (user) => ({ method: 'GET', path: '/v1/contacts', headers: { 'x-user-name': user } }),
  send: {
    call: ({ user, contacts, text, sendAt }) => ({
      method: 'POST',
      path: '/v1/dispatches',
      headers: jsonHeaders({ 'x-user-name': user }),
      body: JSON.stringify({ contacts, text, ...(sendAt !== undefined && { send_at: sendAt.toISOString() }) })
    }),
    deliveries: (answer) => Number(answer.deliveries)
  }
}

/** The route each scenario uses: one line each to switch to /v1. */
export const ROUTES: RouteSet = {
  createContact: v1.createContact,
  listContacts: v1.listContacts,
  send: v1.send
}
