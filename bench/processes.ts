/**
 * The processes a scenario measures, each its own Node process as `npm start`
 * runs them: the service (dist/src/server.js), the mock messengers (with a
 * counter, bench/mock-server.ts) and the bare Fastify baseline
 * (bench/bare-route.ts). All get the same Node flags as this process and a
 * clean environment (only what is set here, plus PATH and HOME), and run in the
 * temporary directory so that a developer's `.env` changes nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import type { BehaviourConfig, Behaviour } from '../mock-messengers/behaviour.js'
import type { Messenger } from '../src/model/messenger.js'
import { freePort, redisUrl, sleep } from './support.js'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Children still running: killed if the bench itself ends early (an error, Ctrl-C), so none outlives it. */
const running = new Set<ChildProcess>()
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))

export interface Child {
  name: string
  pid: number
  url: string
  /** The last lines the process printed (for error messages). */
  output (): string
  /** SIGTERM (the service finishes the sends it holds), SIGKILL after `graceMs`. */
  stop (graceMs?: number): Promise<void>
}

/**
 * Node flags for the service process and the bare-route baselines (not the mock), from BENCH_SERVICE_NODE_FLAGS,
 * e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile what a scenario makes the service (or a baseline) do.
 */
const serviceFlags = (process.env.BENCH_SERVICE_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '')

async function startChild (name: string, entry: string, env: Record<string, string>, port: number, readyPath: string, flags: string[] = []): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, ...flags, join(dist, entry)], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.add(child)
  let output = ''
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve() }))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited at start:\n${output}`)
    const up = await request(url + readyPath).then(async (r) => { await r.body.dump(); return r.statusCode === 200 }, () => false)
    if (up) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not answer ${readyPath} within 30 s:\n${output}`)
    }
    await sleep(50)
  }
  return {
    name,
    pid: child.pid!,
    url,
    output: () => output,
    async stop (graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }
  }
}

export interface Mock extends Child {
  /** Answers the mock gave on the messenger routes since the last reset, and when the last one went out (epoch ms). */
  count (): Promise<{ count: number, lastAt: number, byMessenger: Record<string, number> }>
  reset (): Promise<void>
  behave (messenger: Messenger, behaviour: Partial<Behaviour>): Promise<void>
  /** The messenger's API base URL, e.g. http://127.0.0.1:port/telegram. */
  api (messenger: Messenger): string
}

/** The mock messengers as their own process; `behaviour` as MOCK_BEHAVIOUR (Viber rejects unless told otherwise). */
export async function startMock (behaviour: BehaviourConfig = {}): Promise<Mock> {
  const port = await freePort()
  const child = await startChild('mock messengers', 'bench/mock-server.js', {
    MOCK_HOST: '127.0.0.1',
    MOCK_PORT: String(port),
    MOCK_BEHAVIOUR: JSON.stringify(behaviour)
  }, port, '/_bench/count')
  const json = async (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(child.url + path, { method, ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
    const answer = await res.body.json()
    if (res.statusCode !== 200) throw new Error(`mock ${method} ${path}: ${res.statusCode} ${JSON.stringify(answer)}`)
    return answer
  }
  return {
    ...child,
    count: async () => await json('GET', '/_bench/count') as { count: number, lastAt: number, byMessenger: Record<string, number> },
    reset: async () => { await json('DELETE', '/_bench/count'); await json('DELETE', '/_mock/messages') },
    behave: async (messenger, change) => { await json('PUT', `/_mock/behaviour/${messenger}`, change) },
    api: (messenger) => `${child.url}/${messenger}`
  }
}

/**
 * The service as its own process on `prefix`, sending to `mock`, rate limits
 * off (the benchmarks measure our pipeline, not the messengers' limits),
 * duplicate suppression off (benchmarks send the same text again and again,
 * and every send must do the whole work), logging at `info` as a production deployment does (the
 * default LOG_LEVEL: a line per request and per delivery state change, which is work the service does
 * in production and must be measured with it). `env` adds to or overrides this.
 */
export async function startService (prefix: string, mock: Mock | undefined, env: Record<string, string> = {}): Promise<Child> {
  const port = await freePort()
  return await startChild('service', 'src/server.js', {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'info',
    TIME_ZONE: 'UTC',
    TELEGRAM_RATE_PER_SECOND: '0',
    WHATSAPP_RATE_PER_SECOND: '0',
    VIBER_RATE_PER_SECOND: '0',
    DEDUP_WINDOW_SECONDS: '0',
    // Loopback only, as `npm start` runs it: users named by X-User-Name, no per-key request limit.
    AUTH: 'off',
    RATE_LIMIT_MAX: '0',
    ...(mock !== undefined && {
      TELEGRAM_API_URL: mock.api('telegram'),
      WHATSAPP_API_URL: mock.api('whatsapp'),
      VIBER_API_URL: mock.api('viber')
    }),
    ...env
  }, port, '/health', serviceFlags)
}

/**
 * The API baseline: a bare Fastify route answering a constant, with the service's server options and log level;
 * with `redis`, the same route doing one Redis round trip first (bench/bare-redis-route.ts), on keys under `redis.prefix`.
 */
export async function startBareRoute (redis?: { prefix: string }): Promise<Child> {
  const port = await freePort()
  return await startChild(redis === undefined ? 'bare route' : 'bare route with Redis', redis === undefined ? 'bench/bare-route.js' : 'bench/bare-redis-route.js', {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    ...(redis !== undefined && { REDIS_URL: redisUrl(), REDIS_PREFIX: redis.prefix })
  }, port, '/bare', serviceFlags)
}

/**
 * The API's same-work baselines (bench/same-work-routes.ts): our three routes written as a minimal
 * implementation would, with the service's server options, on keys under `prefix`.
 */
export async function startSameWorkRoutes (prefix: string): Promise<Child> {
  const port = await freePort()
  return await startChild('same-work routes', 'bench/same-work-routes.js', {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix
  }, port, '/health', serviceFlags)
}
