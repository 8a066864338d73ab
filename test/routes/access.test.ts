/**
 * Who may do what, on every route the service documents (the OpenAPI
 * document is the list, so a new route without a case here fails the test):
 *
 *   - no credentials, an unreadable header, a made-up key, a revoked key, a
 *     key under another user's name (Basic): 401 with `WWW-Authenticate`;
 *   - another user's valid key: the victim's ids answer 404 (not 403: ids
 *     cannot be probed), listings show only the caller's own data, a legacy
 *     body naming the victim is a 403, an admin route is a 403;
 *   - the administrator key on a user route, a user key on an admin route: 403
 *     (a route open to both, the admin page, lets either in: 200);
 *   - none of these answers carries the victim's data, and none changed it;
 *   - then the owner's key (or the administrator's) does get through, so the
 *     denials above are about the credentials, not a broken request.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { client, settled, type Answer, type Method } from '../helpers/api.js'
import { ADMIN_KEY, AUTH_ENV, build, eventually } from '../helpers/app.js'
import { startReceiver } from '../helpers/receiver.js'
import { ADMIN, basic, bearer, createUser, issueKey, type TestUser } from '../helpers/auth.js'

type Json = Record<string, any>

/** Strings only the victim's data holds (never in a URL or body the attacker sends). */
const VICTIM_TEXT = 'the victim\'s private text 5b1e'
const VICTIM_PHONE = '+15559870001'
const VICTIM_CHAT = '770001234'
const VICTIM_CONTACT = 'Victim Contact'

interface Fixture {
  victim: TestUser
  /** A second key of the victim: the one the key routes act on, so the victim's main key keeps working. */
  spareKeyId: string
  dispatchId: string
  failedDeliveryId: string
  /** The victim's status webhook endpoint, and one of its attempts. */
  endpointId: string
  attemptId: string
}

/** What the attacker's valid key gets on the route. */
type Against = 'not-found' | 'own-data' | 'forbidden'

interface RouteCase {
  method: Method
  path: string
  /** The URL with the fixture's ids in it. */
  url: (f: Fixture) => string
  body?: (f: Fixture) => Json
  against: Against
  /** What the rightful caller gets, in this table's order (later cases may depend on earlier ones). */
  owner: number
  /** On an own-data route, what another user's key gets when it differs from the owner's status. */
  stranger?: number
  admin?: true
  /** Open to a user's key and the administrator key alike (the admin page): the "wrong role" gets in too. */
  both?: true
}

const victimBody = (f: Fixture, rest: Json = {}) => ({ user_name: f.victim.name, ...rest })

