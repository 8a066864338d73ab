/**
 * Several processes on one Redis Cluster (started for the test): two API
 * processes (ROLE=api) take ten sends of 1,000 deliveries between them, and
 * three worker processes (ROLE=worker) send them all. Every one of the
 * 10,000 deliveries ends in exactly one final state, and Telegram's
 * 30-a-second limit holds across the three workers together, not per
 * worker.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startCluster } from '../../scripts/redis-topology.js'
import { client, listAll, type ApiDelivery } from '../helpers/api.js'
import { eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { runService } from '../helpers/processes.js'
import { freshPrefix } from '../helpers/redis.js'

const DISPATCHES = 10
// 10,000 in all: enough for the three workers to race over every queue for the whole of Telegram's 20 s at 30 a second.
const WHATSAPP_EACH = 940
const TELEGRAM_EACH = 60
const TELEGRAM_PER_SECOND = 30

t.test('2 API and 3 worker processes on a cluster: 10,000 deliveries, one final state each, Telegram\'s limit across all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-processes-'))
  const cluster = await startCluster(dir)
  t.teardown(async () => { await cluster.stop(); rmSync(dir, { recursive: true, force: true }) })
  const mock = await startMock(t)
  const prefix = freshPrefix()
  const redisEnv = { REDIS_CLUSTER_NODES: cluster.nodes }
  const env = { LOG_LEVEL: 'warn', TELEGRAM_RATE_PER_SECOND: String(TELEGRAM_PER_SECOND), TELEGRAM_CONCURRENCY: '10', WHATSAPP_CONCURRENCY: '10' }
  const booting = Date.now()
  const [apis] = await Promise.all([
    Promise.all([1, 2].map(async () => await runService(t, prefix, mock.url, { ...env, ROLE: 'api' }, redisEnv))),
    Promise.all([1, 2, 3].map(async () => await runService(t, prefix, mock.url, { ...env, ROLE: 'worker' }, redisEnv)))
  ])
  t.comment(`five processes up in ${((Date.now() - booting) / 1000).toFixed(1)} s`)

  const started = Date.now()
  const ids: string[] = []
  for (let d = 0; d < DISPATCHES; d++) {
    const api = client(apis[d % 2]!.url, { user: 'many' })
    const addresses = [
      ...Array.from({ length: WHATSAPP_EACH }, (_, i) => ({ messenger: 'whatsapp' as const, address: `+1555${String(3_000_000 + d * WHATSAPP_EACH + i)}` })),
      ...Array.from({ length: TELEGRAM_EACH }, (_, i) => ({ messenger: 'telegram' as const, address: String(700_000 + d * TELEGRAM_EACH + i) }))
    ]
    ids.push((await api('POST', '/v1/dispatches', { text: `part ${d}`, addresses }, { expectStatus: 202 })).json<{ id: string }>().id)
  }

  const api = client(apis[0]!.url, { user: 'many' })
  await eventually(async () => {
    const all = await Promise.all(ids.map(async (id) => (await api('GET', `/v1/dispatches/${id}`, undefined, { expectStatus: 200 })).json<{ status: string }>()))
    return all.every((d) => d.status === 'finished')
  }, 'all ten dispatches to finish', 300_000)
  t.comment(`${DISPATCHES * (WHATSAPP_EACH + TELEGRAM_EACH)} deliveries accepted and sent in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  const listed = await listAll<ApiDelivery>(client(apis[1]!.url, { user: 'many' }), '/v1/deliveries', 'deliveries', 500)
  const total = DISPATCHES * (WHATSAPP_EACH + TELEGRAM_EACH)
  t.equal(new Set(listed.map((d) => d.id)).size, total, `${total} deliveries, each listed once`)
  t.same(listed.filter((d) => d.state !== 'sent').map((d) => `${d.id} ${d.state}`), [], 'every one sent')
  const received = await mock.received({ outcome: 'accepted' })
  t.equal(new Set(received.messages.map((m) => `${m.messenger} ${m.recipient}`)).size, total, 'the mock got every one')
  t.comment(`repeats (at least once): ${received.count - total}`)

  // BullMQ's limiter counts in windows of a second: any 3 s span meets at most 4 of them (120 sends). The times are
  // the mock's, when each request arrived: on a busy machine requests let go in one window can arrive in the next,
  // so the bound allows a fifth window's worth (150), still far below the 270 of three workers limited each alone.
  const times = received.messages.filter((m) => m.messenger === 'telegram').map((m) => Date.parse(m.receivedAt)).sort((a, b) => a - b)
  let busiest = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 3000) j++
    busiest = Math.max(busiest, i - j + 1)
  }
  const spanS = (times.at(-1)! - times[0]!) / 1000
  t.comment(`Telegram: ${times.length} sends over ${spanS.toFixed(1)} s (${(times.length / spanS).toFixed(1)}/s); at most ${busiest} in any 3 s`)
  t.ok(busiest <= 5 * TELEGRAM_PER_SECOND, `at most ${5 * TELEGRAM_PER_SECOND} Telegram sends in any 3 s (three workers at 30/s each would make up to 270)`)
  t.ok(times.length / spanS <= TELEGRAM_PER_SECOND * 1.1, 'about 30 a second on average, across the three workers together')
})
