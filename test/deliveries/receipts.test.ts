/**
 * Receipts against a real Redis: whatever order they come in, repeated or
 * not, before or after the sender records the acceptance, a delivery ends in
 * the highest-ranked state it was told of (sent < failed < delivered < read),
 * with each status once in its timeline, and counts equal listings.
 */
import fc from 'fast-check'
import t from 'tap'
import type { Test } from 'tap'
import { dispatchIdOf } from '../helpers/ids.js'
import { createDeliveryStore } from '../../src/deliveries/delivery-store.js'
import { createReceipts } from '../../src/deliveries/receipts.js'
import { deliveryId, RECEIPT_RANK, RECEIPT_STATUSES, type Receipt, type ReceiptStatus } from '../../src/model/delivery.js'
import type { Messenger } from '../../src/model/messenger.js'
import { redisKeys } from '../../src/redis-keys.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

async function setup (t: Test) {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  const store = createDeliveryStore(redis, keys)
  const receipts = createReceipts(redis, keys, store, { keepSeconds: 3600 })
  /** A delivery of a new dispatch, started (as a sender does) and `sending`. */
  const sending = async (messenger: Messenger = 'whatsapp') => {
    const now = Date.now()
    const dispatch = { id: dispatchIdOf('alice', now), user: 'alice', text: 'Hello', sendAt: now, createdAt: now, dedupWindowSeconds: 0, checkAt: now }
    await store.createDispatch(dispatch, [{ contact: 'Ann', messenger, address: messenger === 'whatsapp' ? '+15551234567' : 'ann-viber' }])
    const id = deliveryId(dispatch.id, 0)
    t.match(await store.start(id, 0), { kind: 'send' })
    return { id, dispatchId: dispatch.id }
  }
  /** What a sender does when the messenger accepts: the record says sent, then the message id finds it. */
  const accept = async (id: string, providerId: string, messenger: Messenger = 'whatsapp') => {
    t.ok(await store.finish(id, 'sent', { providerMessageId: providerId }))
    await receipts.track(messenger, providerId, id, 'alice')
  }
  return { redis, keys, store, receipts, sending, accept }
}

const receipt = (providerId: string, status: ReceiptStatus, at: number, messenger: Messenger = 'whatsapp'): Receipt => ({
  messenger,
  providerId,
  status,
  at,
  ...(status === 'failed' && { code: 131026, error: 'whatsapp 131026: Message undeliverable' })
})

/** The state a set of statuses must end in: the highest rank of them and `sent`. */
const expected = (statuses: readonly ReceiptStatus[]) =>
  statuses.reduce<ReceiptStatus>((best, s) => RECEIPT_RANK[s] > RECEIPT_RANK[best] ? s : best, 'sent')

t.test('in order: sent, delivered, read; each once in the timeline, as stamped', async (t) => {
  const { store, receipts, sending, accept } = await setup(t)
  const { id, dispatchId } = await sending()
  await accept(id, 'wamid.A')
  t.match(await store.get(id), { state: 'sent', providerMessageId: 'wamid.A', receipts: [] })
  t.equal(await receipts.take(receipt('wamid.A', 'sent', 1000)), 'applied', 'the timeline gets its first entry')
  t.equal(await receipts.take(receipt('wamid.A', 'delivered', 2000)), 'applied')
  t.equal(await receipts.take(receipt('wamid.A', 'delivered', 2000)), 'ignored', 'a repeat changes nothing')
  t.equal(await receipts.take(receipt('wamid.A', 'read', 3000)), 'applied')
  const delivery = await store.get(id)
  t.equal(delivery?.state, 'read')
  t.same(delivery?.receipts, [{ status: 'sent', at: 1000 }, { status: 'delivered', at: 2000 }, { status: 'read', at: 3000 }])
  const dispatch = await store.getDispatch(dispatchId)
  t.match(dispatch?.counts, { read: 1, sent: 0, delivered: 0, sending: 0 })
  t.same((await store.listDeliveries('alice', { state: 'read', limit: 10 })).items.map((d) => d.id), [id])
  t.same((await store.listDeliveries('alice', { state: 'sent', limit: 10 })).items, [], 'gone from the index of sent')
})

