/**
 * Delivery records against a real Redis: guarded state changes (one terminal
 * state, ever), counts per state that always equal what a listing shows,
 * duplicate suppression, cancel, redrive, release, expiry, purge, the
 * outbox, and keyset pages.
 */
import t from 'tap'
import type { Test } from 'tap'
import { dispatchIdOf } from '../helpers/ids.js'
import { createDeliveryStore, type DeliveryStore } from '../../src/deliveries/delivery-store.js'
import { deliveryId, DELIVERY_STATES, MAX_DELIVERIES_PER_DISPATCH, FINISHED_STATES, type Delivery, type NewDelivery, type NewDispatch } from '../../src/model/delivery.js'
import { redisKeys } from '../../src/redis-keys.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const DELIVERIES: NewDelivery[] = [
  { contact: 'Artem', messenger: 'telegram', address: '@ArtemZaitsev' },
  { contact: 'Artem', messenger: 'whatsapp', address: '+799200828615' },
  { contact: 'Lera', messenger: 'viber', address: 'lera-viber-id' }
]

async function setup (t: Test) {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  const store: DeliveryStore = createDeliveryStore(redis, keys)
  /** Writes a dispatch of `deliveries` (by default the three above) and returns its delivery ids. */
  const create = async (overrides: Partial<NewDispatch> = {}, deliveries: NewDelivery[] = DELIVERIES) => {
    const now = Date.now()
    const user = overrides.user ?? 'alice'
    const dispatch: NewDispatch = { id: dispatchIdOf(user, now), user, text: 'Hello there', sendAt: now, createdAt: now, dedupWindowSeconds: 0, checkAt: now, ...overrides }
    const { suppressed } = await store.createDispatch(dispatch, deliveries)
    return { dispatch, suppressed, ids: deliveries.map((_, i) => deliveryId(dispatch.id, i)) }
  }
  /** The dispatch's non-zero counts per state. */
  const counts = async (dispatchId: string) => {
    const dispatch = await store.getDispatch(dispatchId)
    return Object.fromEntries(Object.entries(dispatch?.counts ?? {}).filter(([, n]) => n !== 0))
  }
  return { redis, keys, store, create, counts }
}

/** Every delivery of the user, walking pages of `limit`. */
async function walk (store: DeliveryStore, user: string, filter: Omit<Parameters<DeliveryStore['listDeliveries']>[1], 'limit' | 'after'>, limit = 2): Promise<Delivery[]> {
  const all: Delivery[] = []
  let after: string | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.listDeliveries(user, { ...filter, limit, ...(after !== undefined && { after }) })
    all.push(...page.items)
    if (page.next === undefined) return all
    after = page.next
  }
  throw new Error('pagination did not end')
}

t.test('a dispatch is written with all its deliveries, queued, and sits in the outbox until marked', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids, suppressed } = await create()
  t.equal(suppressed, 0)
  t.match(await store.get(ids[0]!), {
    id: `${dispatch.id}.00000`,
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
  t.same(await counts(dispatch.id), { queued: 3 })
  t.match(await store.getDispatch(dispatch.id), { id: dispatch.id, user: 'alice', total: 3, text: 'Hello there' })
  t.same(await store.outboxDue(Date.now()), [dispatch.id], 'due at its checkAt')
  t.same(await store.outboxDue(dispatch.checkAt - 1), [], 'not before')
  await store.checkAgainAt(dispatch.id, Date.now() + 60_000)
  t.same(await store.outboxDue(Date.now()), [], 'looked at again later')
  t.same(await store.outboxDue(Date.now() + 60_000), [dispatch.id])
  await store.dropFromOutbox(dispatch.id)
  t.same(await store.outboxDue(Date.now() + 60_000), [])
  t.equal(await store.get('nope.00000'), undefined)
  t.equal(await store.getDispatch('nope'), undefined)
  t.same(await store.deliveryIds(dispatch.id), ids)
})

