/**
 * The service and the mock as real processes (the way `npm start` runs them),
 * on free loopback ports, for end-to-end, crash and shutdown tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { freePort } from '../../scripts/free-port.js'
import { TEST_ENV } from './app.js'
import { DEFAULT_TARGET, REDIS_URL } from './redis.js'

/** The repository's root directory. */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const root = repositoryRoot

export { freePort }

const START_TIMEOUT_MS = 90_000

/** Children still running when the test process exits without its teardown (an error, a timeout) go with it. */
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const child of children) child.kill('SIGKILL') })

export interface RunningProcess {
  child: ChildProcess
  url: string
  /** Everything the process printed so far. */
  output (): string
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>
}

/** The newest modification time of the TypeScript files under `dir`. */
function newestSource (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

let checkedBuild = false

/**
 * The Node command that runs a TypeScript entry point (`src/server.ts`) as the
 * build made it (`dist/src/server.js`; npm test builds first), as npm start
 * and the installed fanout command run it. A child started through tap's
 * TypeScript loader spends seconds transpiling before it does anything (most
 * of the CLI tests' time); the built one starts at once, and its coverage still
 * counts against the TypeScript through the source maps. A build older than
 * the sources is refused, so a test never runs yesterday's code.
 */
export function builtCommand (entry: string): string[] {
  const built = join(root, 'dist', entry.replace(/\.ts$/, '.js'))
  if (!checkedBuild) {
    const builtAt = (() => { try { return statSync(built).mtimeMs } catch { return 0 } })()
    const sources = Math.max(...['src', 'mock-messengers', 'scripts'].map((dir) => newestSource(join(root, dir))))
    if (builtAt < sources) throw new Error(`${built} is missing or older than the sources: run \`npm run build\` (npm test builds before it tests)`)
    checkedBuild = true
  }
  return [process.execPath, '--enable-source-maps', built]
}

/**
 * Runs a TypeScript entry point, as built (builtCommand), as its own process,
 * until it answers `readyPath`.
 */
export async function runProcess (t: Test, entry: string, env: Record<string, string>, port: number, readyPath: string): Promise<RunningProcess> {
  const [command, ...args] = builtCommand(entry)
  const child = spawn(command!, args, {
    cwd: root,
    // The test's own environment goes along: it carries tap's hook that collects the child's coverage.
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.add(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => { children.delete(child); resolve(code ?? signal ?? 'unknown') }))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const url = `http://127.0.0.1:${port}`
  // Several processes starting at once on two busy cores take a while.
  const deadline = Date.now() + START_TIMEOUT_MS
  while (true) {
    if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${output}`)
    const up = await fetch(url + readyPath, { signal: AbortSignal.timeout(1000) }).then(async (r) => { await r.body?.cancel(); return r.ok }, () => false)
    if (up) break
    if (Date.now() > deadline) throw new Error(`${entry} did not answer ${readyPath} within ${START_TIMEOUT_MS / 1000} s:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, url, output: () => output, exited }
}

/**
 * The service process, on its own key prefix, sending to the mock at `mockUrl`,
 * on the run's Redis (or the one `redisEnv` names: REDIS_URL, or REDIS_CLUSTER_NODES...),
 * on `port` (a restart on the same address), or a free one.
 */
export async function runService (t: Test, prefix: string, mockUrl: string, env: Record<string, string> = {},
  redisEnv: Record<string, string> = { REDIS_URL, ...DEFAULT_TARGET.env }, port?: number): Promise<RunningProcess> {
  for (let attempt = 1; ; attempt++) {
    const listenOn = port ?? await freePort()
    try {
      return await runProcess(t, 'src/server.ts', {
        ...TEST_ENV,
        LOG_LEVEL: 'info',
        ...redisEnv,
        REDIS_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(listenOn),
        TELEGRAM_API_URL: `${mockUrl}/telegram`,
        WHATSAPP_API_URL: `${mockUrl}/whatsapp`,
        VIBER_API_URL: `${mockUrl}/viber`,
        ...env
      }, listenOn, '/health')
    } catch (err) {
      // A port found free can be taken before the service listens on it (a server of another test file,
      // started meanwhile): a port of this helper's choosing is chosen again; one the caller gave is not.
      if (port !== undefined || attempt === 3 || !String(err).includes('EADDRINUSE')) throw err
    }
  }
}

/** The mock messengers' own process (mock-messengers/server.ts). */
export async function runMock (t: Test): Promise<RunningProcess> {
  const port = await freePort()
  return await runProcess(t, 'mock-messengers/server.ts', { MOCK_HOST: '127.0.0.1', MOCK_PORT: String(port) }, port, '/_mock/behaviour')
}
