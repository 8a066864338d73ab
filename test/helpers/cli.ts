/**
 * The fanout command as a person or a script runs it: its own process, as
 * built (builtCommand, as runProcess runs the service), its output and exit
 * code kept. Its environment has
 * none of the person's own fanout settings: HOME is an empty folder of the
 * test's, and FANOUT_* come only from the test.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { ADMIN_KEY, AUTH_ENV } from './app.js'
import { startMock, type TestMock } from './mock.js'
import { builtCommand, freePort, repositoryRoot, runService, type RunningProcess } from './processes.js'
import { freshPrefix, testRedis } from './redis.js'

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** The node arguments that run the command. */
export const cliCommand = (args: string[]): string[] => [...builtCommand('src/cli/main.ts'), ...args]

/** An empty HOME for the test's commands, removed when it ends. */
export function emptyHome (t: Test): string {
  const home = mkdtempSync(join(tmpdir(), 'fanout-cli-home-'))
  t.teardown(() => { rmSync(home, { recursive: true, force: true }) })
  return home
}

/** The test process's environment without the person's fanout settings, with `env` on top. */
export function cliEnv (home: string, env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] =>
    e[1] !== undefined && !e[0].startsWith('FANOUT_') && e[0] !== 'XDG_CONFIG_HOME' && e[0] !== 'NO_COLOR'))
  return { ...base, HOME: home, ...env }
}

/** Runs `fanout <args>` to its end (at most `timeoutMs`), stdin closed. */
export async function runCli (home: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  const [command, ...rest] = cliCommand(args)
  const child = spawn(command!, rest, { cwd: repositoryRoot, env: cliEnv(home, env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => { resolve(c) }))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Starts `fanout <args>` and hands back the running process (to interrupt it, or read it as it goes). */
export function startCli (home: string, args: string[], env: Record<string, string> = {}) {
  const [command, ...rest] = cliCommand(args)
  const child = spawn(command!, rest, { cwd: repositoryRoot, env: cliEnv(home, env), stdio: ['ignore', 'pipe', 'pipe'] })
  const run: CliRun = { code: null, stdout: '', stderr: '' }
  child.stdout.on('data', (chunk: Buffer) => { run.stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { run.stderr += chunk.toString() })
  const done = new Promise<CliRun>((resolve) => child.once('close', (c) => { run.code = c; resolve(run) }))
  return { child, run, done }
}

/** What a test of the command works against: the mock, the service as a process (authentication on) and a user with a key. */
export interface CliFixture {
  mock: TestMock
  service: RunningProcess
  url: string
  port: number
  prefix: string
  key: { id: string, key: string }
  home: string
  /** The environment that runs the command as the user. */
  env: Record<string, string>
  /** Runs the command as the user; fails the test if the key is in what it printed. */
  fanout: (t: Test, args: string[], extraEnv?: Record<string, string>) => Promise<CliRun>
  /** Stops the service (SIGTERM: it drains; SIGKILL: it dies). */
  stopService: (signal: 'SIGTERM' | 'SIGKILL') => Promise<void>
  /** Starts it again on the same port and Redis prefix. */
  startService: () => Promise<void>
}

export const SERVICE_ENV = { ...AUTH_ENV, TELEGRAM_CONCURRENCY: '2' }

export async function cliFixture (t: Test): Promise<CliFixture> {
  const mock = await startMock(t)
  const prefix = freshPrefix()
  testRedis(t, prefix)
  const port = await freePort()
  const fixture = {
    mock,
    prefix,
    port,
    url: `http://127.0.0.1:${port}`,
    home: emptyHome(t),
    service: await runService(t, prefix, mock.url, SERVICE_ENV, undefined, port)
  }
  const created = await fetch(`${fixture.url}/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ann', label: 'laptop' })
  })
  const { key } = await created.json() as { key: { id: string, key: string } }
  const env = { FANOUT_URL: fixture.url, FANOUT_API_KEY: key.key }
  const self: CliFixture = {
    ...fixture,
    key,
    env,
    async fanout (t, args, extraEnv = {}) {
      const run = await runCli(fixture.home, args, { ...env, ...extraEnv })
      t.notOk(run.stdout.includes(key.key) || run.stderr.includes(key.key), `fanout ${args.join(' ')}: the key is not printed`)
      return run
    },
    async stopService (signal) {
      self.service.child.kill(signal)
      await self.service.exited
    },
    async startService () {
      self.service = await runService(t, prefix, mock.url, SERVICE_ENV, undefined, port)
    }
  }
  return self
}
