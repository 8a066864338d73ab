/**
 * Redis away and Redis full, under a running service (a real process on a
 * Redis of its own): a Redis that hangs (SIGSTOP) or is gone (shut down)
 * gets 503 STORE_UNAVAILABLE with Retry-After, not a hang or a 500; /health
 * says Redis is down; everything goes on by itself when Redis is back, and
 * what was accepted before is sent. A shutdown while Redis is away is prompt.
 * The log stays JSON throughout. A Redis at its maxmemory refuses sends with
 * 503 STORE_FULL, with nothing half-written, after a warning.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { RedisServer, serverArgs } from '../../scripts/redis-topology.js'
import { redisKeys } from '../../src/redis-keys.js'
import { client, listAll, type Client } from '../helpers/api.js'
import { ADMIN_KEY, eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { freePort, runService, type RunningProcess } from '../helpers/processes.js'
import { freshPrefix } from '../helpers/redis.js'

/** A redis-server of the test's own (so it can be stopped), with this repository's redis.conf. */
async function ownRedis (t: Test, ...args: string[]): Promise<{ server: RedisServer, url: string, redis: Redis }> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-redis-'))
  const port = await freePort()
  const server = new RedisServer(port, serverArgs(dir, port, ...args), dir)
  await server.start()
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true })
  redis.on('error', () => {})
  t.teardown(async () => {
    redis.disconnect()
    await server.kill('SIGCONT')
    await server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  return { server, url: `redis://127.0.0.1:${port}`, redis }
}

/** The answer to a request, or 'no answer' if there was none within 5 s (a hang). */
async function within5s (url: string, init: RequestInit = {}): Promise<{ status: number, body: any, retryAfter: string | null } | 'no answer'> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })
    return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') }
  } catch {
    return 'no answer'
  }
}

const jsonPost = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', 'x-user-name': 'ops' }, body: JSON.stringify(body) })

/** Every line the service printed that is not a JSON object: there must be none. */
function notJson (service: RunningProcess): string[] {
  return service.output().split('\n').filter((line) => line.trim() !== '').filter((line) => {
    try { return typeof JSON.parse(line) !== 'object' } catch { return true }
  })
}

/** A dispatch of `count` Telegram addresses, through POST /v1/dispatches. */
async function sendTo (api: Client, count: number, text: string, from = 1): Promise<string> {
  const addresses = Array.from({ length: count }, (_, i) => ({ messenger: 'telegram' as const, address: String(from + i) }))
  return (await api('POST', '/v1/dispatches', { text, addresses }, { expectStatus: 202 })).json<{ id: string }>().id
}

async function finishedCounts (api: Client, id: string): Promise<Record<string, number>> {
  return await eventually(async () => {
    const dispatch = (await api('GET', `/v1/dispatches/${id}`, undefined, { expectStatus: 200 })).json<{ status: string, counts: Record<string, number> }>()
    return dispatch.status === 'finished' ? dispatch.counts : undefined
  }, `dispatch ${id} to finish`, 60_000)
}

t.test('Redis hangs (SIGSTOP), then goes on (SIGCONT): 503 while it hangs, nothing lost', async (t) => {
  const { server, url } = await ownRedis(t)
  const mock = await startMock(t)
  await mock.behave('telegram', { latencyMs: [20, 30] })
  const service = await runService(t, freshPrefix(), mock.url, { TELEGRAM_CONCURRENCY: '2' }, { REDIS_URL: url })
  const api = client(service.url, { user: 'ops' })

  const id = await sendTo(api, 200, 'through a hang')
  await eventually(async () => (await mock.received({ messenger: 'telegram' })).count >= 20, 'the first sends')
  await server.kill('SIGSTOP')

  const contact = await within5s(`${service.url}/v1/contacts`, jsonPost({ name: 'Artem', telegram: '5' }))
  t.not(contact, 'no answer', 'a write answers while Redis hangs')
  t.match(contact, { status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } }, retryAfter: /^\d+$/ }, 'a write: 503 STORE_UNAVAILABLE with Retry-After')
  const read = await within5s(`${service.url}/v1/dispatches/${id}`, { headers: { 'x-user-name': 'ops' } })
  t.match(read, { status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } } }, 'a read: the same')
  const health = await within5s(`${service.url}/health`)
  t.match(health, { status: 503, body: { status: 'unavailable', redis: false, redis_mode: 'single', redis_error: String } }, '/health says Redis is down, and why')

  await server.kill('SIGCONT')
  await eventually(async () => (await within5s(`${service.url}/health`)) !== 'no answer' &&
    (await fetch(`${service.url}/health`)).status === 200, '/health to be ok again')
  const counts = await finishedCounts(api, id)
  t.match(counts, { sent: 200, failed: 0, queued: 0, sending: 0 }, 'every delivery accepted before the hang is sent')
  const received = await mock.received({ messenger: 'telegram', outcome: 'accepted' })
  t.equal(new Set(received.messages.map((m) => m.recipient)).size, 200, 'each of the 200 addresses got the text')
  t.same(notJson(service), [], 'every line of the log is JSON')
})