t.test('the largest dispatch allowed is written in one call, and any contact name survives the way there', async (t) => {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const store = createDeliveryStore(redis, redisKeys(prefix))
  const odd = 'Зоя "Z" \\ {} [] 😀 , .00001'
  const deliveries: NewDelivery[] = Array.from({ length: MAX_DELIVERIES_PER_DISPATCH }, (_, i) =>
    ({ contact: i === 1 ? odd : `c${i}`, messenger: 'telegram', address: String(1000 + i) }))
  const now = Date.now()
  const id = dispatchIdOf('alice', now)
  await store.createDispatch({ id, user: 'alice', text: 'Hello all', sendAt: now, createdAt: now, dedupWindowSeconds: 0, checkAt: now }, deliveries)
  t.match(await store.getDispatch(id), { total: MAX_DELIVERIES_PER_DISPATCH, counts: { queued: MAX_DELIVERIES_PER_DISPATCH } })
  t.match(await store.get(deliveryId(id, 1)), { contact: odd, messenger: 'telegram', address: '1001', state: 'queued' })
  t.match(await store.get(deliveryId(id, MAX_DELIVERIES_PER_DISPATCH - 1)), { contact: `c${MAX_DELIVERIES_PER_DISPATCH - 1}`, address: String(1000 + MAX_DELIVERIES_PER_DISPATCH - 1) })
})

t.test('a future dispatch is scheduled until released; release hands over every waiting delivery once per generation', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create({ sendAt: Date.now() + 60_000 })
  t.equal((await store.get(ids[0]!))?.state, 'scheduled')
  t.same(await counts(dispatch.id), { scheduled: 3 })
  const released = await store.release(dispatch.id)
  t.same(released, ids.map((id, i) => ({ id, messenger: DELIVERIES[i]!.messenger, generation: 0 })))
  t.same(await counts(dispatch.id), { queued: 3 })
  await store.start(ids[0]!, 0)
  t.same((await store.release(dispatch.id)).map((d) => d.id), ids.slice(1), 'a second release (recovery) leaves out the delivery being sent')
  t.same(await store.release('nope'), [])
})

t.test('start counts attempts and hands over what to send; a finished delivery is never started again', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create()
  const id = ids[0]!
  t.same(await store.start(id, 0), { kind: 'send', attempts: 1, messenger: 'telegram', address: '@ArtemZaitsev', text: 'Hello there', user: 'alice', contact: 'Artem' })
  t.same(await counts(dispatch.id), { queued: 2, sending: 1 })
  // A sender that died mid-send: its successor starts the same delivery again, as attempt 2.
  t.match(await store.start(id, 0), { kind: 'send', attempts: 2 })
  t.same(await counts(dispatch.id), { queued: 2, sending: 1 }, 'a restart from sending does not double-count')
  t.same(await store.start(id, 1), { kind: 'stale' }, 'a job of another generation does not send')

  t.equal(await store.finish(id, 'sent', { url: 'http://x/bot<token>/sendMessage', providerMessageId: '42' }), true)
  t.same(await store.start(id, 0), { kind: 'finished', state: 'sent' })
  t.match(await store.get(id), { state: 'sent', attempts: 2, providerMessageId: '42', url: 'http://x/bot<token>/sendMessage' })
  t.ok((await store.get(id))?.finishedAt)
  t.same(await store.start('unknown.00000', 0), { kind: 'unknown' })
})

t.test('finishing one delivery and starting the next in one call: both records and every count as with two calls', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create()
  const other = await create({ id: dispatchIdOf('alice', Date.now() + 1) })
  await store.start(ids[0]!, 0)
  const both = await store.finishAndStart(ids[0]!, 'sent', { providerMessageId: '7' }, { id: ids[1]!, generation: 0 })
  t.same(both, { finished: true, next: { kind: 'send', attempts: 1, messenger: 'whatsapp', address: '+799200828615', text: 'Hello there', user: 'alice', contact: 'Artem' } })
  t.match(await store.get(ids[0]!), { state: 'sent', providerMessageId: '7', attempts: 1 })
  t.same(await counts(dispatch.id), { sent: 1, sending: 1, queued: 1 })

  // Across two dispatches, with the first already finished: it stays as it was, the next starts anyway.
  await store.finish(ids[1]!, 'failed', { lastError: 'x' })
  t.same(await store.finishAndStart(ids[1]!, 'sent', {}, { id: other.ids[2]!, generation: 0 }),
    { finished: false, next: { kind: 'send', attempts: 1, messenger: 'viber', address: 'lera-viber-id', text: 'Hello there', user: 'alice', contact: 'Lera' } })
  t.same(await store.finishAndStart(other.ids[2]!, 'sent', {}, { id: other.ids[0]!, generation: 1 }), { finished: true, next: { kind: 'stale' } })
  t.same(await counts(dispatch.id), { sent: 1, failed: 1, queued: 1 })
  t.same(await counts(other.dispatch.id), { sent: 1, queued: 2 })
  t.same((await store.userTotals('alice')).counts, {
    scheduled: 0, queued: 3, sending: 0, sent: 2, delivered: 0, read: 0, failed: 1, cancelled: 0, expired: 0, suppressed: 0
  }, 'the user\'s totals agree')
})

