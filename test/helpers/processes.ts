/**
 * The service and the mock as real processes (the way `npm start` runs them),
 * on free loopback ports, for end-to-end, crash and shutdown tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
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

/**
 * Runs a TypeScript entry point as its own process, until it answers
 * `readyPath`. It gets the test process's own Node arguments: the same
 * TypeScript loader, so coverage from both lines up.
 */
export async function runProcess (t: Test, entry: string, env: Record<string, string>, port: number, readyPath: string): Promise<RunningProcess> {
  const child = spawn(process.execPath, [...process.execArgv, join(root, entry)], {
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
  port ??= await freePort()
  return await runProcess(t, 'src/server.ts', {
    ...TEST_ENV,
    LOG_LEVEL: 'info',
    ...redisEnv,
    REDIS_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: String(port),
    TELEGRAM_API_URL: `${mockUrl}/telegram`,
    WHATSAPP_API_URL: `${mockUrl}/whatsapp`,
    VIBER_API_URL: `${mockUrl}/viber`,
    ...env
  }, port, '/health')
}

/** The mock messengers' own process (mock-messengers/server.ts). */
export async function runMock (t: Test): Promise<RunningProcess> {
  const port = await freePort()
  return await runProcess(t, 'mock-messengers/server.ts', { MOCK_HOST: '127.0.0.1', MOCK_PORT: String(port) }, port, '/_mock/behaviour')
}