t.test('Redis shut down, then started again: 503 while it is gone, no crash, everything resumes; a shutdown while it is gone is prompt', async (t) => {
  const { server, url } = await ownRedis(t)
  const mock = await startMock(t)
  await mock.behave('telegram', { latencyMs: [20, 30] })
  const prefix = freshPrefix()
  const service = await runService(t, prefix, mock.url, { TELEGRAM_CONCURRENCY: '2' }, { REDIS_URL: url })
  const api = client(service.url, { user: 'ops' })

  const id = await sendTo(api, 200, 'through a restart')
  await eventually(async () => (await mock.received({ messenger: 'telegram' })).count >= 20, 'the first sends')
  // SIGTERM: Redis writes its append-only file and exits, as a restart does.
  await server.kill('SIGTERM')

  const refused = await within5s(`${service.url}/v1/dispatches`, jsonPost({ text: 'not now', addresses: [{ messenger: 'telegram', address: '999' }] }))
  t.match(refused, { status: 503, body: { error: { code: 'STORE_UNAVAILABLE' } }, retryAfter: /^\d+$/ }, 'a send: 503 STORE_UNAVAILABLE with Retry-After')
  t.match(await within5s(`${service.url}/health`), { status: 503, body: { redis: false } }, '/health says Redis is down')
  // A few seconds away: the senders wait for it rather than burn attempts.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal(service.child.exitCode, null, 'the service is still running')

  await server.start()
  await eventually(async () => (await fetch(`${service.url}/health`)).status === 200, '/health to be ok again')
  // Every connection, queue and worker saw Redis go: one line a second per message for all of them.
  const errorLines = service.output().split('\n').filter((line) => line.includes('"redis connection error"'))
    .map((line) => JSON.parse(line) as { time: number, err: { message: string }, alikeFrom?: string[] })
  const byMessage = new Map<string, number[]>()
  for (const line of errorLines) byMessage.set(line.err.message, [...byMessage.get(line.err.message) ?? [], line.time])
  t.ok(errorLines.length > 0, `${errorLines.length} lines of redis connection errors, ${byMessage.size} messages`)
  for (const [message, times] of byMessage) {
    const gaps = times.slice(1).map((time, i) => time - times[i]!)
    t.ok(gaps.every((gap) => gap >= 1000), `"${message}": at most once a second (${gaps.join(', ')} ms apart)`)
  }
  t.ok(errorLines.some((line) => (line.alikeFrom?.length ?? 0) >= 2), 'a line says which other connections saw it too')
  const counts = await finishedCounts(api, id)
  t.match(counts, { sent: 200, failed: 0 }, 'every delivery accepted before the restart is sent, none failed for Redis being away')
  const received = await mock.received({ messenger: 'telegram', outcome: 'accepted' })
  t.equal(new Set(received.messages.map((m) => m.recipient)).size, 200, 'each of the 200 addresses got the text')
  t.notOk(received.messages.some((m) => m.recipient === '999'), 'the refused send was not sent')

  // Redis gone again, and the service is asked to stop: it stops promptly and cleanly, not after the 20 s grace.
  await server.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 500))
  const asked = Date.now()
  service.child.kill('SIGTERM')
  t.equal(await service.exited, 0, 'exit code 0')
  const tookMs = Date.now() - asked
  t.ok(tookMs < 15_000, `stopped in ${tookMs} ms, not held until the grace period ends`)
  t.same(notJson(service), [], 'every line of the log is JSON')
})

