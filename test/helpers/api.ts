/**
 * The service as its clients use it, for every test: `client` sends requests
 * (in process through `app.inject`, or over HTTP to a running service) as a
 * user, with the header AUTH=off reads or with credentials; the requests tests
 * repeat (contacts, dispatches, legacy sends) check the status they expect;
 * `listPages`/`listAll` walk any listing by its `next_cursor`; `settled` and
 * `finished` wait, through `eventually`, for a dispatch or a delivery to end.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Static } from 'typebox'
import { deliveryId, type Delivery } from '../../src/model/delivery.js'
import type { NewContactBody } from '../../src/schemas/contacts.js'
import type { Delivery as DeliverySchema, Dispatch, DispatchAccepted, NewDispatchBody } from '../../src/schemas/dispatches.js'
import type { LegacyMessengers, SendAnswer } from '../../src/schemas/legacy.js'
import { eventually } from './app.js'

/** The HTTP methods the service's routes take. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
/** Request headers by lower-case name. */
export type RequestHeaders = Record<string, string>

/** A delivery as /v1/deliveries answers it (not the store's record, `Delivery`). */
export type ApiDelivery = Static<typeof DeliverySchema>

/** An answer, alike whether it came through `inject` or over HTTP. */
export type Answer = Pick<LightMyRequestResponse, 'statusCode' | 'headers' | 'body' | 'json'>

/** What one request may add: its own headers, and the status it must answer. */
export interface RequestOptions {
  /** Headers of this request only, over the client's own. */
  headers?: RequestHeaders
  /** The status the caller needs: any other throws, naming the request, both statuses and the body. */
  expectStatus?: number
}

/** Sends one request; an object payload goes as JSON, a string as it is (with the content type it is given). */
export type Client = (method: Method, url: string, payload?: object | string, options?: RequestOptions) => Promise<Answer>

/** Who a client is: the user it names, its credentials, and who sees its answers. */
export interface ClientOptions {
  /** The user named in X-User-Name, as AUTH=off takes it (absent: no header; '' sends an empty one). */
  user?: string
  /** Headers of every request: credentials (`bearer(key)`, `basic(name, key)`, `ADMIN`) and the like. */
  headers?: RequestHeaders
  /** Sees every answer (to look through them all afterwards). */
  onAnswer?: (answer: Answer) => void
}

/** A client of `target`: the app in this process (through `inject`), or the base URL of a running service (over HTTP). */
export function client (target: FastifyInstance | string, options: ClientOptions = {}): Client {
  const own: RequestHeaders = { ...(options.user !== undefined && { 'x-user-name': options.user }), ...options.headers }
  return async (method, url, payload, { headers, expectStatus } = {}) => {
    const all = { ...own, ...headers }
    const answer = typeof target === 'string'
      ? await overHttp(target, method, url, all, payload)
      : await target.inject({ method, url, headers: all, ...(payload !== undefined && { payload: payload as InjectOptions['payload'] }) })
    options.onAnswer?.(answer)
    if (expectStatus !== undefined && answer.statusCode !== expectStatus) {
      throw new Error(`${method} ${url}: expected ${expectStatus}, got ${answer.statusCode}: ${answer.body}`)
    }
    return answer
  }
}

/** One request with fetch, shaped as `inject` would have sent and answered it. */
async function overHttp (base: string, method: Method, url: string, headers: RequestHeaders, payload?: object | string): Promise<Answer> {
  const json = payload !== undefined && typeof payload !== 'string'
  const res = await fetch(base + url, {
    method,
    headers: { ...(json && { 'content-type': 'application/json' }), ...headers },
    ...(payload !== undefined && { body: json ? JSON.stringify(payload) : payload })
  })
  const body = await res.text()
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: () => JSON.parse(body) }
}

/** Adds each contact through POST /v1/contacts, which must answer 201 for every one. */
export async function addContacts (api: Client, contacts: ReadonlyArray<Static<typeof NewContactBody>>): Promise<void> {
  for (const contact of contacts) await api('POST', '/v1/contacts', contact, { expectStatus: 201 })
}

/** Sends through POST /v1/dispatches, which must answer 202; returns the answer. */
export async function dispatch (api: Client, body: Static<typeof NewDispatchBody>): Promise<Static<typeof DispatchAccepted>> {
  return (await api('POST', '/v1/dispatches', body, { expectStatus: 202 })).json()
}

/**
 * Waits, through GET /v1/dispatches/:id (which must answer 200), until the dispatch is finished; returns it.
 * A 503 (the store slower than its command timeout on a busy machine) is asked again, as a client would.
 */
export async function settled (api: Client, id: string, timeoutMs?: number): Promise<Static<typeof Dispatch>> {
  return await eventually(async () => {
    const answer = await api('GET', `/v1/dispatches/${id}`)
    if (answer.statusCode === 503) return undefined
    if (answer.statusCode !== 200) throw new Error(`GET /v1/dispatches/${id}: expected 200, got ${answer.statusCode}: ${answer.body}`)
    const found = answer.json<Static<typeof Dispatch>>()
    return found.status === 'finished' ? found : undefined
  }, `dispatch ${id} to finish`, timeoutMs)
}

