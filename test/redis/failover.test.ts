/**
 * Failover during work, on real topologies started for each test: a Redis
 * Cluster (three masters, three replicas) and a Sentinel group. A fan-out of
 * 3,000 deliveries is under way when a master is killed (SIGKILL): the one
 * that owns the sender's user, the one that owns a send queue, or the
 * Sentinel group's master. After the promotion every delivery reaches
 * exactly one final state, the counts equal the listings, and on the
 * cluster, with REDIS_MIN_REPLICAS_ACK=1, every send answered 202 meanwhile
 * is still there. Sends are at least once: repeats are reported, and each
 * carries the first one's idempotency key.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startCluster, startSentinelGroup, type RedisCluster, type RedisServer } from '../../scripts/redis-topology.js'
import { MESSENGERS, type Messenger } from '../../src/model/messenger.js'
import { redisKeys, sendQueueName } from '../../src/redis-keys.js'
import { client, listAll, type ApiDelivery, type Client } from '../helpers/api.js'
import { eventually } from '../helpers/app.js'
import { startMock, type TestMock } from '../helpers/mock.js'
import { runService, type RunningProcess } from '../helpers/processes.js'
import { freshPrefix } from '../helpers/redis.js'

const PER_MESSENGER = 1000
const FINAL = new Set(['sent', 'delivered', 'read', 'failed', 'cancelled', 'expired', 'suppressed'])

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-failover-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

async function ownCluster (t: Test): Promise<RedisCluster> {
  const cluster = await startCluster(tempDir(t))
  t.teardown(async () => { await cluster.stop() })
  return cluster
}

/** A GET that may meet a Redis failing over: its JSON when it answers 200, else undefined. */
async function tryGet<T> (api: Client, url: string): Promise<T | undefined> {
  const answer = await api('GET', url).catch(() => undefined)
  return answer?.statusCode === 200 ? answer.json<T>() : undefined
}

/** 1,000 addresses on each messenger: 3,000 deliveries. */
function addresses (): Array<{ messenger: Messenger, address: string }> {
  return MESSENGERS.flatMap((messenger) => Array.from({ length: PER_MESSENGER }, (_, i) => ({
    messenger,
    address: messenger === 'telegram' ? String(500_000 + i) : messenger === 'whatsapp' ? `+1555${String(2_000_000 + i)}` : `viber-${i}`
  })))
}

