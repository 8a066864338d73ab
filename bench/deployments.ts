/**
 * 8. Redis deployments: the same work on one Redis (the run's), on a Redis
 * Cluster of three masters and three replicas started for this section
 * (scripts/redis-topology.ts, on free loopback ports), and on that cluster
 * with REDIS_MIN_REPLICAS_ACK=1 (each send answered only once a replica has
 * it, Redis WAIT). On each:
 *   - pipeline: one send to BENCH_PIPELINE_DELIVERIES / 3 contacts on all
 *     three messengers, deliveries per second from the request to the mock's
 *     answer to the last one (as the pipeline section, Viber accepting);
 *   - sends: small sends (10 contacts, 30 deliveries) answered per second,
 *     10 at a time: where waiting for a replica shows.
 * Baseline: the same figure on one Redis, in this run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCluster } from '../scripts/redis-topology.js'
import { timedSend } from './pipeline.js'
import { startMock, startService, type Mock } from './processes.js'
import { compare, type Figure, type Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, redisClient, round, scenarioPrefix, seedContacts } from './support.js'

const SMALL_SENDS = 600
const SMALL_CONTACTS = 10
const IN_FLIGHT = 10

interface Measured { pipeline: number, sends: number }

async function measure (mock: Mock, prefix: string, contacts: number, concurrency: number, env: Record<string, string>): Promise<Measured> {
  const c = String(concurrency)
  const service = await startService(prefix, mock, { TELEGRAM_CONCURRENCY: c, WHATSAPP_CONCURRENCY: c, VIBER_CONCURRENCY: c, LOG_LEVEL: 'warn', ...env })
  try {
    const user = 'bench-deployments'
    const names = await seedContacts(service.url, user, contacts)
    const pipeline = 3 * contacts / await timedSend(service, mock, user, names, 'deployments')

    let next = 0
    const sendsStarted = performance.now()
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < SMALL_SENDS) {
        const i = next++
        const from = (i * SMALL_CONTACTS) % (contacts - SMALL_CONTACTS)
        await call(service.url, ROUTES.send.call({ user, contacts: names.slice(from, from + SMALL_CONTACTS), text: `small ${i}` }))
      }
    }))
    const sends = SMALL_SENDS / ((performance.now() - sendsStarted) / 1000)
    return { pipeline, sends }
  } finally {
    await service.stop()
  }
}

export async function runDeployments (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const SECTION = 'deployments'
  const { concurrency } = settings.pipeline
  const contacts = Math.max(SMALL_CONTACTS * 2, Math.ceil(settings.pipeline.deliveries / 3))
  const mock = await startMock({ viber: { reject: false } })
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'))
  const results: Record<'single' | 'cluster' | 'replicated', Measured> = {} as never
  try {
    const redis = redisClient('bench-deployments')
    const prefix = scenarioPrefix('deployments')
    results.single = await measure(mock, prefix, contacts, concurrency, {})
    await dropPrefix(redis, prefix)
    redis.disconnect()
    const cluster = await startCluster(dir)
    try {
      const nodes = { REDIS_CLUSTER_NODES: cluster.nodes }
      results.cluster = await measure(mock, scenarioPrefix('deployments-cluster'), contacts, concurrency, nodes)
      results.replicated = await measure(mock, scenarioPrefix('deployments-acked'), contacts, concurrency, { ...nodes, REDIS_MIN_REPLICAS_ACK: '1' })
    } finally {
      await cluster.stop()
    }
  } finally {
    await mock.stop()
    rmSync(dir, { recursive: true, force: true })
  }

  const deliveries = 3 * contacts
  const figures: Figure[] = []
  const one = (name: string, m: Measured, key: keyof Measured, unit: string) =>
    compare(SECTION, name, m[key], unit, { name: 'one Redis', value: results.single[key] })
  figures.push(
    { section: SECTION, name: `one Redis: ${deliveries.toLocaleString('en-US')} deliveries, request to mock`, value: results.single.pipeline, unit: 'deliveries/s' },
    one(`Redis Cluster (3 masters, 3 replicas): ${deliveries.toLocaleString('en-US')} deliveries`, results.cluster, 'pipeline', 'deliveries/s'),
    one(`cluster, REDIS_MIN_REPLICAS_ACK=1: ${deliveries.toLocaleString('en-US')} deliveries`, results.replicated, 'pipeline', 'deliveries/s'),
    { section: SECTION, name: `one Redis: sends of ${SMALL_CONTACTS} contacts (${3 * SMALL_CONTACTS} deliveries), ${IN_FLIGHT} at a time`, value: results.single.sends, unit: 'sends/s' },
    one('Redis Cluster: the same sends', results.cluster, 'sends', 'sends/s'),
    one('cluster, REDIS_MIN_REPLICAS_ACK=1: the same sends', results.replicated, 'sends', 'sends/s')
  )
  return {
    section: SECTION,
    figures,
    notes: [
      `one service process (ROLE=all), concurrency ${concurrency} per messenger, rate limits off, Viber accepting; the cluster's six servers share the machine with everything else`,
      `pipeline deliveries/s: single ${round(results.single.pipeline)}, cluster ${round(results.cluster.pipeline)}, cluster + 1 replica ack ${round(results.replicated.pipeline)}`
    ]
  }
}