t.test('requeue only moves a delivery that is being sent, keeps its last error, and respects cancel and expiry', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create()
  const id = ids[1]!
  t.equal(await store.requeue(id, { lastError: 'x' }), undefined, 'not sending yet')
  await store.start(id, 0)
  t.equal(await store.requeue(id, { lastError: 'whatsapp HTTP 503', url: 'u' }), 'queued')
  t.match(await store.get(id), { state: 'queued', attempts: 1, lastError: 'whatsapp HTTP 503', url: 'u' })
  t.same(await counts(dispatch.id), { queued: 3 })

  // Cancelled while in flight: the retry that would follow ends it cancelled instead.
  await store.start(id, 0)
  t.same(await store.cancel([id]), [{ kind: 'in_flight' }])
  t.equal(await store.requeue(id, { lastError: 'whatsapp HTTP 503' }), 'cancelled')
  t.equal(await store.requeue(id, { lastError: 'late' }), undefined, 'a finished delivery stays finished')
  t.match(await store.get(id), { state: 'cancelled', lastError: 'whatsapp HTTP 503' })

  // Past expires_at, a retry ends it expired, and a waiting job's start expires it rather than sending.
  const late = await create({ expiresAt: Date.now() + 150 })
  await store.start(late.ids[0]!, 0)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await store.requeue(late.ids[0]!, { lastError: 'telegram HTTP 502' }), 'expired')
  t.same(await store.start(late.ids[1]!, 0), { kind: 'ended', state: 'expired' }, 'a waiting job past the end time ends its delivery')
  t.same(await store.start(late.ids[1]!, 0), { kind: 'finished', state: 'expired' }, 'and a later job finds it finished')
  t.equal(await store.expire(late.dispatch.id), 1, 'the expiry job ends the one still waiting')
  t.same(await counts(late.dispatch.id), { expired: 3 })
  t.match(await store.get(late.ids[0]!), { state: 'expired', lastError: 'telegram HTTP 502' }, 'the last error is kept')
})

t.test('racing terminal states and cancels: exactly one wins, and counts stay exact', async (t) => {
  const { store, create, counts, redis, keys } = await setup(t)
  const { dispatch, ids } = await create()
  await store.start(ids[0]!, 0)
  const results = await Promise.all([
    ...ids.flatMap((id) => FINISHED_STATES.map(async (state) => ({ id, state: state as string, won: await store.finish(id, state) }))),
    ...ids.map(async (id) => ({ id, state: 'cancelled', won: (await store.cancel([id]))[0]?.kind === 'cancelled' }))
  ])
  for (const id of ids) {
    const winners = results.filter((r) => r.id === id && r.won)
    t.equal(winners.length, 1, `${id}: one terminal state`)
    t.equal((await store.get(id))?.state, winners[0]?.state, `${id}: the record says the winner`)
  }
  const final = await counts(dispatch.id)
  t.equal(Object.values(final).reduce((a, b) => a + b, 0), 3, 'every delivery counted once')
  t.equal(await redis.hget(keys.dispatch(dispatch.id), 'open'), '0')
})

t.test('cancel reports per delivery what it cancelled, what was in flight and what was already finished', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create()
  await store.start(ids[0]!, 0)
  await store.finish(ids[0]!, 'sent')
  await store.start(ids[1]!, 0)
  t.same(await store.cancel([...ids, 'nope.00000']), [{ kind: 'finished', state: 'sent' }, { kind: 'in_flight' }, { kind: 'cancelled' }, { kind: 'unknown' }])
  t.same(await counts(dispatch.id), { sent: 1, sending: 1, cancelled: 1 })
  t.equal(await store.finish(ids[1]!, 'sent'), true, 'an in-flight send that the messenger accepts is sent')
})

