/**
 * An address's health against a real Redis: marked by failures that say it
 * is dead, cleared by news that it is alive, and, since webhooks come out of
 * order and repeated, the end state depends only on what was heard, not on
 * the order: dead when the latest failure is later than the latest news of
 * life, with that failure's reason, and counting the failures after it.
 */
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { createAddressFacts } from '../../src/addresses/address-facts.js'
import type { Unreachable } from '../../src/messengers/adapter.js'
import { redisKeys } from '../../src/redis-keys.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const BLOCKED: Unreachable = { code: 403, reason: 'blocked' }
const NOT_STARTED: Unreachable = { code: 403, reason: 'not_started' }

function setup (t: Test) {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  return { redis, keys: redisKeys(prefix), facts: createAddressFacts(redis, redisKeys(prefix)) }
}

t.test('marks, counts, clears; an address never heard of is reachable', async (t) => {
  const { facts } = setup(t)
  t.same(await facts.health('telegram', '123'), { reachable: true }, 'nothing known: reachable')

  await facts.markUnreachable('telegram', '123', NOT_STARTED, 1000)
  t.same(await facts.health('telegram', '123'), { reachable: false, reason: 'not_started', code: 403, at: 1000, count: 1 })
  await facts.markUnreachable('telegram', '123', BLOCKED, 2000)
  await facts.markUnreachable('telegram', '123', BLOCKED, 2000)
  t.same(await facts.health('telegram', '123'), { reachable: false, reason: 'blocked', code: 403, at: 2000, count: 2 }, 'the latest failure speaks; a repeat counts once')
  t.same(await facts.unreachable([{ messenger: 'telegram', address: '123' }, { messenger: 'viber', address: '123' }, { messenger: 'telegram', address: '456' }]),
    [true, false, false], 'the bulk read: per messenger and address')

  await facts.clearHealth('telegram', '123', 1500)
  t.same(await facts.health('telegram', '123'), { reachable: false, reason: 'blocked', code: 403, at: 2000, count: 1 },
    'news of life older than the latest failure keeps the mark, and the failures before it no longer count')
  await facts.clearHealth('telegram', '123', 3000)
  t.same(await facts.health('telegram', '123'), { reachable: true }, 'a later success clears it')
  await facts.markUnreachable('telegram', '123', BLOCKED, 2500)
  t.same(await facts.health('telegram', '123'), { reachable: true }, 'a failure dated before the success, told after it, changes nothing')

  await facts.markUnreachable('viber', 'v-id', { code: 'unsubscribed', reason: 'unsubscribed' }, 10)
  t.same(await facts.health('viber', 'v-id'), { reachable: false, reason: 'unsubscribed', code: 'unsubscribed', at: 10, count: 1 }, 'a code that is not a number stays text')
  await facts.clearHealth('viber', 'v-id')
  t.same(await facts.health('viber', 'v-id'), { reachable: true }, 'clearHealth without a time: now (a reset)')
})

t.test('receipts: WhatsApp 131026 marks the number, delivered and read clear it, other failures say nothing of it', async (t) => {
  const { facts } = setup(t)
  await facts.noteReceipts('whatsapp', '+15551234567', [{ status: 'failed', at: 1000, code: 131047, error: 're-engagement' }])
  t.same(await facts.health('whatsapp', '+15551234567'), { reachable: true }, '131047 (outside the window) is no dead number')
  await facts.noteReceipts('whatsapp', '+15551234567', [{ status: 'sent', at: 900 }, { status: 'failed', at: 1000, code: 131026, error: 'undeliverable' }])
  t.same(await facts.health('whatsapp', '+15551234567'), { reachable: false, reason: 'not_on_whatsapp', code: 131026, at: 1000, count: 1 })
  await facts.noteReceipts('whatsapp', '+15551234567', [{ status: 'delivered', at: 1200 }])
  t.same(await facts.health('whatsapp', '+15551234567'), { reachable: true }, 'delivered on another device afterwards: alive')
  await facts.noteReceipts('viber', 'v-id', [{ status: 'failed', at: 1000, error: 'viber failed' }])
  t.same(await facts.health('viber', 'v-id'), { reachable: true }, 'a Viber failed callback carries no code that says the user is gone')
})

t.test('property: any order of the same news gives the same health, the one the times say', async (t) => {
  const { facts } = setup(t)
  type News = { kind: 'dead', at: number, reason: 'blocked' | 'not_started' } | { kind: 'alive', at: number }
  const news = fc.oneof(
    fc.record({ kind: fc.constant('dead' as const), at: fc.integer({ min: 1, max: 60 }), reason: fc.constantFrom('blocked' as const, 'not_started' as const) }),
    fc.record({ kind: fc.constant('alive' as const), at: fc.integer({ min: 1, max: 60 }) })
  )
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.array(news, { minLength: 1, maxLength: 12 }), fc.boolean(), async (heard: News[], concurrent) => {
    runs++
    const address = `chat-${runs}`
    const orders = [heard, [...heard].reverse(), [...heard].sort((a, b) => b.at - a.at)]
    const healths = []
    for (const [i, order] of orders.entries()) {
      const each = async (n: News) => n.kind === 'dead'
        ? await facts.markUnreachable('telegram', `${address}-${i}`, { code: 403, reason: n.reason }, n.at)
        : await facts.clearHealth('telegram', `${address}-${i}`, n.at)
      if (concurrent) await Promise.all(order.map(each))
      else for (const n of order) await each(n)
      healths.push(await facts.health('telegram', `${address}-${i}`))
    }
    const alive = Math.max(0, ...heard.filter((n) => n.kind === 'alive').map((n) => n.at))
    const failures = heard.filter((n): n is Extract<News, { kind: 'dead' }> => n.kind === 'dead' && n.at > alive)
    const latest = Math.max(...failures.map((n) => n.at))
    const want = failures.length === 0
      ? { reachable: true }
      : {
          reachable: false,
          // A tie at the latest time: the greater reason, as the script decides.
          reason: failures.filter((n) => n.at === latest).map((n) => n.reason).sort().at(-1),
          code: 403,
          at: latest,
          count: new Set(failures.map((n) => n.at)).size
        }
    for (const health of healths) {
      if (JSON.stringify(health) !== JSON.stringify(want)) throw new Error(`${JSON.stringify(heard)}: ${JSON.stringify(healths)}, not ${JSON.stringify(want)}`)
    }
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 60) })
  t.pass(`${runs} sets of news, each in three orders`)
})
