/**
 * POST /v1/deliveries/lookup and POST /v1/deliveries/cancel: status and
 * cancel of lists of delivery ids, as another origin system asked them, each
 * id answered; another user's ids exactly as unknown ones, whether that user's
 * data lives in another slot (a Redis Cluster: another node, maybe) or in the
 * same one; at most 1,000. Runs on a Cluster with TEST_REDIS_TARGET=cluster.
 */
import t from 'tap'
import { addContacts, client, dispatch, settled } from '../helpers/api.js'
import { AUTH_ENV, build } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'
import { dispatchIdOf } from '../helpers/ids.js'
import calculateSlot from 'cluster-key-slot'
import { slotOfUser } from '../../src/redis-keys.js'

/** A user name whose data shares `user`'s slot (slots are 4 hex digits of a SHA-1: a few ten thousand tries). */
function sameSlotAs (user: string): string {
  const slot = slotOfUser(user)
  for (let i = 0; ; i++) if (slotOfUser(`neighbour${i}`) === slot) return `neighbour${i}`
}

/** The third of Redis Cluster's 16,384 hash slots a user's data is in: a three-master cluster (redis-cli --cluster create) serves each on another master. */
const thirdOf = (user: string) => Math.floor(calculateSlot(`{${slotOfUser(user)}}`) * 3 / 16384)

/** A user name whose data is on another master than `user`'s on a three-master cluster. */
function farFrom (user: string): string {
  for (let i = 0; ; i++) if (thirdOf(`bob${i}`) !== thirdOf(user)) return `bob${i}`
}

type Json = Record<string, any>

t.test('lookup and cancel by ids', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  const bob = await createUser(app, farFrom('alice'))
  const neighbour = await createUser(app, sameSlotAs('alice'))
  const asAlice = client(app, { headers: bearer(alice.key) })
  const asBob = client(app, { headers: bearer(bob.key) })
  const asNeighbour = client(app, { headers: bearer(neighbour.key) })
  await addContacts(asAlice, [{ name: 'Lera', telegram: '42', viber: 'lera-viber' }])
  await addContacts(asBob, [{ name: 'Bob\'s', telegram: '43' }])
  await addContacts(asNeighbour, [{ name: 'Next door', telegram: '44' }])
  const now = await dispatch(asAlice, { text: 'now', contacts: ['Lera'] })
  await settled(asAlice, now.id)
  const later = await dispatch(asAlice, { text: 'later', contacts: ['Lera'], send_at: '2099-01-01T00:00:00Z' })
  const bobs = await dispatch(asBob, { text: 'bob\'s secret', contacts: ['Bob\'s'], send_at: '2099-01-01T00:00:00Z' })
  const theirs = await dispatch(asNeighbour, { text: 'next door secret', contacts: ['Next door'], send_at: '2099-01-01T00:00:00Z' })
  const sent = `${now.id}.00000`
  const failed = `${now.id}.00001`
  const scheduled = `${later.id}.00000`
  const bobsDelivery = `${bobs.id}.00000`
  const neighbours = `${theirs.id}.00000`
  // Well formed, in alice's slot, never made.
  const never = `${dispatchIdOf('alice')}.00000`

  t.test('the ids: alice\'s and her neighbour\'s share a slot, bob\'s is on another master of a cluster', async (t) => {
    t.equal(theirs.id.slice(-4), now.id.slice(-4))
    t.not(thirdOf(bob.name), thirdOf('alice'))
  })

  t.test('lookup: every id answered, in the order asked, repeats once', async (t) => {
    const res = await asAlice('POST', '/v1/deliveries/lookup', { ids: [scheduled, failed, never, bobsDelivery, neighbours, sent, failed] }, { expectStatus: 200 })
    const body = res.json()
    t.same(body.deliveries.map((d: Json) => [d.id, d.state]), [[scheduled, 'scheduled'], [failed, 'failed'], [sent, 'sent']])
    t.same(body.deliveries[1], (await asAlice('GET', `/v1/deliveries/${failed}`)).json(), 'each as GET /v1/deliveries/{id} shows it')
    t.same(body.unknown, [never, bobsDelivery, neighbours], 'another user\'s ids, of another slot or of the same, are listed with the unknown ones')
    t.notMatch(res.body, /secret|"43"|"44"/, 'and nothing of them shows')
    const theirLookup = await asNeighbour('POST', '/v1/deliveries/lookup', { ids: [neighbours, sent] }, { expectStatus: 200 })
    t.same([theirLookup.json().deliveries.map((d: Json) => d.id), theirLookup.json().unknown], [[neighbours], [sent]], 'and the other way round')
  })

  t.test('cancel: what was pending is cancelled, the rest reported per id', async (t) => {
    const res = await asAlice('POST', '/v1/deliveries/cancel', { ids: [scheduled, sent, bobsDelivery, neighbours, never] }, { expectStatus: 200 })
    t.same(res.json(), { cancelled: [scheduled], in_flight: [], already_finished: [{ id: sent, state: 'sent' }], unknown: [bobsDelivery, neighbours, never] })
    t.equal((await asBob('GET', `/v1/deliveries/${bobsDelivery}`)).json().state, 'scheduled', 'another user\'s delivery is untouched')
    t.equal((await asNeighbour('GET', `/v1/deliveries/${neighbours}`)).json().state, 'scheduled', 'and so is the one of the same slot')
    t.equal((await asAlice('GET', `/v1/deliveries/${scheduled}`)).json().state, 'cancelled')
  })

  t.test('bounded lists, checked ids', async (t) => {
    const many = Array.from({ length: 1001 }, (_, i) => `${later.id}.${String(i).padStart(5, '0')}`)
    for (const route of ['lookup', 'cancel']) {
      const tooMany = await asAlice('POST', `/v1/deliveries/${route}`, { ids: many })
      t.equal(tooMany.statusCode, 400, `${route}: 1,001 ids are a 400`)
      t.match(tooMany.json().error.details, [{ field: 'ids' }])
      t.equal((await asAlice('POST', `/v1/deliveries/${route}`, { ids: many.slice(0, 1000) })).statusCode, 200, `${route}: 1,000 are fine`)
      t.equal((await asAlice('POST', `/v1/deliveries/${route}`, { ids: [] })).statusCode, 400, `${route}: none is a 400`)
      t.match((await asAlice('POST', `/v1/deliveries/${route}`, { ids: ['nope'] })).json().error.details, [{ field: 'ids[0]' }], `${route}: a malformed id is named`)
    }
  })
})
