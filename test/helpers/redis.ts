/**
 * The Redis every test talks to: one server per test run, started by
 * scripts/test.sh, whose URL arrives in TEST_REDIS_URL; and, when the run
 * started them (npm test does), a Redis Cluster and a Sentinel group
 * (TEST_REDIS_CLUSTER_NODES, TEST_REDIS_SENTINELS). Each test takes a fresh
 * key prefix and removes its keys when it ends.
 */
import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { connectRedis, type RedisClient } from '../../src/redis-connection.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? ''
if (REDIS_URL === '') {
  throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which starts a Redis for them')
}

export function freshPrefix (): string {
  return `t${randomBytes(6).toString('hex')}`
}

/** One of the Redis deployments the service runs on, as its environment names it. */
export interface RedisTarget {
  name: 'single' | 'cluster' | 'sentinel'
  env: Record<string, string>
}

/**
 * The answer bound of the service's commands in tests. Every deployment here is shared by two test
 * files at once on two cores (and a cluster's or Sentinel group's nine or eleven Redis processes with
 * them), and a file may run a send's script of 100,000 deliveries, which holds the Redis another
 * file's service reads from for a second or two: the default second (meant for a Redis that hangs;
 * test/redis/redis-trouble covers that on Redis servers of its own) failed reads in CI, on the single
 * server and on the cluster.
 */
const SHARED_REDIS_COMMAND_TIMEOUT_MS = '5000'

/** Every deployment this run has: one server always; a cluster and a Sentinel group when npm test started them. */
export const REDIS_TARGETS: RedisTarget[] = [
  { name: 'single', env: { REDIS_URL, REDIS_COMMAND_TIMEOUT_MS: SHARED_REDIS_COMMAND_TIMEOUT_MS } },
  ...(process.env.TEST_REDIS_CLUSTER_NODES !== undefined
    ? [{ name: 'cluster' as const, env: { REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES, REDIS_COMMAND_TIMEOUT_MS: SHARED_REDIS_COMMAND_TIMEOUT_MS } }]
    : []),
  ...(process.env.TEST_REDIS_SENTINELS !== undefined
    ? [{
        name: 'sentinel' as const,
        env: { REDIS_SENTINELS: process.env.TEST_REDIS_SENTINELS, REDIS_SENTINEL_NAME: process.env.TEST_REDIS_SENTINEL_NAME ?? 'mymaster', REDIS_COMMAND_TIMEOUT_MS: SHARED_REDIS_COMMAND_TIMEOUT_MS }
      }]
    : [])
]

/**
 * The deployment tests run on unless they say otherwise: TEST_REDIS_TARGET
 * (single, cluster or sentinel; npm test runs the suites that touch Redis
 * on each).
 */
export const DEFAULT_TARGET: RedisTarget = (() => {
  const name = process.env.TEST_REDIS_TARGET ?? 'single'
  const target = REDIS_TARGETS.find((t) => t.name === name)
  if (target === undefined) throw new Error(`TEST_REDIS_TARGET=${name}, but this run has no such Redis (npm test starts them)`)
  return target
})()

/** The silent logger of connections the tests open themselves. */
const quiet = { warn () {}, error () {}, info () {}, debug () {}, trace () {}, fatal () {}, child () { return quiet }, level: 'silent', silent () {} }

/** A connection to `target`, as the service opens its own (src/redis-connection.ts). */
export function connectTarget (target: RedisTarget, purpose: 'commands' | 'queue' | 'worker' = 'queue'): RedisClient {
  return connectRedis(loadConfig(target.env).redis, purpose, 'fanout-test', quiet as never)
}

/**
 * A Redis client for the test, closed (after deleting the prefix's keys) when the test ends.
 * `purpose`: a connection opened as the service opens that kind (`commands`: auto-pipelined, as the
 * stores' own), rather than a plain one.
 */
export function testRedis (t: Test, prefix?: string, target: RedisTarget = DEFAULT_TARGET, purpose?: 'commands'): RedisClient {
  const redis = purpose !== undefined
    ? connectTarget(target, purpose)
    : target.name === 'single' ? new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }) : connectTarget(target)
  t.teardown(async () => {
    if (prefix !== undefined) await deleteKeys(redis, prefix)
    await redis.quit()
  })
  return redis
}

/** The keys matching `pattern` on every master (a cluster's keys are spread over its nodes), sorted. */
export async function keysMatching (redis: RedisClient, pattern: string): Promise<string[]> {
  const masters = redis instanceof Cluster ? redis.nodes('master') : [redis]
  const found: string[] = []
  for (const node of masters) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      found.push(...keys)
    } while (cursor !== '0')
  }
  return [...new Set(found)].sort()
}

/** Every key of `prefix`, on every master. */
export async function deleteKeys (redis: RedisClient, prefix: string): Promise<void> {
  const keys = await keysMatching(redis, `${prefix}:*`)
  // One at a time: on a cluster, keys of several slots may not go in one command.
  await Promise.all(keys.map(async (key) => await redis.unlink(key)))
}