t.test('duplicates of an accepted or pending delivery within the window are suppressed; failed ones are sent again', async (t) => {
  const { store, create, counts } = await setup(t)
  const first = await create({ dedupWindowSeconds: 60 })
  const repeat = await create({ dedupWindowSeconds: 60 })
  t.equal(repeat.suppressed, 3, 'all three repeat pending deliveries')
  t.match(await store.get(repeat.ids[0]!), { state: 'suppressed', duplicateOf: first.ids[0] })
  t.same(await counts(repeat.dispatch.id), { suppressed: 3 })
  t.same(await store.outboxDue(Date.now()), [first.dispatch.id], 'nothing to send: not in the outbox')

  // First: telegram sent, whatsapp failed, viber cancelled.
  await store.start(first.ids[0]!, 0)
  await store.finish(first.ids[0]!, 'sent')
  await store.finish(first.ids[1]!, 'failed', { lastError: 'x' })
  await store.cancel([first.ids[2]!])
  const third = await create({ dedupWindowSeconds: 60 })
  t.same((await Promise.all(third.ids.map(async (id) => (await store.get(id))?.state))), ['suppressed', 'queued', 'queued'],
    'only the accepted one counts')

  const other = await create({ dedupWindowSeconds: 60, text: 'Another text' })
  t.equal(other.suppressed, 0, 'another text is no duplicate')
  const off = await create({ dedupWindowSeconds: 0 })
  t.equal(off.suppressed, 0, 'window 0 turns suppression off')
  const bob = await create({ dedupWindowSeconds: 60, user: 'bob' })
  t.equal(bob.suppressed, 0, 'another user\'s sends are not duplicates')

  const twice = await create({ dedupWindowSeconds: 60, text: 'twice' }, [DELIVERIES[0]!, DELIVERIES[0]!])
  t.equal(twice.suppressed, 1, 'the same address twice in one dispatch is sent once')
})

t.test('redrive puts failed deliveries back as new attempts with a new generation; others are left alone', async (t) => {
  const { store, create, counts } = await setup(t)
  const { dispatch, ids } = await create()
  await store.dropFromOutbox(dispatch.id)
  await store.start(ids[0]!, 0)
  await store.finish(ids[0]!, 'sent')
  await store.start(ids[2]!, 0)
  await store.finish(ids[2]!, 'failed', { lastError: 'viber 6' })
  const outcomes = await store.redrive(ids)
  t.same(outcomes, [
    { id: ids[0], outcome: 'sent' },
    { id: ids[1], outcome: 'queued' },
    { id: ids[2], outcome: 'redriven', delivery: { id: ids[2], messenger: 'viber', generation: 1 } }
  ])
  t.match(await store.get(ids[2]!), { state: 'queued', attempts: 0, lastError: 'viber 6' })
  t.equal((await store.get(ids[2]!))?.finishedAt, undefined)
  t.same(await counts(dispatch.id), { sent: 1, queued: 2 })
  t.same(await store.outboxDue(Date.now()), [], 'the outbox is its caller\'s (the dispatcher puts the dispatch back in it first)')
  t.same(await store.start(ids[2]!, 0), { kind: 'stale' }, 'the old job cannot send the new attempt')
  t.match(await store.start(ids[2]!, 1), { kind: 'send', attempts: 1 })
  t.same((await store.listDeliveries('alice', { state: 'failed', limit: 10 })).items, [], 'no longer listed as failed')
})

