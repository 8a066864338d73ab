/**
 * Protection of and from a messenger: a per-messenger rate limit slows only
 * that messenger; a breaker stops calling a failing messenger, holds its
 * deliveries without using their attempts, and lets them go after a probe.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { PassThrough } from 'node:stream'
import { deliveryId } from '../../src/model/delivery.js'
import { client, legacyContacts, legacySend, storedDeliveries } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'

t.test('a rate limit slows only its own messenger', async (t) => {
  const { app, mock } = await build(t, { env: { TELEGRAM_RATE_PER_SECOND: '5' } })
  const names = await legacyContacts(client(app), 'u', 12, (i) => ({ telegram: String(1000 + i), whatsapp: `+1555000${1000 + i}` }))
  const started = Date.now()
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'limited')
  await eventually(async () => (await storedDeliveries(app, dispatchId, 24)).every((d) => d.state === 'sent'), 'every delivery')
  const arrivals = (await mock.received({ outcome: 'accepted' })).messages
  const spread = (messenger: string) => {
    const times = arrivals.filter((m) => m.messenger === messenger).map((m) => Date.parse(m.receivedAt))
    return Math.max(...times) - started
  }
  // Twelve at five a second: the last cannot go before two full windows have passed.
  t.ok(spread('telegram') >= 2000, `Telegram took ${spread('telegram')} ms for 12 at 5/s`)
  // Compared with Telegram's, not with a clock: a busy machine slows both alike.
  t.ok(spread('whatsapp') < spread('telegram'), `WhatsApp was not held back: all 12 in ${spread('whatsapp')} ms, before Telegram's last`)
})

/** WhatsApp's `fanout_circuit_state` as /metrics would give it. */
async function breakerMetric (app: FastifyInstance): Promise<string | undefined> {
  const text = await app.metrics.registry.getSingleMetricAsString('fanout_circuit_state')
  return /fanout_circuit_state\{messenger="whatsapp"\} (\d+)/.exec(text)?.[1]
}

t.test('a failing messenger\'s breaker opens, holds its deliveries without using attempts, and closes after a probe', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
  })
  const { app, mock } = await build(t, {
    logStream: stream,
    env: { WHATSAPP_CONCURRENCY: '2', BREAKER_MIN_SENDS: '4', BREAKER_RESET_MS: '1500', DELIVERY_ATTEMPTS: '3', RETRY_BASE_DELAY_MS: '50' }
  })
  await mock.behave('whatsapp', { errorRate: 1 })
  const names = await legacyContacts(client(app), 'u', 20, (i) => ({ whatsapp: `+1555000${1000 + i}` }))
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'held')

  await eventually(async () => lines.some((l) => String(l.msg).startsWith('circuit open')), 'the breaker to open')
  // The metric an operator watches: 2 open (1 if its reset time has passed already and a probe is out).
  t.match(await breakerMetric(app), /^[12]$/, 'the metrics show WhatsApp\'s breaker not closed')
  const atOpen = (await mock.received({ messenger: 'whatsapp' })).count
  await new Promise((resolve) => setTimeout(resolve, 800))
  t.equal((await mock.received({ messenger: 'whatsapp' })).count, atOpen, 'no call reached the messenger while the breaker was open')
  const held = await storedDeliveries(app, dispatchId, 20)
  t.ok(held.filter((d) => d.attempts === 0).length >= 12, `most deliveries were never tried (${held.filter((d) => d.attempts === 0).length} of 20)`)
  t.ok(held.every((d) => d.state !== 'failed'), 'and none used up its attempts')

  await mock.behave('whatsapp', { errorRate: 0 })
  const done = await eventually(async () => {
    const found = await storedDeliveries(app, dispatchId, 20)
    return found.every((d) => d.state === 'sent') && found
  }, 'every delivery after the messenger came back', 15_000)
  t.equal(done.length, 20)
  t.ok(done.every((d) => d.attempts <= 2), 'each used at most the attempt that failed before the breaker opened, and one more')
  t.ok(lines.some((l) => l.msg === 'circuit half-open: one probe send'))
  t.ok(lines.some((l) => l.msg === 'circuit closed: sending again'))
  t.equal(await breakerMetric(app), '0', 'and the metrics show it closed again')
  t.ok((await mock.received({ messenger: 'whatsapp', outcome: 'HTTP 503' })).count <= 6, 'only a handful of calls went to the failing messenger')
})

t.test('permanent errors (bad recipients) do not open the breaker', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
  })
  const { app } = await build(t, { logStream: stream, env: { BREAKER_MIN_SENDS: '2' } })
  // Viber rejects every recipient (the default): that is the recipients' fault, not the messenger's.
  const names = await legacyContacts(client(app), 'u', 10, (i) => ({ viber: `viber-${i}` }))
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'rejected')
  await eventually(async () => (await storedDeliveries(app, dispatchId, 10)).every((d) => d.state === 'failed'), 'every Viber delivery to fail')
  t.notOk(lines.some((l) => String(l.msg).startsWith('circuit open')), 'the breaker stayed closed')
})

t.test('with Viber hanging and WhatsApp failing, Telegram deliveries all arrive and the API keeps answering', async (t) => {
  const { app, mock } = await build(t, { env: { SEND_TIMEOUT_MS: '1000', BREAKER_RESET_MS: '5000' } })
  await mock.behave('viber', { reject: false, outage: 'hang' })
  await mock.behave('whatsapp', { errorRate: 1 })
  const names = await legacyContacts(client(app), 'u', 30, (i) => ({ telegram: String(1000 + i), whatsapp: `+1555000${1000 + i}`, viber: `viber-${i}` }))
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'isolated')
  const telegram = Array.from({ length: 30 }, (_, i) => deliveryId(dispatchId, 3 * i))
  await eventually(async () => {
    const found = await Promise.all(telegram.map((id) => app.deliveries.get(id)))
    return found.every((d) => d?.state === 'sent')
  }, 'every Telegram delivery', 10_000)
  const res = await app.inject({ method: 'GET', url: '/api/contacts?user_name=u' })
  t.equal(res.statusCode, 200, 'the API answers')
  const viber = await app.deliveries.get(deliveryId(dispatchId, 2))
  t.not(viber?.state, 'sent', 'while Viber is still hanging')
})

t.test('a throttled send is retried no sooner than the messenger\'s retry_after', async (t) => {
  const { app, mock } = await build(t)
  // One send a second at the mock: the second of two gets Telegram's 429 with retry_after 1.
  await mock.behave('telegram', { ratePerSecond: 1 })
  const names = await legacyContacts(client(app), 'u', 2, (i) => ({ telegram: String(1000 + i) }))
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', names, 'throttled')
  const done = await eventually(async () => {
    const found = await storedDeliveries(app, dispatchId, 2)
    return found.every((d) => d.state === 'sent') && found
  }, 'both deliveries', 10_000)
  const retried = done.find((d) => d.attempts === 2)
  t.ok(retried, 'one delivery needed a second attempt')
  const calls = (await mock.received({ messenger: 'telegram' })).messages.filter((m) => m.idempotencyKey === retried?.id)
  t.same(calls.map((m) => m.outcome), ['throttled', 'accepted'])
  const gap = Date.parse(calls[1]!.receivedAt) - Date.parse(calls[0]!.receivedAt)
  t.ok(gap >= 950, `the retry came ${gap} ms after the 429 (retry_after: 1 s; the base backoff here is 50 ms)`)
})