t.test('what deliveries share is stored once: the URL on the dispatch, the finish time as the last change until a receipt moves it on', async (t) => {
  const { redis, keys, store, receipts, sending } = await setup(t)
  const first = await sending()
  t.ok(await store.finish(first.id, 'sent', { providerMessageId: 'wamid.U1', url: 'http://api/whatsapp/messages' }))
  await receipts.track('whatsapp', 'wamid.U1', first.id, 'alice')
  const sent = await store.get(first.id)
  t.match(sent, { state: 'sent', url: 'http://api/whatsapp/messages', finishedAt: sent!.updatedAt })
  t.same(await redis.hmget(keys.delivery(first.id), 'url', 'finished_at'), ['', null], 'neither is in the delivery\'s record')
  t.equal(await redis.hget(keys.dispatch(first.dispatchId), 'url:whatsapp'), 'http://api/whatsapp/messages')

  await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(await receipts.take(receipt('wamid.U1', 'delivered', Date.now())), 'applied')
  const delivered = await store.get(first.id)
  t.equal(delivered!.finishedAt, sent!.finishedAt, 'a receipt keeps the time it finished...')
  t.ok(delivered!.updatedAt > sent!.updatedAt, '...and moves its last change on')

  // A send that went elsewhere (the service's API address changed): that delivery keeps its own, until an attempt goes the usual way.
  const second = await sending()
  const dispatch = second.dispatchId
  await redis.hset(keys.dispatch(dispatch), 'url:whatsapp', 'http://old-api/whatsapp/messages')
  t.equal(await store.requeue(second.id, { url: 'http://api/whatsapp/messages', lastError: 'whatsapp HTTP 503' }), 'queued')
  t.match(await store.get(second.id), { url: 'http://api/whatsapp/messages' })
  t.match(await store.start(second.id, 0), { kind: 'send' })
  t.ok(await store.finish(second.id, 'sent', { providerMessageId: 'wamid.U2', url: 'http://old-api/whatsapp/messages' }))
  t.match(await store.get(second.id), { url: 'http://old-api/whatsapp/messages' })
  t.equal(await redis.hget(keys.delivery(second.id), 'url'), '', 'no stale URL of its own')

  // Beside a finished one of the same dispatch and messenger, a delivery whose attempt has not ended went nowhere yet.
  const now = Date.now()
  const pair = { id: dispatchIdOf('alice', now), user: 'alice', text: 'Hello', sendAt: now, createdAt: now, dedupWindowSeconds: 0, checkAt: now }
  await store.createDispatch(pair, [{ contact: 'Ann', messenger: 'whatsapp', address: '+15551234567' }, { contact: 'Bob', messenger: 'whatsapp', address: '+15551234568' }])
  const [done, waiting] = [deliveryId(pair.id, 0), deliveryId(pair.id, 1)]
  t.match(await store.start(done, 0), { kind: 'send' })
  t.ok(await store.finish(done, 'sent', { providerMessageId: 'wamid.U3', url: 'http://api/whatsapp/messages' }))
  t.match(await store.start(waiting, 0), { kind: 'send' })
  t.match(await store.get(done), { url: 'http://api/whatsapp/messages' })
  t.equal((await store.get(waiting))?.url, undefined, 'one still being sent has none yet')
})

t.test('a failure receipt after acceptance: failed, with the code and the reason, in the failed lookup', async (t) => {
  const { store, receipts, sending, accept } = await setup(t)
  const { id } = await sending()
  await accept(id, 'wamid.F')
  t.equal(await receipts.take(receipt('wamid.F', 'failed', 1500)), 'applied')
  t.match(await store.get(id), { state: 'failed', lastError: 'whatsapp 131026: Message undeliverable', receipts: [{ status: 'failed', at: 1500, code: 131026 }] })
  t.same((await store.listDeliveries('alice', { state: 'failed', limit: 10 })).items.map((d) => d.id), [id])
  t.equal((await store.stateCounts('alice')).failed, 1)
  // Another device got it after all (WhatsApp may say so): delivered outranks failed.
  t.equal(await receipts.take(receipt('wamid.F', 'delivered', 1600)), 'applied')
  t.equal((await store.get(id))?.state, 'delivered')
  t.same((await store.listDeliveries('alice', { state: 'failed', limit: 10 })).items, [])
})