t.test('listings: filters, newest first, keyset pages stable under inserts, counts equal to what is listed', async (t) => {
  const { store, create } = await setup(t)
  const a = await create()
  const b = await create({ text: 'second' })
  await store.start(a.ids[2]!, 0)
  await store.finish(a.ids[2]!, 'failed', { lastError: 'viber 6' })
  await store.start(b.ids[0]!, 0)
  await store.finish(b.ids[0]!, 'sent')

  const all = await walk(store, 'alice', {})
  t.same(all.map((d) => d.id), [...b.ids].reverse().concat([...a.ids].reverse()), 'newest dispatch first, last delivery first')
  t.same((await walk(store, 'alice', { state: 'failed' })).map((d) => d.id), [a.ids[2]])
  t.same((await walk(store, 'alice', { state: 'queued' })).map((d) => d.id), [b.ids[2], b.ids[1], a.ids[1], a.ids[0]])
  t.same((await walk(store, 'alice', { dispatch: a.dispatch.id })).map((d) => d.id), [...a.ids].reverse())
  t.same((await walk(store, 'alice', { state: 'sent', dispatch: a.dispatch.id })).map((d) => d.id), [])
  t.same((await walk(store, 'alice', { contact: 'Lera' })).map((d) => d.id), [b.ids[2], a.ids[2]])
  t.same((await walk(store, 'alice', { messenger: 'whatsapp' })).map((d) => d.id), [b.ids[1], a.ids[1]])
  t.same(await walk(store, 'alice', { createdBefore: a.dispatch.createdAt }), [], 'nothing created before the first')
  t.same((await walk(store, 'alice', { createdFrom: b.dispatch.createdAt })).map((d) => d.dispatchId),
    all.filter((d) => d.createdAt >= b.dispatch.createdAt).map((d) => d.dispatchId))
  t.same(await walk(store, 'bob', {}), [], 'another user sees nothing')

  // Counts equal the listings, state by state and in all.
  const { counts, dispatches } = await store.userTotals('alice')
  t.equal(dispatches, 2)
  for (const state of DELIVERY_STATES) {
    t.equal(counts[state], all.filter((d) => d.state === state).length, `${state}: count equals the listed deliveries`)
  }

  // Walk one page at a time while new dispatches arrive: everything there at the start is seen exactly once.
  const seen: string[] = []
  let after: string | undefined
  for (let page = 0; page < 100; page++) {
    const got = await store.listDeliveries('alice', { limit: 1, ...(after !== undefined && { after }) })
    seen.push(...got.items.map((d) => d.id))
    await create({ text: `inserted ${page}` })
    if (got.next === undefined) break
    after = got.next
  }
  t.same(seen, all.map((d) => d.id), 'no delivery skipped or seen twice while others were inserted')

  const dispatchPage = await store.listDispatches('alice', { limit: 2 })
  t.equal(dispatchPage.items.length, 2)
  t.ok(dispatchPage.next)
  const rest = await store.listDispatches('alice', { limit: 100, after: dispatchPage.next })
  t.equal(rest.next, undefined)
  t.same([...dispatchPage.items, ...rest.items].map((d) => d.id).slice(-2), [b.dispatch.id, a.dispatch.id], 'the first two come last')
})

t.test('purge deletes finished history (optionally before a time), never pending deliveries, with their counts', async (t) => {
  const { store, create, counts, redis, keys } = await setup(t)
  const a = await create()
  for (const id of a.ids) { await store.start(id, 0); await store.finish(id, 'sent') }
  const cutoff = Date.now() + 1
  await new Promise((resolve) => setTimeout(resolve, 5))
  const b = await create({ text: 'later' })
  await store.start(b.ids[0]!, 0)
  await store.finish(b.ids[0]!, 'failed', { lastError: 'x' })
  t.match((await store.getDispatch(b.dispatch.id))?.countsByMessenger, { telegram: { failed: 1, queued: 0 }, whatsapp: { queued: 1 }, viber: { queued: 1 } })

  t.equal(await store.purge('alice', a.dispatch.createdAt - 1000), 0, 'nothing finished that long ago')
  t.equal(await store.purge('alice', cutoff), 3, 'the three finished before the cutoff')
  t.equal(await store.getDispatch(a.dispatch.id), undefined, 'a dispatch with nothing left goes too')
  t.same(await redis.exists(keys.delivery(a.ids[0]!)), 0)
  t.equal(await store.purge('alice'), 1, 'then the failed one, at any time')
  t.same(await counts(b.dispatch.id), { queued: 2 }, 'pending deliveries stay')
  t.same(Object.keys((await store.getDispatch(b.dispatch.id))?.countsByMessenger ?? {}), ['whatsapp', 'viber'], 'and the per-messenger counts follow the purge')
  t.same((await store.listDispatches('alice', { limit: 10 })).items.map((d) => d.id), [b.dispatch.id])
  const { counts: totals } = await store.userTotals('alice')
  t.match(totals, { queued: 2, sent: 0, failed: 0 })
  t.same(await store.users(), ['alice'])
})
