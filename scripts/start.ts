/**
 * `npm start`: the whole system on one machine. Starts a Redis with our
 * redis.conf (unless REDIS_URL points at one), the mock messengers (unless
 * MOCK_MESSENGERS=off, for when every messenger points at its real API) and
 * the service; says where each listens; stops them all, in order, on Ctrl-C
 * or SIGTERM, or when one of them dies.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { ConfigError, isLoopback, loadConfig, loadDotEnv } from '../src/config.js'
import { redisPingReply } from './redis-probe.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = join(root, 'dist')

interface Running { name: string, child: ChildProcess }
const running: Running[] = []
let stopping = false

function launch (name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile?: string): ChildProcess {
  const out = logFile === undefined ? 'inherit' : openSync(logFile, 'a')
  // Its own process group: a Ctrl-C reaches only this supervisor, which then stops everything in order
  // (a terminal's SIGINT to the whole group would stop Redis while the service is still draining).
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', out, out], detached: true })
  running.push({ name, child })
  child.on('exit', (code, signal) => {
    if (stopping) return
    console.error(`start: ${name} exited (${signal ?? `code ${code}`}); stopping the rest`)
    void stopAll(1)
  })
  return child
}

async function stopAll (exitCode: number): Promise<void> {
  if (stopping) return
  stopping = true
  // The service first (it drains its senders), Redis last (it flushes its append-only file).
  for (const { name, child } of [...running].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timedOut = await Promise.race([exited.then(() => false), sleep(25_000).then(() => true)])
    if (timedOut) {
      console.error(`start: ${name} did not stop in 25 s; killing it`)
      child.kill('SIGKILL')
    }
  }
  process.exit(exitCode)
}

function portIsFree (host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

async function waitFor (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (stopping) return
    if (await check().catch(() => false)) return
    await sleep(100)
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`)
}

async function redisAnswers (port: number): Promise<boolean> {
  // NOAUTH: up, and asking for the password (REDIS_PASSWORD), which the service sends.
  return /^(\+PONG|-NOAUTH)/.test(await redisPingReply(port) ?? '')
}

async function httpAnswers (url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
  await response.body?.cancel()
  return response.ok
}

/** The service's URL as the mock on this machine reaches it (a wildcard address is reached on loopback). */
function receiptsUrl (host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`
}

async function main (): Promise<void> {
  loadDotEnv(join(root, '.env'))
  const config = loadConfig()
  const env: NodeJS.ProcessEnv = { ...process.env }
  const lines: string[] = []
  const notes: string[] = []

  // The quick start works as pasted: a trial on this machine alone needs no keys. Anything else stays secure
  // (AUTH on unless configured otherwise; the service then refuses to start without ADMIN_API_KEY).
  if ((env.AUTH === undefined || env.AUTH === '') && isLoopback(config.host)) {
    env.AUTH = 'off'
    notes.push(`authentication is OFF: a trial on ${config.host} only, where anyone on this machine can act as any user.`,
      'For a deployment set AUTH=on and ADMIN_API_KEY (docs/operations.md, "Production").')
  }
  // A trial's status webhooks go to receivers on the same machine: allowed on a loopback trial only.
  if ((env.WEBHOOK_ALLOW_PRIVATE === undefined || env.WEBHOOK_ALLOW_PRIVATE === '') && isLoopback(config.host)) {
    env.WEBHOOK_ALLOW_PRIVATE = 'true'
    notes.push('status webhooks may go to private and loopback addresses (WEBHOOK_ALLOW_PRIVATE, a loopback trial only).')
  }

  const given = (name: string) => env[name] !== undefined && env[name] !== ''
  if (given('REDIS_CLUSTER_NODES') || given('REDIS_SENTINELS')) {
    // A cluster or a Sentinel group is the operator's: we start no Redis of our own beside it.
    lines.push(given('REDIS_CLUSTER_NODES')
      ? `redis            cluster ${env.REDIS_CLUSTER_NODES} (from REDIS_CLUSTER_NODES)`
      : `redis            sentinels ${env.REDIS_SENTINELS}, master ${env.REDIS_SENTINEL_NAME ?? 'mymaster'} (from REDIS_SENTINELS)`)
  } else if (!given('REDIS_URL')) {
    const port = Number(env.LOCAL_REDIS_PORT ?? 6379)
    if (!await portIsFree('127.0.0.1', port)) {
      throw new Error(`port ${port} is taken. Set REDIS_URL to use the Redis there, or LOCAL_REDIS_PORT to start ours on another port`)
    }
    const dir = join(root, 'data', 'redis')
    mkdirSync(dir, { recursive: true })
    // With REDIS_PASSWORD, our Redis asks for it: set in a file only we can read, not on a command line `ps` shows.
    const conf = join(dir, 'start.conf')
    writeFileSync(conf, [`include ${join(root, 'redis.conf')}`,
      ...(env.REDIS_PASSWORD !== undefined && env.REDIS_PASSWORD !== '' ? [`requirepass "${env.REDIS_PASSWORD.replace(/["\\]/g, '\\$&')}"`] : [])
    ].join('\n') + '\n', { mode: 0o600 })
    chmodSync(conf, 0o600)
    launch('redis', 'redis-server', [conf, '--port', String(port), '--dir', dir], env, join(dir, 'redis.log'))
    await waitFor('redis-server', () => redisAnswers(port))
    env.REDIS_URL = `redis://127.0.0.1:${port}`
    lines.push(`redis            ${env.REDIS_URL} (data and log in ${dir})`)
  } else {
    lines.push(`redis            ${(env.REDIS_URL ?? '').replace(/\/\/[^@/]*@/, '//***@')} (from REDIS_URL)`)
  }

  const serviceUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`
  const mockUrl = `http://${config.mock.host}:${config.mock.port}`
  if (env.MOCK_MESSENGERS !== 'off') {
    // Invite links work in the trial: the mock's bot, chat URI and a made-up business number, and the
    // service's Telegram webhook registered with the mock (so /_mock/telegram/start reaches the service).
    // Only for a messenger that is the mock's, and a webhook URL on this machine (http is allowed on loopback only).
    const telegramHook = `${receiptsUrl(config.host, config.port)}/webhooks/telegram`
    const trial: Array<[string, string, boolean]> = [
      ['TELEGRAM_BOT_USERNAME', 'fanout_mock_bot', !given('TELEGRAM_API_URL')],
      ['TELEGRAM_WEBHOOK_URL', telegramHook, !given('TELEGRAM_API_URL') && isLoopback(new URL(telegramHook).hostname.replace(/^\[(.*)\]$/, '$1'))],
      ['VIBER_CHAT_URI', 'fanoutmock', !given('VIBER_API_URL')],
      ['WHATSAPP_BUSINESS_NUMBER', '+15550001111', !given('WHATSAPP_API_URL')]
    ]
    for (const [name, value, mock] of trial) if (mock && !given(name)) env[name] = value
    // The mock sends its receipts (WhatsApp status webhooks, Viber callbacks) to the service, which starts after it:
    // the first ones that find nobody are retried, then dropped (and recorded at /_mock/receipts).
    const mockEnv = { ...env, MOCK_RECEIPTS_URL: env.MOCK_RECEIPTS_URL ?? receiptsUrl(config.host, config.port) }
    launch('mock messengers', process.execPath, [join(dist, 'mock-messengers', 'server.js')], mockEnv)
    await waitFor('the mock messengers', () => httpAnswers(`${mockUrl}/_mock/behaviour`))
    const profile = env.MOCK_PROFILE ?? 'default'
    lines.push(`mock messengers  ${mockUrl} (profile ${profile}${profile === 'default' ? ': Viber always fails' : ''}; receipts to ${mockEnv.MOCK_RECEIPTS_URL}; ` +
      `what they received: ${mockUrl}/_mock/messages, what they sent back: ${mockUrl}/_mock/receipts)`)
  }
  launch('service', process.execPath, [join(dist, 'src', 'server.js')], env)
  await waitFor('the service', () => httpAnswers(`${serviceUrl}/health`))
  lines.push(`service          ${serviceUrl} (API at ${serviceUrl}/v1, docs at ${serviceUrl}/docs, admin page at ${serviceUrl}/admin, legacy API at ${serviceUrl}/api, health at ${serviceUrl}/health)`)

  console.log(['', 'messenger fan-out is up:', ...lines.map((l) => `  ${l}`), ...notes.map((n) => `  ${n}`), '  stop with Ctrl-C', ''].join('\n'))
}

process.on('SIGINT', () => { void stopAll(0) })
process.on('SIGTERM', () => { void stopAll(0) })
// Last resort if this process ends some other way: leave no child running.
process.on('exit', () => {
  for (const { child } of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
})

main().catch((err: unknown) => {
  console.error(`start: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}`)
  void stopAll(1)
})
