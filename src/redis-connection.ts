/**
 * Every Redis connection the service opens, by one code path for the three
 * deployments: one server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES:
 * ioredis `Cluster`) or a master behind Sentinel (REDIS_SENTINELS: ioredis
 * follows the failover). Each connection is made for what it does:
 *
 *   commands  the API's records and reads: a command that cannot be sent
 *             (Redis refused or gone) or answered in REDIS_COMMAND_TIMEOUT_MS
 *             (Redis hangs) fails, and the request is answered 503 at once
 *   writes    the one script that writes a whole send (up to 100,000 deliveries): as
 *             `commands`, with WRITE_TIMEOUT_FACTOR times the timeout, for a script that
 *             runs long; Redis away is still found out within the timeout by the
 *             commands a send makes before it
 *   queue     BullMQ producers: fail rather than wait for ever
 *   worker    BullMQ workers, which block on their connection: they retry for
 *             ever (BullMQ requires maxRetriesPerRequest: null) and go on by
 *             themselves when Redis is back
 *
 * Every connection has an error listener that logs, at most once a second
 * per connection (a Redis that is down makes ioredis report every failed
 * reconnection), so nothing is printed outside the JSON log.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import calculateSlot from 'cluster-key-slot'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config.js'

export type RedisClient = Redis | Cluster
export type ConnectionPurpose = 'commands' | 'writes' | 'queue' | 'worker'

type RedisSettings = Config['redis']

/** How many times REDIS_COMMAND_TIMEOUT_MS a send's script may run (100,000 deliveries: about 1.2 s on 2 idle cores). */
export const WRITE_TIMEOUT_FACTOR = 10

function optionsFor (settings: RedisSettings, purpose: ConnectionPurpose, name: string): RedisOptions {
  return {
    connectionName: name,
    ...(settings.username !== undefined && { username: settings.username }),
    ...(settings.password !== undefined && { password: settings.password }),
    // Back within a second of Redis being back, and never a storm of attempts meanwhile.
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
    ...(purpose === 'worker'
      ? { maxRetriesPerRequest: null }
      : purpose === 'queue'
        ? { maxRetriesPerRequest: 2 }
        : purpose === 'writes'
          ? { maxRetriesPerRequest: 1, commandTimeout: WRITE_TIMEOUT_FACTOR * settings.commandTimeoutMs }
          : { maxRetriesPerRequest: 1, commandTimeout: settings.commandTimeoutMs, enableAutoPipelining: true })
  }
}

/** Anything that reports its trouble as 'error' events: a connection, a BullMQ queue or worker. */
interface ErrorEmitter {
  on: (event: 'error', listener: (err: Error) => void) => unknown
}

/** The errors of a process's connections, queues and workers, by message: when each was last logged, and what saw it since. */
const errorsSeen = new Map<string, { last: number, alike: number, seenBy: Set<string> }>()

/**
 * Logs the errors of a connection, or of a BullMQ queue or worker on one.
 * A Redis that is down fails every connection's every reconnection, and
 * each queue and worker repeats its connection's errors: so one error
 * message is logged at most once a second in the process, with how many
 * alike came meanwhile and from which connections. Without a listener,
 * ioredis prints "Unhandled error event" and BullMQ prints to the console:
 * lines outside the JSON log.
 */
export function logErrors (emitter: ErrorEmitter, name: string, log: FastifyBaseLogger): void {
  emitter.on('error', (err: Error) => {
    const now = Date.now()
    const seen = errorsSeen.get(err.message)
    if (seen !== undefined && now - seen.last < 1000) {
      seen.alike++
      seen.seenBy.add(name)
      return
    }
    log.warn({
      err: { message: err.message, code: (err as { code?: string }).code },
      connection: name,
      ...(seen !== undefined && seen.alike > 0 && { alike: seen.alike, alikeFrom: [...seen.seenBy].sort() })
    }, 'redis connection error')
    if (errorsSeen.size > 100) errorsSeen.clear()
    errorsSeen.set(err.message, { last: now, alike: 0, seenBy: new Set() })
  })
}

