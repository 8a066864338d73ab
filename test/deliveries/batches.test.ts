/**
 * Batch send jobs: the first attempts of a dispatch's deliveries travel in a
 * job per messenger and index range; every delivery is still started, sent and
 * recorded on its own, a retry leaves the batch as a job of its own, and a
 * closing sender puts back what it had not started.
 */
import t from 'tap'
import type { Queue } from 'bullmq'
import { deliveryId } from '../../src/model/delivery.js'
import { createDeliveryStore, type WaitingDelivery } from '../../src/deliveries/delivery-store.js'
import { BATCH_JOB, BATCH_SPAN, SEND_JOB, enqueueDeliveries, type SendQueues } from '../../src/deliveries/send-queues.js'
import { redisKeys } from '../../src/redis-keys.js'
import { client, legacyContacts, legacySend, storedDeliveries } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'

/** Queues that record what is added to them. */
function recordingQueues () {
  const added: Record<string, Array<{ name: string, data: unknown, opts: { jobId?: string } }>> = { telegram: [], whatsapp: [], viber: [] }
  const queue = (messenger: string) => ({
    async addBulk (jobs: Array<{ name: string, data: unknown, opts: { jobId?: string } }>) { added[messenger]!.push(...jobs) }
  }) as unknown as Queue
  return { queues: { telegram: queue('telegram'), whatsapp: queue('whatsapp'), viber: queue('viber') } as SendQueues, added }
}

t.test('first attempts go in batches by dispatch and index range; redriven deliveries and unbatched messengers get a job each', async (t) => {
  const { queues, added } = recordingQueues()
  const d = '01JBATCHTEST00000000000000'
  const deliveries: WaitingDelivery[] = []
  for (let i = 0; i < 2 * BATCH_SPAN + 3; i++) deliveries.push({ id: deliveryId(d, i), messenger: i % 2 === 0 ? 'telegram' : 'viber', generation: 0 })
  deliveries.push({ id: deliveryId(d, 7), messenger: 'telegram', generation: 2 })
  await enqueueDeliveries(queues, deliveries, ['telegram'])

  const telegram = added.telegram!
  t.same(telegram.filter((j) => j.name === BATCH_JOB).map((j) => j.opts.jobId), [`${d}.b0`, `${d}.b1`, `${d}.b2`], 'one batch per range of indexes')
  t.same(telegram.find((j) => j.opts.jobId === `${d}.b1`)?.data, { dispatch: d, legs: Array.from({ length: BATCH_SPAN / 2 }, (_, k) => BATCH_SPAN + 2 * k) })
  t.same(telegram.filter((j) => j.name === SEND_JOB).map((j) => j.opts.jobId), [`${deliveryId(d, 7)}#2`], 'a redriven delivery goes on its own')
  t.ok(added.viber!.every((j) => j.name === SEND_JOB), 'a messenger not batched (a rate limit) gets a job per delivery')
  t.equal(added.viber!.length, BATCH_SPAN + 1)

  // Queued again (outbox recovery) with some deliveries finished meanwhile: the same batch ids, so BullMQ keeps one job each.
  const again = recordingQueues()
  await enqueueDeliveries(again.queues, deliveries.filter((_, i) => i % 3 !== 0), ['telegram'])
  t.same(again.added.telegram!.filter((j) => j.name === BATCH_JOB).map((j) => j.opts.jobId), [`${d}.b0`, `${d}.b1`, `${d}.b2`])
})

t.test('a delivery that fails in a batch is retried as a job of its own, in its next generation, with the same idempotency key', async (t) => {
  const { app, mock, redis, prefix } = await build(t)
  const names = await legacyContacts(client(app), 'u', 5, (i) => ({ telegram: String(1000 + i) }))
  await mock.behave('telegram', { failNext: 2 })
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'batched')
  await eventually(async () => (await storedDeliveries(app, dispatchId, 5)).every((d) => d.state === 'sent'), 'every delivery')

  const deliveries = await storedDeliveries(app, dispatchId, 5)
  t.same(deliveries.map((d) => d.attempts).sort(), [1, 1, 1, 2, 2], 'the two that failed took a second attempt, the others one')
  const keys = redisKeys(prefix)
  const generations = await Promise.all(deliveries.map(async (d) => await redis.hget(keys.delivery(d.id), 'gen')))
  t.same(generations.map((g) => g ?? '0').sort(), ['0', '0', '0', '1', '1'], 'a retry out of the batch is the next generation')
  const seen = await mock.received({ messenger: 'telegram' })
  t.equal(seen.count, 7)
  t.same(Object.values(seen.repeats).sort(), [2, 2], 'each repeat carried its delivery id')
  t.match(await app.deliveries.getDispatch(dispatchId), { counts: { sent: 5, queued: 0, sending: 0 } })
})

t.test('a closing sender finishes the sends in flight and puts back the rest of its batch for the next one', async (t) => {
  const first = await build(t, { env: { TELEGRAM_CONCURRENCY: '2' } })
  await first.mock.behave('telegram', { latencyMs: [600, 600] })
  const names = await legacyContacts(client(first.app), 'u', 6, (i) => ({ telegram: String(1000 + i) }))
  const { dispatch_id: dispatchId } = await legacySend(client(first.app), 'u', names, 'in two parts')
  await eventually(async () => (await storedDeliveries(first.app, dispatchId, 6)).filter((d) => d.state === 'sending').length === 2, 'two sends in flight')

  await first.app.close()
  // Counted, not timed: when close returns, the two in flight reached the mock and nothing else did.
  t.equal((await first.mock.received({ messenger: 'telegram' })).count, 2, 'closed once the two in flight were done, not after all six')
  // The app's own clients are closed: look through the test's.
  const store = createDeliveryStore(first.redis, redisKeys(first.prefix))
  const states = (await Promise.all(Array.from({ length: 6 }, async (_, i) => (await store.get(deliveryId(dispatchId, i)))?.state)))
  t.equal(states.filter((s) => s === 'sent').length, 2, 'the two in flight were sent and recorded')
  t.equal(states.filter((s) => s === 'queued').length, 4, 'the rest wait, untouched')

  const second = await build(t, { prefix: first.prefix, mock: first.mock })
  await eventually(async () => (await storedDeliveries(second.app, dispatchId, 6)).every((d) => d.state === 'sent'), 'the rest, by the next sender')
  const seen = await first.mock.received({ messenger: 'telegram', outcome: 'accepted' })
  t.equal(seen.count, 6)
  t.same(seen.repeats, {}, 'each sent once')
  t.ok((await storedDeliveries(second.app, dispatchId, 6)).every((d) => d.attempts === 1))
})