t.test('receipts that come before the acceptance is recorded wait, and are applied when it is', async (t) => {
  const { store, receipts, sending, accept, redis, keys } = await setup(t)
  const { id } = await sending()
  t.equal(await receipts.take(receipt('wamid.E', 'delivered', 2000)), 'waiting', 'the id is not known yet')
  t.equal((await store.get(id))?.state, 'sending', 'nothing changes meanwhile')
  await accept(id, 'wamid.E')
  t.match(await store.get(id), { state: 'delivered', receipts: [{ status: 'delivered', at: 2000 }] })
  t.equal(await redis.hget(keys.receipt('whatsapp', 'wamid.E'), 'early'), null, 'applied, then dropped')
  t.ok(await redis.ttl(keys.receipt('whatsapp', 'wamid.E')) > 0, 'the message record expires with the delivery')
})

t.test('receipts about an earlier attempt do not touch a redriven delivery', async (t) => {
  const { store, receipts, sending, accept } = await setup(t)
  const { id } = await sending()
  await accept(id, 'wamid.OLD')
  await receipts.take(receipt('wamid.OLD', 'failed', 1000))
  t.match(await store.redrive([id]), [{ outcome: 'redriven' }])
  t.match(await store.get(id), { state: 'queued', receipts: [] })
  t.notOk((await store.get(id))?.providerMessageId, 'the failed attempt\'s message id is dropped')
  t.equal(await receipts.take(receipt('wamid.OLD', 'delivered', 1100)), 'stale')
  t.equal((await store.get(id))?.state, 'queued')
})

t.test('an id that is not ours waits, then nothing happens to any delivery', async (t) => {
  const { store, receipts, sending } = await setup(t)
  const { id } = await sending('viber')
  t.equal(await receipts.take(receipt('5491234567890123456', 'delivered', 1, 'viber')), 'waiting')
  t.equal((await store.get(id))?.state, 'sending')
})

t.test('property: any order, any repeats, before or after acceptance, in any batches: the same final state and timeline', async (t) => {
  const { store, receipts, sending, accept } = await setup(t)
  const statusSets = fc.subarray([...RECEIPT_STATUSES], { minLength: 1 })
  // A plan: which statuses the messenger reports, how often each, the order they arrive in, and how many come before the acceptance.
  const plan = statusSets.chain((statuses) => fc.record({
    statuses: fc.constant(statuses),
    arrivals: fc.shuffledSubarray(statuses.flatMap((s) => [s, s, s]), { minLength: statuses.length })
      .filter((arrivals) => statuses.every((s) => arrivals.includes(s))),
    early: fc.nat({ max: 6 }),
    concurrent: fc.boolean()
  }))
  let runs = 0
  await fc.assert(fc.asyncProperty(plan, async ({ statuses, arrivals, early, concurrent }) => {
    runs++
    const { id } = await sending()
    const providerId = `wamid.p${runs}`
    // Each status is stamped once by the messenger (a repeat carries the same stamp).
    const stamp = (s: ReceiptStatus) => 1000 + RECEIPT_STATUSES.indexOf(s)
    const before = arrivals.slice(0, early)
    const after = arrivals.slice(early)
    const take = async (list: readonly ReceiptStatus[]) => {
      if (concurrent) await Promise.all(list.map(async (s) => await receipts.take(receipt(providerId, s, stamp(s)))))
      else for (const s of list) await receipts.take(receipt(providerId, s, stamp(s)))
    }
    await take(before)
    await accept(id, providerId)
    await take(after)
    const delivery = await store.get(id)
    const want = expected(statuses)
    if (delivery?.state !== want) throw new Error(`${arrivals.join(',')} (${early} early): ${String(delivery?.state)}, not ${want}`)
    const heard = [...delivery.receipts].map((r) => r.status).sort()
    if (heard.join() !== [...statuses].sort().join()) throw new Error(`timeline ${heard.join()} for ${statuses.join()}`)
    if (!delivery.receipts.every((r) => r.at === stamp(r.status))) throw new Error('a timeline entry lost its stamp')
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 60) })
  // Counts equal listings over every delivery the property made.
  const counts = await store.stateCounts('alice')
  for (const state of ['sent', 'delivered', 'read', 'failed'] as const) {
    const listed = (await store.listDeliveries('alice', { state, limit: 1000 })).items.length
    t.equal(listed, counts[state], `${state}: the count equals the listing`)
  }
  t.equal(counts.sending + counts.queued, 0)
  t.ok(runs >= Number(process.env.FUZZ_RUNS ?? 60), `${runs} runs`)
})