/** A new connection to the configured Redis, for `purpose`, named `name` (CLIENT LIST shows it). */
export function connectRedis (settings: RedisSettings, purpose: ConnectionPurpose, name: string, log: FastifyBaseLogger): RedisClient {
  const options = optionsFor(settings, purpose, name)
  let client: RedisClient
  if (settings.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      redisOptions: options,
      // Writes and reads of one user's records go to their slot's master: a replica may lag.
      scaleReads: 'master',
      clusterRetryStrategy: (times: number) => Math.min(times * 100, 1000),
      ...(purpose === 'commands' && { enableAutoPipelining: true }),
      ...(purpose === 'worker' && { maxRedirections: 64 }),
      // After a failover the slots move: follow them rather than fail the command.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200
    }
    client = new Cluster(settings.nodes, clusterOptions)
  } else if (settings.mode === 'sentinel') {
    client = new Redis({ ...options, sentinels: settings.sentinels, name: settings.sentinelName, sentinelRetryStrategy: (times: number) => Math.min(times * 100, 1000) })
  } else {
    client = new Redis(settings.url, options)
  }
  logErrors(client, name, log)
  return client
}

/**
 * Closes a connection: QUIT when it is up (what it sent is answered first),
 * a plain disconnect when it is not (QUIT would wait for a Redis that is not
 * there, and a shutdown must not hang on it).
 */
export async function closeRedis (client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    await Promise.race([client.quit().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  }
  client.disconnect()
}

/**
 * Closes a BullMQ worker or queue that works over `connection`. With Redis
 * up, as BullMQ does (a worker first finishes the jobs it holds); with Redis
 * away, a worker at once: what it holds cannot be recorded now, and its jobs
 * go back to the queue when their locks lapse. BullMQ's close waits for ever
 * for a Redis that is not there (taskforcesh/bullmq#4656), so the wait ends
 * after `graceMs` whatever happens: a shutdown must end, and then its
 * connections are dropped. Returns whether it closed in that time.
 */
export async function closeWithin (closable: Closable, connection: RedisClient, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs) })
  let closed: boolean
  try {
    closed = await Promise.race([closable.close(connection.status !== 'ready').then(() => true, () => true), late])
  } finally {
    clearTimeout(timer)
  }
  // Not closed in time: its own connections (a worker's blocking one) go now, or they would keep the process alive.
  if (!closed) await Promise.race([closable.disconnect?.().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  return closed
}

/** A BullMQ worker or queue: `disconnect` drops its connections without waiting for anything. */
interface Closable {
  close: (force?: boolean) => Promise<void>
  disconnect?: () => Promise<void>
}

/**
 * What a Redis error says about Redis, when it is Redis's trouble rather
 * than a fault of ours: `unavailable` (refused, gone, hanging, failing over,
 * still loading) or `full` (maxmemory reached: it refuses writes). Requests
 * that meet it are answered 503 with Retry-After (plugins/app/error-handler.ts).
 */
export function redisTrouble (err: unknown): 'unavailable' | 'full' | undefined {
  const { name, message, code } = err as { name?: string, message?: string, code?: string }
  const text = message ?? ''
  if (/^OOM /.test(text)) return 'full'
  if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError' || text === 'Command timed out' ||
    /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY|NOREPLICAS) /.test(text) ||
    /Connection is closed|Stream isn't writeable|Failed to refresh slots cache|None of startup nodes is available|^Too many Cluster redirections/.test(text) ||
    code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') return 'unavailable'
  return undefined
}

/** How full each Redis master is: used memory against its maxmemory (0: no limit). */
export async function redisMemory (client: RedisClient): Promise<Array<{ node: string, used: number, max: number }>> {
  const masters: Redis[] = client instanceof Cluster ? client.nodes('master') : [client]
  return await Promise.all(masters.map(async (node) => {
    const info = await node.info('memory')
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0)
    return { node: `${node.options.host ?? ''}:${node.options.port ?? ''}`, used: field('used_memory'), max: field('maxmemory') }
  }))
}

/**
 * Waits until at least `replicas` replicas have everything written so far
 * over the connections that wrote `keys` (Redis WAIT, sent to each master
 * that owns one of the keys' slots, once: WAIT counts that connection's
 * writes). Returns the fewest acknowledgements any of them got within
 * `timeoutMs`; a WAIT cut short by the connection's own command timeout
 * counts as none.
 */
export async function waitForReplicas (client: RedisClient, keys: string[], replicas: number, timeoutMs: number): Promise<number> {
  const nodes = new Set<Redis | undefined>()
  for (const key of keys) {
    if (client instanceof Cluster) {
      const owner = client.slots[calculateSlot(key)]?.[0]
      nodes.add(client.nodes('master').find((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}` === owner))
    } else {
      nodes.add(client)
    }
  }
  const acks = await Promise.all([...nodes].map(async (node) => node === undefined
    ? 0
    : await node.wait(replicas, timeoutMs).catch((err: unknown) => {
      if (redisTrouble(err) === 'unavailable') return 0
      throw err
    })))
  return Math.min(...acks)
}
