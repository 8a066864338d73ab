/**
 * Real Redis topologies on free loopback ports, from Debian's redis-server,
 * for the tests and the benchmarks: a Redis Cluster of three masters and
 * three replicas (`redis-cli --cluster create`), and a master with a replica
 * watched by three sentinels. Every server runs with this repository's
 * redis.conf, in a directory of its own below `dir`, and can be killed and
 * started again (failover tests).
 *
 * As a command (`tsx scripts/redis-topology.ts <dir>`, run by
 * scripts/with-redis.sh): starts both, prints their settings as environment
 * lines (TEST_REDIS_CLUSTER_NODES=..., TEST_REDIS_SENTINELS=...), and stops
 * them when it is sent SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort } from './free-port.js'
import { redisPingReply } from './redis-probe.js'
import { sourcePath } from '../src/source-path.js'

const run = promisify(execFile)
/** This repository's redis.conf, from scripts/ and from the built dist/scripts/ alike. */
export const REDIS_CONF = sourcePath(import.meta.url, '..', 'redis.conf')

/** Servers still running when this process exits without stopping them (a test that failed or timed out) go with it. */
const started = new Set<ChildProcess>()
process.once('exit', () => { for (const child of started) child.kill('SIGKILL') })

/** One redis-server (or sentinel) process, with what it takes to start it again. */
export class RedisServer {
  #child: ChildProcess | undefined
  constructor (readonly port: number, readonly args: readonly string[], readonly dir: string) {}

  get pid (): number | undefined {
    return this.#child?.pid
  }

  get running (): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
  }

  async start (): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    const child = spawn('redis-server', [...this.args], { cwd: this.dir, stdio: 'ignore' })
    this.#child = child
    started.add(child)
    child.once('exit', () => started.delete(child))
    const deadline = Date.now() + 10_000
    while ((await redisPingReply(this.port)) === undefined) {
      if (!this.running) throw new Error(`redis-server on ${this.port} exited at start (${this.args.join(' ')})`)
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer within 10 s`)
      await sleep(50)
    }
  }

  /** SIGKILL: what a crashed machine does (no shutdown, no last write). */
  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child
    if (child === undefined || !this.running) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited
  }
}

/**
 * The arguments of a redis-server in `home` on `port`: a configuration file
 * of its own that includes this repository's redis.conf (Sentinel makes a
 * server rewrite its configuration file when it fails over: the shared one
 * must stay as it is), and the data in `home`.
 */
export function serverArgs (home: string, port: number, ...more: string[]): string[] {
  mkdirSync(home, { recursive: true })
  const conf = join(home, 'redis.conf')
  writeFileSync(conf, `include ${REDIS_CONF}\n`)
  return [conf, '--port', String(port), '--dir', home, '--appendfsync', 'no', ...more]
}

async function cli (port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout
}

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`)
    await sleep(100)
  }
}

export interface RedisCluster {
  servers: RedisServer[]
  /** `host:port,host:port`, as REDIS_CLUSTER_NODES takes it. */
  nodes: string
  /** The server that is master of the slot of `key` now. */
  masterOf (key: string): Promise<RedisServer>
  /** Waits until every slot is served again (after a failover). */
  healthy (): Promise<void>
  stop (): Promise<void>
}

/**
 * A cluster of three masters, each with a replica. Nodes time each other out
 * after `nodeTimeoutMs`, so a killed master's replica takes over within a few
 * seconds.
 */