/** Small sends, one after another, until stopped: the 202s they got. */
function keepSending (api: Client): { acceptedSoFar: () => number, stop: () => Promise<{ accepted: string[], refused: number }> } {
  const accepted: string[] = []
  let refused = 0
  const state = { running: true }
  const loop = (async () => {
    for (let i = 0; state.running && i < 2000; i++) {
      const answer = await api('POST', '/v1/dispatches', { text: `meanwhile ${i}`, addresses: [{ messenger: 'telegram', address: String(900_000 + i) }] }).catch(() => undefined)
      if (answer?.statusCode === 202) accepted.push(answer.json<{ id: string }>().id)
      else refused++
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return { acceptedSoFar: () => accepted.length, async stop () { state.running = false; await loop; return { accepted, refused } } }
}

/**
 * The checks after a failover: the dispatch finishes, each of its deliveries
 * is listed once in a final state, the counts equal the listing, every
 * Telegram and WhatsApp address got the text (Viber fails at the mock), and
 * each repeat carries the same idempotency key as the first send.
 */
async function checkFinished (t: Test, api: Client, mock: TestMock, id: string): Promise<void> {
  const dispatch = await eventually(async () => {
    const found = await tryGet<{ status: string, counts: Record<string, number>, total: number }>(api, `/v1/dispatches/${id}`)
    return found?.status === 'finished' && found
  }, 'the dispatch to finish after the failover', 180_000)
  const listed = await eventually(async () => await listAll<ApiDelivery>(api, `/v1/deliveries?dispatch=${id}`, 'deliveries', 500).catch(() => undefined),
    'a listing of its deliveries')
  t.equal(new Set(listed.map((d) => d.id)).size, 3 * PER_MESSENGER, 'every delivery listed, once')
  t.same(listed.filter((d) => !FINAL.has(d.state)).map((d) => `${d.id} ${d.state}`), [], 'each in a final state')
  const tally: Record<string, number> = {}
  for (const d of listed) tally[d.state] = (tally[d.state] ?? 0) + 1
  t.same(Object.fromEntries(Object.entries(dispatch.counts).filter(([, n]) => n > 0)), tally, 'the counts equal the listing')
  t.same(tally, { sent: 2 * PER_MESSENGER, failed: PER_MESSENGER }, 'Telegram and WhatsApp sent, Viber failed (the mock)')

  for (const messenger of ['telegram', 'whatsapp'] as const) {
    const received = await mock.received({ messenger, outcome: 'accepted' })
    const mine = received.messages.filter((m) => m.text === 'during a failover')
    const byRecipient = new Map<string, Set<string | undefined>>()
    for (const m of mine) byRecipient.set(m.recipient, (byRecipient.get(m.recipient) ?? new Set()).add(m.idempotencyKey))
    t.equal(byRecipient.size, PER_MESSENGER, `${messenger}: every address got the text`)
    const repeats = mine.length - byRecipient.size
    t.comment(`${messenger}: ${repeats} repeated sends (at least once)`)
    t.ok([...byRecipient.values()].every((keys) => keys.size === 1), `${messenger}: a repeat carries the first send's idempotency key`)
  }
}

async function fanOut (t: Test, env: Record<string, string>, redisEnv: Record<string, string>): Promise<{ service: RunningProcess, api: Client, mock: TestMock, prefix: string, id: string }> {
  const mock = await startMock(t)
  for (const messenger of ['telegram', 'whatsapp'] as const) await mock.behave(messenger, { latencyMs: [5, 15] })
  const prefix = freshPrefix()
  const service = await runService(t, prefix, mock.url, {
    LOG_LEVEL: 'warn', TELEGRAM_CONCURRENCY: '8', WHATSAPP_CONCURRENCY: '8', VIBER_CONCURRENCY: '8', ...env
  }, redisEnv)
  const api = client(service.url, { user: 'failover' })
  const id = (await api('POST', '/v1/dispatches', { text: 'during a failover', addresses: addresses() }, { expectStatus: 202 })).json<{ id: string }>().id
  await eventually(async () => (await mock.received({ outcome: 'accepted' })).count >= 300, 'the fan-out to be under way')
  return { service, api, mock, prefix, id }
}

async function killAndRecover (t: Test, cluster: RedisCluster, master: RedisServer): Promise<void> {
  await master.kill('SIGKILL')
  await cluster.healthy()
  // Back, it joins as its successor's replica (with REDIS_MIN_REPLICAS_ACK=1 that shard needs one again).
  await master.start()
  t.pass(`master on port ${master.port} killed; its replica took over; it came back as a replica`)
}

t.test('Redis Cluster: the master that owns the sender\'s user dies mid-fan-out', async (t) => {
  const cluster = await ownCluster(t)
  const { api, mock, prefix, id } = await fanOut(t, { REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '1000' }, { REDIS_CLUSTER_NODES: cluster.nodes })
  const meanwhile = keepSending(api)
  await new Promise((resolve) => setTimeout(resolve, 300))
  await killAndRecover(t, cluster, await cluster.masterOf(redisKeys(prefix).dispatch(id)))
  await new Promise((resolve) => setTimeout(resolve, 1000))
  // On a busy machine the loop may have made one try meanwhile: it goes on until a send is accepted again.
  await eventually(async () => meanwhile.acceptedSoFar() > 0, 'a send accepted again after the failover', 60_000)
  const { accepted, refused } = await meanwhile.stop()
  t.comment(`sends meanwhile: ${accepted.length} accepted, ${refused} refused (503) during the failover`)
  t.ok(accepted.length > 0, 'some sends were accepted around the failover (the check below is not empty)')
  await checkFinished(t, api, mock, id)
  const missing: string[] = []
  for (const other of accepted) {
    if (await eventually(async () => await api('GET', `/v1/dispatches/${other}`).then((a) => a.statusCode === 503 ? undefined : a.statusCode, () => undefined), 'an answer') !== 200) missing.push(other)
  }
  t.same(missing, [], `every one of the ${accepted.length} sends answered 202 is still there`)
})

t.test('Redis Cluster: the master that owns a send queue dies mid-fan-out', async (t) => {
  const cluster = await ownCluster(t)
  const { api, mock, prefix, id } = await fanOut(t, {}, { REDIS_CLUSTER_NODES: cluster.nodes })
  const userMaster = await cluster.masterOf(redisKeys(prefix).dispatch(id))
  // A queue's keys share the slot of its braced name (src/redis-keys.ts).
  const queueMasters = await Promise.all(MESSENGERS.map(async (messenger) => await cluster.masterOf(sendQueueName(messenger))))
  t.equal(new Set(queueMasters.map((m) => m.port)).size, 3, 'the three send queues are on three different masters')
  const index = queueMasters.findIndex((master) => master !== userMaster)
  t.comment(`killing the master of the ${MESSENGERS[index]!} queue, which is not the user's`)
  await killAndRecover(t, cluster, queueMasters[index]!)
  await checkFinished(t, api, mock, id)
})

t.test('Sentinel: the master dies mid-fan-out; the sentinels promote its replica and the service follows', async (t) => {
  const group = await startSentinelGroup(tempDir(t))
  t.teardown(async () => { await group.stop() })
  const { api, mock, id } = await fanOut(t, {}, { REDIS_SENTINELS: group.addresses, REDIS_SENTINEL_NAME: group.name })
  const before = await group.currentMasterPort()
  await group.master.kill('SIGKILL')
  const after = await eventually(async () => { const port = await group.currentMasterPort(); return port !== before && port }, 'the sentinels to promote the replica', 60_000)
  t.equal(after, group.replica.port, 'the replica is the master now')
  await checkFinished(t, api, mock, id)
})
