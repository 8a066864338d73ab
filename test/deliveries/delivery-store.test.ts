/**
 * Delivery records against a real Redis: guarded state changes (one terminal
 * state, ever), counts per state on the dispatch, retention, the failed
 * index and the outbox.
 */
import t from 'tap'
import type { Test } from 'tap'
import { createDeliveryStore, type DeliveryStore } from '../../src/deliveries/delivery-store.js'
import { deliveryId, TERMINAL_STATES, type NewDelivery } from '../../src/deliveries/delivery.js'
import { redisKeys } from '../../src/redis-keys.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const LEGS: NewDelivery[] = [
  { contact: 'Artem', messenger: 'telegram', address: '@ArtemZaitsev' },
  { contact: 'Artem', messenger: 'whatsapp', address: '+799200828615' },
  { contact: 'Lera', messenger: 'viber', address: 'lera-viber-id' }
]
const RETENTION = 3600

async function setup (t: Test, sendAt = Date.now()) {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  const store: DeliveryStore = createDeliveryStore(redis, keys, RETENTION)
  const dispatch = { id: `D${prefix}`, user: 'alice', text: 'Hello there', sendAt, createdAt: Date.now() }
  await store.createDispatch(dispatch, LEGS)
  const counts = async () => {
    const all = await redis.hgetall(keys.dispatch(dispatch.id))
    return Object.fromEntries(Object.entries(all).filter(([k, v]) => k.startsWith('n:') && v !== '0').map(([k, v]) => [k.slice(2), Number(v)]))
  }
  return { redis, keys, store, dispatch, ids: LEGS.map((_, i) => deliveryId(dispatch.id, i)), counts }
}

t.test('a dispatch is written with all its deliveries, queued, and sits in the outbox until marked', async (t) => {
  const { store, dispatch, ids, counts } = await setup(t)
  const first = await store.get(ids[0]!)
  t.match(first, {
    id: `${dispatch.id}.0`,
    dispatchId: dispatch.id,
    user: 'alice',
    contact: 'Artem',
    messenger: 'telegram',
    address: '@ArtemZaitsev',
    text: 'Hello there',
    state: 'queued',
    attempts: 0,
    sendAt: dispatch.sendAt,
    createdAt: dispatch.createdAt
  })
  t.same(await counts(), { queued: 3 })
  t.same(await store.outboxDue(Date.now()), [dispatch.id])
  t.same(await store.outboxDue(dispatch.createdAt - 1), [], 'not due before it was accepted')
  t.same((await store.pendingLegs(dispatch.id)).map((l) => [l.id, l.messenger, l.user]), ids.map((id, i) => [id, LEGS[i]!.messenger, 'alice']))
  await store.markQueued(dispatch.id)
  t.same(await store.outboxDue(Date.now()), [])
  t.equal(await store.get('nope.0'), undefined)
})

t.test('a future dispatch is scheduled, and reads as queued once its time has come', async (t) => {
  const { store, ids, counts, dispatch } = await setup(t, Date.now() + 300)
  t.equal((await store.get(ids[0]!))?.state, 'scheduled')
  t.same(await counts(), { scheduled: 3 })
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, dispatch.sendAt - Date.now()) + 20))
  t.equal((await store.get(ids[0]!))?.state, 'queued')
})

t.test('start counts attempts and hands over what to send; a finished delivery is never started again', async (t) => {
  const { store, ids, counts } = await setup(t)
  const id = ids[0]!
  t.same(await store.start(id), { kind: 'send', attempts: 1, messenger: 'telegram', address: '@ArtemZaitsev', text: 'Hello there' })
  t.same(await counts(), { queued: 2, sending: 1 })
  // A sender that died mid-send: its successor starts the same delivery again, as attempt 2.
  t.match(await store.start(id), { kind: 'send', attempts: 2 })
  t.same(await counts(), { queued: 2, sending: 1 }, 'a restart from sending does not double-count')

  t.equal(await store.finish(id, 'alice', 'delivered', { url: 'http://x/bot<token>/sendMessage', providerMessageId: '42' }), true)
  t.same(await store.start(id), { kind: 'finished', state: 'delivered' })
  t.match(await store.get(id), { state: 'delivered', attempts: 2, providerMessageId: '42', url: 'http://x/bot<token>/sendMessage' })
  t.ok((await store.get(id))?.finishedAt)
  t.same(await store.start('unknown.0'), { kind: 'unknown' })
})