export async function startCluster (dir: string, nodeTimeoutMs = 1000): Promise<RedisCluster> {
  const ports: number[] = []
  for (let i = 0; i < 6; i++) ports.push(await freePort())
  const servers = ports.map((port) => {
    const home = join(dir, `cluster-${port}`)
    return new RedisServer(port, serverArgs(home, port,
      '--cluster-enabled', 'yes', '--cluster-config-file', join(home, 'nodes.conf'), '--cluster-node-timeout', String(nodeTimeoutMs)), home)
  })
  await Promise.all(servers.map(async (s) => { await s.start() }))
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'])
  const cluster: RedisCluster = {
    servers,
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    async masterOf (key) {
      const slot = Number(await cli(ports[0]!, 'cluster', 'keyslot', key))
      for (const server of servers.filter((s) => s.running)) {
        const lines = (await cli(server.port, 'cluster', 'nodes')).split('\n')
        const self = lines.find((line) => line.includes('myself'))
        if (self === undefined || !/\bmaster\b/.test(self) || /\bfail\b/.test(self)) continue
        const ranges = self.split(' ').slice(8)
        if (ranges.some((range) => { const [from, to = from] = range.split('-').map(Number); return slot >= from! && slot <= to! })) return server
      }
      throw new Error(`no running master has slot ${slot}`)
    },
    async healthy () {
      await until('the cluster to serve every slot', async () => {
        const up = servers.filter((s) => s.running)
        const infos = await Promise.all(up.map(async (s) => await cli(s.port, 'cluster', 'info')))
        return infos.every((info) => /cluster_state:ok/.test(info))
      })
    },
    async stop () {
      await Promise.all(servers.map(async (s) => { await s.kill('SIGTERM') }))
    }
  }
  await cluster.healthy()
  return cluster
}

export interface SentinelGroup {
  master: RedisServer
  replica: RedisServer
  sentinels: RedisServer[]
  /** `host:port,...`, as REDIS_SENTINELS takes it. */
  addresses: string
  name: string
  /** The port of the master the sentinels name now. */
  currentMasterPort (): Promise<number>
  stop (): Promise<void>
}

/** A master, its replica, and three sentinels that fail over after `downAfterMs` without an answer. */
export async function startSentinelGroup (dir: string, downAfterMs = 1000, name = 'mymaster'): Promise<SentinelGroup> {
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, async () => await freePort())) as [number, number, ...number[]]
  const redis = (port: number, ...more: string[]) => {
    const home = join(dir, `sentinel-redis-${port}`)
    return new RedisServer(port, serverArgs(home, port, ...more), home)
  }
  const master = redis(masterPort)
  const replica = redis(replicaPort, '--replicaof', '127.0.0.1', String(masterPort))
  await master.start()
  await replica.start()
  const sentinels = sentinelPorts.map((port) => {
    const home = join(dir, `sentinel-${port}`)
    mkdirSync(home, { recursive: true })
    const conf = join(home, 'sentinel.conf')
    // Sentinel rewrites its configuration file as it learns: it must be its own, writable.
    writeFileSync(conf, [
      `port ${port}`,
      'bind 127.0.0.1',
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${Math.max(3000, 3 * downAfterMs)}`,
      `sentinel parallel-syncs ${name} 1`
    ].join('\n') + '\n')
    return new RedisServer(port, [conf, '--sentinel'], home)
  })
  await Promise.all(sentinels.map(async (s) => { await s.start() }))
  const group: SentinelGroup = {
    master,
    replica,
    sentinels,
    addresses: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    name,
    async currentMasterPort () {
      const [, port] = (await cli(sentinelPorts[0]!, 'sentinel', 'get-master-addr-by-name', name)).trim().split('\n')
      return Number(port)
    },
    async stop () {
      await Promise.all([...sentinels, replica, master].map(async (s) => { await s.kill('SIGTERM') }))
    }
  }
  await until('the sentinels to see the replica and each other', async () => {
    const answers = await Promise.all(sentinelPorts.map(async (port) => await cli(port, 'sentinel', 'master', name)))
    return answers.every((answer) => /num-slaves\n1\n/.test(answer) && /num-other-sentinels\n2\n/.test(answer))
  })
  return group
}

// As a command: both topologies until SIGTERM.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2]
  if (dir === undefined) {
    console.error('usage: tsx scripts/redis-topology.ts <dir>')
    process.exit(2)
  }
  // A node timeout of 5 s, not the failover tests' 1 s: on a busy CI machine a master running a big script
  // for a second must not be taken for dead (the shared cluster is never failed over on purpose).
  const [cluster, sentinel] = await Promise.all([startCluster(dir, 5000), startSentinelGroup(dir)])
  console.log(`TEST_REDIS_CLUSTER_NODES=${cluster.nodes}`)
  console.log(`TEST_REDIS_SENTINELS=${sentinel.addresses}`)
  console.log(`TEST_REDIS_SENTINEL_NAME=${sentinel.name}`)
  console.log('READY')
  const stop = () => { void Promise.all([cluster.stop(), sentinel.stop()]).then(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