t.test('Redis full (maxmemory, noeviction): a warning first, then 503 STORE_FULL, nothing half-written', async (t) => {
  const { redis, url } = await ownRedis(t)
  await redis.connect()
  const mock = await startMock(t)
  const service = await runService(t, freshPrefix(), mock.url, {
    REDIS_MEMORY_WARN_PERCENT: '90', REDIS_MEMORY_CHECK_MS: '100', DEDUP_WINDOW_SECONDS: '0', ADMIN_API_KEY: ADMIN_KEY
  }, { REDIS_URL: url })
  const api = client(service.url, { user: 'ops' })
  // Nothing sent while it fills (every send is scheduled an hour ahead): the records stay.
  const later = new Date(Date.now() + 3600_000).toISOString()
  const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1])
  await redis.config('SET', 'maxmemory', String(used + 3_000_000))

  const accepted: string[] = []
  let full: { status: number, body: any, retryAfter: string | null } | undefined
  for (let i = 0; i < 400 && full === undefined; i++) {
    const addresses = Array.from({ length: 500 }, (_, j) => ({ messenger: 'telegram' as const, address: String(i * 1000 + j + 1) }))
    const answer = await within5s(`${service.url}/v1/dispatches`, jsonPost({ text: `batch ${i}`, addresses, send_at: later }))
    if (answer === 'no answer') throw new Error('a send did not answer')
    if (answer.status === 202) accepted.push(answer.body.id)
    else full = answer
  }
  t.match(full, { status: 503, body: { error: { code: 'STORE_FULL', message: /maxmemory/ } }, retryAfter: /^\d+$/ }, 'once full: 503 STORE_FULL with Retry-After')
  t.ok(accepted.length > 0, `${accepted.length} sends accepted before`)
  // The log line may still be on its way through the pipe.
  const [warning, refusal] = await eventually(async () => {
    const lines = service.output().split('\n')
    const found = [lines.findIndex((line) => line.includes('redis is nearly full')), lines.findIndex((line) => line.includes('"trouble":"full"'))]
    return found.every((i) => i >= 0) && found
  }, 'the warning and the refusal in the log') as [number, number]
  t.match(JSON.parse(service.output().split('\n')[warning]!), { level: 40, usedPercent: Number, warnPercent: 90 }, 'the log warned (level warn) how full Redis is')
  t.ok(warning < refusal, 'the warning came before the first refusal')
  const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
  t.match(metrics, /fanout_redis_memory_used_ratio\{node="[^"]+"\} (0\.9\d*|1(\.0+)?)\b/, 'the metric shows how full it is')

  // Room again: what was accepted is whole, and the refused send left nothing.
  await redis.config('SET', 'maxmemory', '0')
  const dispatches = await listAll<{ id: string, counts: Record<string, number>, total: number }>(api, '/v1/dispatches', 'dispatches', 100)
  t.same(dispatches.map((d) => d.id).sort(), [...accepted].sort(), 'the dispatches are exactly the accepted ones')
  t.ok(dispatches.every((d) => d.total === 500 && d.counts.scheduled === 500), 'each with its 500 deliveries, every one scheduled')
  const { totals } = (await api('GET', '/v1/dispatches?limit=1', undefined, { expectStatus: 200 })).json<{ totals: { dispatches: number, counts: Record<string, number> } }>()
  t.match(totals, { dispatches: accepted.length, counts: { scheduled: 500 * accepted.length } }, 'the user\'s totals agree with them')
  t.same(notJson(service), [], 'every line of the log is JSON')
})

t.test('REDIS_MIN_REPLICAS_ACK=1: a send waits for a replica; with the replica hanging, 503 NOT_REPLICATED', async (t) => {
  const master = await ownRedis(t)
  const replica = await ownRedis(t, '--replicaof', '127.0.0.1', String(master.server.port))
  await replica.redis.connect()
  await eventually(async () => /master_link_status:up/.test(await replica.redis.info('replication')), 'the replica to be in sync')
  const mock = await startMock(t)
  const prefix = freshPrefix()
  const service = await runService(t, prefix, mock.url, { REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '500' }, { REDIS_URL: master.url })
  const api = client(service.url, { user: 'ops' })

  const id = await sendTo(api, 5, 'kept twice')
  t.equal(await replica.redis.exists(redisKeys(prefix).dispatch(id)), 1, 'the replica has the dispatch when the 202 comes')

  await replica.server.kill('SIGSTOP')
  const refused = await within5s(`${service.url}/v1/dispatches`, jsonPost({ text: 'kept once', addresses: [{ messenger: 'telegram', address: '77' }] }))
  t.match(refused, { status: 503, body: { error: { code: 'NOT_REPLICATED', message: /replica/ } }, retryAfter: /^\d+$/ }, 'no replica answered: 503 NOT_REPLICATED with Retry-After')
  await replica.server.kill('SIGCONT')
  await sendTo(api, 1, 'kept twice again', 100)
  t.pass('with the replica back, sends are answered 202 again')
})