/** Every route, in the order the owner's requests run at the end. */
const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/admin', url: () => '/admin', against: 'own-data', owner: 200, both: true },
  { method: 'GET', path: '/v1/contacts', url: () => '/v1/contacts', against: 'own-data', owner: 200 },
  { method: 'POST', path: '/v1/contacts', url: () => '/v1/contacts', body: () => ({ name: 'Another', telegram: '4242' }), against: 'own-data', owner: 201 },
  { method: 'POST', path: '/v1/contacts/import', url: () => '/v1/contacts/import', body: () => [{ name: 'Imported', telegram: '4343' }], against: 'own-data', owner: 200 },
  { method: 'GET', path: '/v1/contacts/export', url: () => '/v1/contacts/export?format=ndjson', against: 'own-data', owner: 200 },
  { method: 'GET', path: '/v1/contacts/{name}', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}`, against: 'not-found', owner: 200 },
  { method: 'PUT', path: '/v1/contacts/{name}', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}`, body: () => ({ telegram: '1111' }), against: 'not-found', owner: 200 },
  { method: 'PATCH', path: '/v1/contacts/{name}', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}`, body: () => ({ tags: ['x'] }), against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/contacts/{name}/invites', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}/invites`, against: 'not-found', owner: 201 },
  { method: 'POST', path: '/v1/contacts/{name}/health/{messenger}/reset', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}/health/telegram/reset`, against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/dispatches', url: () => '/v1/dispatches', body: () => ({ text: 'hi', contacts: [VICTIM_CONTACT] }), against: 'own-data', owner: 202, stranger: 422 },
  { method: 'GET', path: '/v1/dispatches', url: () => '/v1/dispatches', against: 'own-data', owner: 200 },
  { method: 'GET', path: '/v1/dispatches/{id}', url: (f) => `/v1/dispatches/${f.dispatchId}`, against: 'not-found', owner: 200 },
  // The dispatch is finished: its stream sends the one `finished` event and ends.
  { method: 'GET', path: '/v1/dispatches/{id}/events', url: (f) => `/v1/dispatches/${f.dispatchId}/events`, against: 'not-found', owner: 200 },
  { method: 'GET', path: '/v1/deliveries', url: () => '/v1/deliveries', against: 'own-data', owner: 200 },
  { method: 'GET', path: '/v1/deliveries/{id}', url: (f) => `/v1/deliveries/${f.failedDeliveryId}`, against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/deliveries/lookup', url: () => '/v1/deliveries/lookup', body: (f) => ({ ids: [f.failedDeliveryId] }), against: 'own-data', owner: 200 },
  { method: 'POST', path: '/v1/deliveries/cancel', url: () => '/v1/deliveries/cancel', body: (f) => ({ ids: [f.failedDeliveryId] }), against: 'own-data', owner: 200 },
  { method: 'POST', path: '/v1/deliveries/{id}/cancel', url: (f) => `/v1/deliveries/${f.failedDeliveryId}/cancel`, against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/deliveries/{id}/redrive', url: (f) => `/v1/deliveries/${f.failedDeliveryId}/redrive`, against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/dispatches/{id}/cancel', url: (f) => `/v1/dispatches/${f.dispatchId}/cancel`, against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/dispatches/{id}/redrive', url: (f) => `/v1/dispatches/${f.dispatchId}/redrive`, against: 'not-found', owner: 200 },
  // The dispatch has started (it is finished): an edit is refused with what can still be done; a delete, last, removes it.
  { method: 'PATCH', path: '/v1/dispatches/{id}', url: (f) => `/v1/dispatches/${f.dispatchId}`, body: () => ({ text: 'changed' }), against: 'not-found', owner: 409 },
  { method: 'DELETE', path: '/v1/dispatches/{id}', url: (f) => `/v1/dispatches/${f.dispatchId}`, against: 'not-found', owner: 200 },
  { method: 'GET', path: '/v1/settings', url: () => '/v1/settings', against: 'own-data', owner: 200 },
  { method: 'PATCH', path: '/v1/settings', url: () => '/v1/settings', body: () => ({ skip_unreachable: true }), against: 'own-data', owner: 200 },
  { method: 'GET', path: '/v1/keys', url: () => '/v1/keys', against: 'own-data', owner: 200 },
  { method: 'POST', path: '/v1/keys', url: () => '/v1/keys', body: () => ({ label: 'ci' }), against: 'own-data', owner: 201 },
  { method: 'POST', path: '/v1/keys/{id}/rotate', url: (f) => `/v1/keys/${f.spareKeyId}/rotate`, against: 'not-found', owner: 201 },
  { method: 'DELETE', path: '/v1/keys/{id}', url: (f) => `/v1/keys/${f.spareKeyId}`, against: 'not-found', owner: 200 },
  { method: 'GET', path: '/v1/webhooks', url: () => '/v1/webhooks', against: 'own-data', owner: 200 },
  { method: 'POST', path: '/v1/webhooks', url: () => '/v1/webhooks', body: () => ({ url: 'https://example.com/in', events: ['delivery.sent'] }), against: 'own-data', owner: 201 },
  { method: 'GET', path: '/v1/webhooks/{id}', url: (f) => `/v1/webhooks/${f.endpointId}`, against: 'not-found', owner: 200 },
  { method: 'PATCH', path: '/v1/webhooks/{id}', url: (f) => `/v1/webhooks/${f.endpointId}`, body: () => ({ enabled: true }), against: 'not-found', owner: 200 },
  { method: 'POST', path: '/v1/webhooks/{id}/rotate', url: (f) => `/v1/webhooks/${f.endpointId}/rotate`, against: 'not-found', owner: 201 },
  { method: 'GET', path: '/v1/webhooks/{id}/attempts', url: (f) => `/v1/webhooks/${f.endpointId}/attempts`, against: 'not-found', owner: 200 },
  {
    method: 'POST', path: '/v1/webhooks/{id}/attempts/{attemptId}/retry', url: (f) => `/v1/webhooks/${f.endpointId}/attempts/${f.attemptId}/retry`, against: 'not-found', owner: 202
  },
  { method: 'POST', path: '/v1/webhooks/{id}/test', url: (f) => `/v1/webhooks/${f.endpointId}/test`, against: 'not-found', owner: 202 },
  { method: 'DELETE', path: '/v1/webhooks/{id}', url: (f) => `/v1/webhooks/${f.endpointId}`, against: 'not-found', owner: 204 },
  { method: 'POST', path: '/api/contacts', url: () => '/api/contacts', body: (f) => victimBody(f, { contact: { name: 'Legacy', messangers: { telegram: '5151' } } }), against: 'forbidden', owner: 200 },
  { method: 'GET', path: '/api/contacts', url: () => '/api/contacts', body: (f) => victimBody(f), against: 'forbidden', owner: 200 },
  { method: 'GET', path: '/api/get_failed_mess', url: () => '/api/get_failed_mess', body: (f) => victimBody(f), against: 'forbidden', owner: 200 },
  { method: 'PUT', path: '/api/contacts', url: () => '/api/contacts', body: (f) => victimBody(f, { contacts: [VICTIM_CONTACT], message: 'legacy hi' }), against: 'forbidden', owner: 200 },
  { method: 'DELETE', path: '/api/contacts', url: () => '/api/contacts', body: (f) => victimBody(f, { contact: 'Legacy' }), against: 'forbidden', owner: 200 },
  { method: 'DELETE', path: '/v1/deliveries', url: () => '/v1/deliveries', against: 'own-data', owner: 200 },
  { method: 'DELETE', path: '/v1/contacts/{name}', url: () => `/v1/contacts/${encodeURIComponent(VICTIM_CONTACT)}`, against: 'not-found', owner: 204 },
  { method: 'POST', path: '/v1/admin/users', url: () => '/v1/admin/users', body: () => ({ name: 'newcomer' }), against: 'forbidden', owner: 201, admin: true },
  { method: 'GET', path: '/v1/admin/users', url: () => '/v1/admin/users', against: 'forbidden', owner: 200, admin: true },
  { method: 'GET', path: '/v1/admin/users/{name}', url: (f) => `/v1/admin/users/${f.victim.name}`, against: 'forbidden', owner: 200, admin: true },
  { method: 'POST', path: '/v1/admin/users/{name}/keys', url: (f) => `/v1/admin/users/${f.victim.name}/keys`, body: () => ({}), against: 'forbidden', owner: 201, admin: true },
  { method: 'DELETE', path: '/v1/admin/users/{name}/keys/{id}', url: (f) => `/v1/admin/users/${f.victim.name}/keys/${f.spareKeyId}`, against: 'forbidden', owner: 200, admin: true },
  { method: 'GET', path: '/metrics', url: () => '/metrics', against: 'forbidden', owner: 200, admin: true }
]

/** The route's request, with these headers. */
async function send (app: FastifyInstance, route: RouteCase, f: Fixture, headers: Record<string, string>): Promise<Answer> {
  return await client(app, { headers })(route.method, route.url(f), route.body?.(f))
}

/** The victim's data, as the victim sees it: what no other caller may change. */
async function victimState (app: FastifyInstance, f: Fixture): Promise<Json> {
  const asVictim = client(app, { headers: bearer(f.victim.key) })
  return {
    contacts: (await asVictim('GET', '/v1/contacts')).json(),
    dispatch: (await asVictim('GET', `/v1/dispatches/${f.dispatchId}`)).json(),
    deliveries: (await asVictim('GET', '/v1/deliveries')).json(),
    keys: (await asVictim('GET', '/v1/keys')).json(),
    settings: (await asVictim('GET', '/v1/settings')).json(),
    webhooks: (await asVictim('GET', '/v1/webhooks')).json()
  }
}

t.test('every route: denied without valid credentials of the right user, and nothing of the victim leaks or changes', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })

  const documented = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const routes = Object.entries(documented.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
  t.same(ROUTES.map((r) => `${r.method} ${r.path}`).sort(), routes.filter((r) => r !== 'GET /health' && !r.includes(' /webhooks/')).sort(),
    'the table covers every documented route but /health and the messengers\' webhooks')
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health needs no key (probes)')
  // The webhooks take no API key: their platform signs each body instead (test/routes/webhooks.test.ts), and one without is a 401.
  for (const path of ['/webhooks/whatsapp', '/webhooks/viber']) {
    const res = await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...bearer(ADMIN_KEY) }, payload: '{}' })
    t.equal(res.statusCode, 401, `${path}: not even the administrator key stands in for the platform's signature`)
    t.equal(res.json().error.code, 'INVALID_SIGNATURE')
  }

  const victim = await createUser(app, 'victim')
  const attacker = await createUser(app, 'attacker')
  const spare = await issueKey(app, victim.key, 'spare')
  const revoked = await issueKey(app, attacker.key)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/keys/${revoked.id}`, headers: bearer(attacker.key) })).statusCode, 200)

  // The victim's data: a contact on Telegram and WhatsApp, and a dispatch with one sent and one failed delivery.
  const asVictim = client(app, { headers: bearer(victim.key) })
  t.equal((await asVictim('POST', '/v1/contacts', { name: VICTIM_CONTACT, telegram: VICTIM_CHAT, whatsapp: VICTIM_PHONE })).statusCode, 201)
  const accepted = await asVictim('POST', '/v1/dispatches', { text: VICTIM_TEXT, contacts: [VICTIM_CONTACT], addresses: [{ messenger: 'viber', address: 'victim-viber-id' }] })
  t.equal(accepted.statusCode, 202, accepted.body)
  const dispatchId = accepted.json().id as string
  await settled(asVictim, dispatchId)
  const failed = (await asVictim('GET', '/v1/deliveries?state=failed')).json().deliveries as Json[]
  t.equal(failed.length, 1, 'the Viber delivery failed (the mock\'s Viber always fails)')
  // A status webhook endpoint of the victim's, with one attempt (a test event to a receiver of this test).
  const receiver = await startReceiver(t)
  const endpointId = (await asVictim('POST', '/v1/webhooks', { url: `${receiver.url}/victim`, events: ['delivery.sent'] }, { expectStatus: 201 })).json().id as string
  await asVictim('POST', `/v1/webhooks/${endpointId}/test`, undefined, { expectStatus: 202 })
  const attempt = await eventually(async () => (await asVictim('GET', `/v1/webhooks/${endpointId}/attempts`)).json().attempts[0] as Json | undefined, 'the test event\'s attempt')
  const fixture: Fixture = { victim, spareKeyId: spare.id, dispatchId, failedDeliveryId: failed[0]!.id, endpointId, attemptId: attempt.id }
  const before = await victimState(app, fixture)

  const madeUp = `fo_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`
  const unauthenticated: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['an unknown scheme', { authorization: `Token ${attacker.key}` }],
    ['Bearer without a key', { authorization: 'Bearer' }],
    ['Basic that is not user:key', { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }],
    ['a made-up key', bearer(madeUp)],
    ['a key with its last character changed', bearer(victim.key.slice(0, -1) + (victim.key.endsWith('A') ? 'B' : 'A'))],
    ['a revoked key', bearer(revoked.key)],
    ['Basic: the victim\'s name with the attacker\'s key', basic(victim.name, attacker.key)],
    ['Basic: the right name, a made-up key', basic(victim.name, madeUp)],
    ['the X-User-Name header alone (AUTH is on)', { 'x-user-name': victim.name }]
  ]

  let checks = 0
  for (const route of ROUTES) {
    const name = `${route.method} ${route.path}`
    for (const [what, headers] of unauthenticated) {
      const res = await send(app, route, fixture, headers)
      t.equal(res.statusCode, 401, `${name}, ${what}: 401`)
      t.match(res.headers['www-authenticate'], /^Basic realm="messenger-fanout", charset="UTF-8", Bearer realm=/, `${name}, ${what}: WWW-Authenticate`)
      t.equal(res.json().error.code, 'UNAUTHENTICATED')
      // Every key the rows send (the victim's as a prefix: the mistyped one shares all but its last character),
      // and the credential as sent (Basic's base64 included), wherever it is long enough to carry a key.
      const sent = headers.authorization?.split(' ')[1] ?? ''
      const echoed = [attacker.key, madeUp, revoked.key, victim.key.slice(0, -1), ...(sent.length >= 20 ? [sent] : [])]
        .filter((key) => res.body.includes(key))
      t.same(echoed, [], `${name}, ${what}: the key is not echoed`)
      checks++
    }

    const wrongRole = route.admin === true ? bearer(victim.key) : ADMIN
    const refused = await send(app, route, fixture, wrongRole)
    if (route.both === true) {
      t.equal(refused.statusCode, 200, `${name}: open to users and the administrator: the administrator key gets in`)
    } else {
      t.equal(refused.statusCode, 403, `${name}: ${route.admin === true ? 'a user key on an admin route' : 'the administrator key on a user route'}: 403`)
    }
    checks++

    const res = await send(app, route, fixture, bearer(attacker.key))
    // On the collection routes the victim's key ids are data too (the key routes' own 404s name the id asked for).
    const keyIds = route.against === 'own-data' ? [victim.keyId, spare.id] : []
    const leaked = [VICTIM_TEXT, VICTIM_PHONE, VICTIM_CHAT, ...keyIds].filter((marker) => res.body.includes(marker))
    t.same(leaked, [], `${name}, another user's key: none of the victim's data in the answer`)
    if (route.against === 'not-found') {
      t.equal(res.statusCode, 404, `${name}, another user's key: 404, as if the id did not exist`)
    } else if (route.against === 'forbidden') {
      t.equal(res.statusCode, 403, `${name}, another user's key: 403`)
      if (route.admin !== true) t.match(res.json().error, { code: 'FORBIDDEN', details: [{ field: 'user_name' }] }, `${name}: names user_name`)
    } else if (route.both === true) {
      t.equal(res.statusCode, 200, `${name}, another user's key: 200, with the caller's own data only`)
    } else {
      t.equal(res.statusCode, route.stranger ?? route.owner, `${name}, another user's key: the caller's own data`)
    }
    checks++
  }
  t.same(await victimState(app, fixture), before, 'the victim\'s contacts, dispatch, deliveries and keys are as they were')
  t.comment(`${checks} denied requests over ${ROUTES.length} routes`)

  // Mismatched names with the caller's own key: 403 naming the field.
  const mismatch = await client(app, { user: victim.name, headers: bearer(attacker.key) })('GET', '/v1/contacts')
  t.match(mismatch, { statusCode: 403 })
  t.match(mismatch.json().error, { code: 'FORBIDDEN', details: [{ field: 'x-user-name' }] })
  t.equal((await client(app, { user: attacker.name, headers: bearer(attacker.key) })('GET', '/v1/contacts')).statusCode, 200,
    'X-User-Name naming the key\'s owner is fine')

  const viaBasic = await client(app, { headers: basic(victim.name, victim.key) })('GET', `/v1/dispatches/${dispatchId}`)
  t.equal(viaBasic.statusCode, 200, 'Basic with user_name:key works as Bearer does')
  t.equal(viaBasic.json().text, VICTIM_TEXT)

  for (const route of ROUTES) {
    const res = await send(app, route, fixture, route.admin === true ? ADMIN : bearer(victim.key))
    t.equal(res.statusCode, route.owner, `${route.method} ${route.path}: the ${route.admin === true ? 'administrator' : 'owner'} gets ${route.owner} (${res.body.slice(0, 200)})`)
  }
})
