/**
 * Crash safety: a send of 1,050 deliveries, the service killed with SIGKILL
 * mid-way, started again: every delivery ends in exactly one terminal state
 * (Telegram and WhatsApp sent, Viber failed), none lost; sends are at
 * least once, and a repeat carries the same idempotency key.
 */
import t from 'tap'
import { deliveryId } from '../../src/model/delivery.js'
import { redisKeys } from '../../src/redis-keys.js'
import { client, legacyAddContact, legacySend } from '../helpers/api.js'
import { eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { runService } from '../helpers/processes.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const CONTACTS = 350
const CONCURRENCY = 4

t.test('SIGKILL mid-send loses nothing', async (t) => {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  const mock = await startMock(t)
  // Slow enough that the kill lands mid-way; Viber fails at once, as always.
  await mock.behave('telegram', { latencyMs: [20, 40] })
  await mock.behave('whatsapp', { latencyMs: [20, 40] })
  const env = {
    LOG_LEVEL: 'warn',
    TELEGRAM_CONCURRENCY: String(CONCURRENCY),
    WHATSAPP_CONCURRENCY: String(CONCURRENCY),
    VIBER_CONCURRENCY: String(CONCURRENCY)
  }
  const first = await runService(t, prefix, mock.url, env)

  const api = client(first.url)
  const names = Array.from({ length: CONTACTS }, (_, i) => `contact-${i}`)
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((name, j) => legacyAddContact(api, 'crash', name,
      { telegram: String(100_000 + i + j), whatsApp: `+1555${String(1_000_000 + i + j)}`, viber: `viber-${i + j}` })))
  }
  const sent = await legacySend(api, 'crash', names, 'survive this')
  t.equal(sent.deliveries, 3 * CONTACTS, '1,050 deliveries accepted')

  await eventually(async () => (await mock.received({ outcome: 'accepted' })).count >= 100, 'the first hundred deliveries')
  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL')
  const atKill = (await mock.received({ outcome: 'accepted' })).count
  t.ok(atKill < 2 * CONTACTS, `killed mid-way: ${atKill} of ${2 * CONTACTS} Telegram/WhatsApp deliveries had arrived`)

  await runService(t, prefix, mock.url, env)
  await eventually(async () => await redis.hget(keys.dispatch(sent.dispatch_id), 'open') === '0', 'every delivery to finish', 90_000)

  const ids = Array.from({ length: sent.deliveries }, (_, i) => deliveryId(sent.dispatch_id, i))
  const pipeline = redis.pipeline()
  for (const id of ids) pipeline.hmget(keys.delivery(id), 'messenger', 'state')
  const records = ((await pipeline.exec()) ?? []).map(([, value]) => value as [string, string])
  const wrong = records.filter(([messenger, state]) => state !== (messenger === 'viber' ? 'failed' : 'sent'))
  t.same(wrong, [], 'Telegram and WhatsApp sent, Viber failed: nothing stuck, nothing lost')
  t.same(await redis.hmget(keys.dispatch(sent.dispatch_id), 'n:sent', 'n:failed', 'n:queued', 'n:sending'),
    [String(2 * CONTACTS), String(CONTACTS), '0', '0'], 'the dispatch\'s counts agree')

  const received = await mock.received({ outcome: 'accepted' })
  const arrived = new Set(received.messages.map((m) => m.idempotencyKey))
  const expected = ids.filter((_, i) => records[i]?.[0] !== 'viber')
  t.same(expected.filter((id) => !arrived.has(id)), [], 'every Telegram and WhatsApp delivery reached the mock')
  const repeats = Object.keys(received.repeats).length
  t.ok(repeats <= 2 * CONCURRENCY, `at most the sends in flight at the kill were repeated (${repeats}), each with its delivery id`)
  t.comment(`${atKill} arrived before the kill; ${repeats} sent twice after the restart`)
})