t.test('requeue only moves a delivery that is being sent, and keeps its last error', async (t) => {
  const { store, ids, counts } = await setup(t)
  const id = ids[1]!
  t.equal(await store.requeue(id, 'alice', { lastError: 'x' }), false, 'not sending yet')
  await store.start(id)
  t.equal(await store.requeue(id, 'alice', { lastError: 'whatsapp HTTP 503', url: 'u' }), true)
  t.match(await store.get(id), { state: 'queued', attempts: 1, lastError: 'whatsapp HTTP 503', url: 'u' })
  t.same(await counts(), { queued: 3 })
  await store.finish(id, 'alice', 'cancelled')
  t.equal(await store.requeue(id, 'alice', { lastError: 'late' }), false, 'a finished delivery stays finished')
  t.equal((await store.get(id))?.state, 'cancelled')
})

t.test('racing terminal states: exactly one wins, and counts stay exact', async (t) => {
  const { store, ids, counts, redis, keys, dispatch } = await setup(t)
  for (const id of ids) await store.start(id)
  const results = await Promise.all(ids.flatMap((id) => TERMINAL_STATES.map(async (state) => ({ id, state, won: await store.finish(id, 'alice', state) }))))
  for (const id of ids) {
    const winners = results.filter((r) => r.id === id && r.won)
    t.equal(winners.length, 1, `${id}: one terminal state`)
    t.equal((await store.get(id))?.state, winners[0]?.state, `${id}: the record says the winner`)
  }
  const finalCounts = await counts()
  t.equal(Object.values(finalCounts).reduce((a, b) => a + b, 0), 3, 'every delivery counted once')
  t.equal(await redis.hget(keys.dispatch(dispatch.id), 'open'), '0')
})

t.test('finished deliveries start their retention clock; the dispatch when its last one finishes', async (t) => {
  const { store, ids, redis, keys, dispatch } = await setup(t)
  t.equal(await redis.ttl(keys.delivery(ids[0]!)), -1, 'a pending delivery never expires')
  await store.finish(ids[0]!, 'alice', 'delivered')
  const ttl = await redis.ttl(keys.delivery(ids[0]!))
  t.ok(ttl > RETENTION - 5 && ttl <= RETENTION, `finished delivery expires after the retention (ttl ${ttl})`)
  t.equal(await redis.ttl(keys.dispatch(dispatch.id)), -1, 'the dispatch lives while a delivery is open')
  await store.finish(ids[1]!, 'alice', 'delivered')
  await store.finish(ids[2]!, 'alice', 'failed', { lastError: 'viber 6: receiverNotSubscribed' })
  t.ok(await redis.ttl(keys.dispatch(dispatch.id)) > 0, 'the dispatch expires once all are finished')
})

t.test('failures enter the user\'s failed index, newest first', async (t) => {
  const { store, ids } = await setup(t)
  await store.finish(ids[2]!, 'alice', 'failed', { lastError: 'first' })
  await new Promise((resolve) => setTimeout(resolve, 5))
  await store.finish(ids[0]!, 'alice', 'failed', { lastError: 'second' })
  await store.finish(ids[1]!, 'alice', 'delivered')
  const { total, deliveries } = await store.listFailed('alice', 10)
  t.equal(total, 2)
  t.same(deliveries.map((d) => d.lastError), ['second', 'first'])
  t.same((await store.listFailed('alice', 1)).deliveries.map((d) => d.lastError), ['second'])
  t.same(await store.listFailed('bob', 10), { total: 0, deliveries: [] })
})