const MAX_PAGES = 10_000

/** What a walk over a listing's pages may do besides reading them. */
export interface WalkOptions<T> {
  /** Runs after each page arrives and before the next is asked for (a test that changes the data mid-walk). */
  onPage?: (items: T[], index: number) => Promise<void> | void
}

/**
 * Walks a listing as a client does: GET `url` with `limit`, then with `cursor`
 * set to the answer's `next_cursor`, until an answer has none. Every page must
 * answer 200, hold its items in the array `field` and at most `limit` of them.
 * Returns the pages in order (one request each).
 */
export async function listPages<T> (api: Client, url: string, field: string, limit: number, options: WalkOptions<T> = {}): Promise<T[][]> {
  const pages: T[][] = []
  let cursor: string | undefined
  do {
    if (pages.length === MAX_PAGES) throw new Error(`${url}: still a next_cursor after ${MAX_PAGES} pages`)
    const page = `${url}${url.includes('?') ? '&' : '?'}limit=${limit}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const body = (await api('GET', page, undefined, { expectStatus: 200 })).json<Record<string, unknown>>()
    const items = body[field]
    const next = body.next_cursor
    if (!Array.isArray(items)) throw new Error(`GET ${page}: no list "${field}" in ${JSON.stringify(body)}`)
    if (items.length > limit) throw new Error(`GET ${page}: a page of ${items.length}, limit ${limit}`)
    if (next !== undefined && typeof next !== 'string') throw new Error(`GET ${page}: next_cursor ${JSON.stringify(next)} is not a string`)
    pages.push(items)
    await options.onPage?.(items, pages.length - 1)
    cursor = next
  } while (cursor !== undefined)
  return pages
}

/** Every item of a listing, in order: the pages of `listPages`, one after the other. */
export async function listAll<T> (api: Client, url: string, field: string, limit: number, options: WalkOptions<T> = {}): Promise<T[]> {
  return (await listPages(api, url, field, limit, options)).flat()
}

/** Adds (or replaces) a contact of `user` through the legacy POST /api/contacts, which must answer 200. */
export async function legacyAddContact (api: Client, user: string, name: string, messangers: Static<typeof LegacyMessengers>): Promise<void> {
  await api('POST', '/api/contacts', { user_name: user, contact: { name, messangers } }, { expectStatus: 200 })
}

/** Adds contacts c0..c{count-1} to `user`'s book through the legacy API, with the ids `ids(i)`; returns their names. */
export async function legacyContacts (api: Client, user: string, count: number, ids: (i: number) => Static<typeof LegacyMessengers>): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `c${i}`)
  for (const [i, name] of names.entries()) await legacyAddContact(api, user, name, ids(i))
  return names
}

/**
 * Sends through the legacy PUT /api/contacts, which must answer 200 and make a
 * dispatch (a send to nobody known answers 200 too, with no dispatch_id).
 */
export async function legacySend (api: Client, user: string, contacts: string[], message: string, time?: number[]): Promise<Static<typeof SendAnswer> & { dispatch_id: string }> {
  const answer = (await api('PUT', '/api/contacts', { user_name: user, contacts, message, ...(time !== undefined && { time }) }, { expectStatus: 200 }))
    .json<Static<typeof SendAnswer>>()
  if (answer.dispatch_id === undefined) throw new Error(`PUT /api/contacts made no dispatch: ${JSON.stringify(answer)}`)
  return { ...answer, dispatch_id: answer.dispatch_id }
}

/**
 * The dispatch's first `count` delivery records, from the app's store. Throws
 * when one of them does not exist: a send that made fewer would otherwise pass
 * every `.every(...)` a test asks of the list (an empty list passes any).
 */
export async function storedDeliveries (app: FastifyInstance, dispatchId: string, count: number): Promise<Delivery[]> {
  const found = await Promise.all(Array.from({ length: count }, (_, i) => app.deliveries.get(deliveryId(dispatchId, i))))
  const missing = found.flatMap((d, i) => d === undefined ? [deliveryId(dispatchId, i)] : [])
  if (missing.length > 0) throw new Error(`no such deliveries: ${missing.join(', ')} (the send made fewer than ${count})`)
  return found as Delivery[]
}

/** Waits until the delivery's record, in the app's store, has left scheduled, queued and sending; returns it. */
export async function finished (app: FastifyInstance, id: string, timeoutMs?: number): Promise<Delivery> {
  return await eventually(async () => {
    const d = await app.deliveries.get(id)
    return d !== undefined && !['scheduled', 'queued', 'sending'].includes(d.state) && d
  }, `delivery ${id} to finish`, timeoutMs)
}
