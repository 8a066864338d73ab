/**
 * Secrets hygiene, end to end: a service on a Redis that asks for a password
 * (`requirepass`), messenger tokens of its own, the administrator key and
 * users' keys in use (Bearer and Basic, right and wrong), sends that succeed,
 * fail and are retried: none of these secrets reaches a log line at debug
 * level, an answer (beyond the one that issues a key) or an error message.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import { freePort } from '../../scripts/free-port.js'
import { redisPingReply } from '../../scripts/redis-probe.js'
import { client, settled, type Answer } from '../helpers/api.js'
import { AUTH_ENV, ADMIN_KEY, build, eventually } from '../helpers/app.js'
import { basic, bearer, createUser } from '../helpers/auth.js'
import { startMock } from '../helpers/mock.js'
import { REDIS_TARGETS } from '../helpers/redis.js'

const SINGLE = REDIS_TARGETS[0]!

const REDIS_PASSWORD = 'redis-pass-7c41e0d2b9'
const TOKENS = { telegram: '5550001:tg-token-2f9d1c', whatsapp: 'wa-token-88b0e4a1', viber: 'viber-token-3d77aa10' }

/** A Redis of this test's own that refuses clients without the password. */
async function redisWithPassword (t: Test): Promise<string> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', REDIS_PASSWORD],
    { stdio: 'ignore' })
  t.teardown(async () => { child.kill('SIGTERM'); if (child.exitCode === null) await once(child, 'exit') })
  const url = `redis://127.0.0.1:${port}`
  await eventually(async () => (await redisPingReply(port))?.startsWith('-NOAUTH') === true, 'redis-server to ask for its password')
  return url
}

t.test('no secret in logs, answers or error messages', async (t) => {
  const redisUrl = await redisWithPassword(t)
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
  const mock = await startMock(t, { tokens: TOKENS })
  const { app } = await build(t, {
    mock,
    // Its own Redis, one server, whichever deployment the run is on.
    target: SINGLE,
    logStream: stream,
    env: {
      ...AUTH_ENV,
      LOG_LEVEL: 'debug',
      REDIS_URL: redisUrl,
      REDIS_PASSWORD,
      TELEGRAM_BOT_TOKEN: TOKENS.telegram,
      WHATSAPP_TOKEN: TOKENS.whatsapp,
      VIBER_AUTH_TOKEN: TOKENS.viber,
      DELIVERY_ATTEMPTS: '2'
    }
  })

  t.same((await app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok', redis: true, redis_mode: 'single' }, 'the service works on the password-protected Redis')
  const alice = await createUser(app, 'alice')
  // Every answer from here on (all after the one that issued the key) is kept, to be looked through.
  const answers: string[] = []
  const keep = (res: Answer) => { answers.push(res.body) }
  const call = client(app, { onAnswer: keep })
  const asAlice = client(app, { headers: bearer(alice.key), onAnswer: keep })
  await asAlice('POST', '/v1/contacts', { name: 'Artem', telegram: '123456', whatsapp: '+15551234567', viber: 'artem-viber-id' })
  const accepted = await call('POST', '/v1/dispatches', { text: 'hello', contacts: ['Artem'] }, { headers: basic('alice', alice.key) })
  t.equal(accepted.statusCode, 202)
  await settled(asAlice, accepted.json().id)
  const counts = (await asAlice('GET', `/v1/dispatches/${accepted.json().id as string}`)).json().counts
  t.match(counts, { sent: 2, failed: 1 }, 'Telegram and WhatsApp took the tokens; Viber failed (after a retry)')
  t.equal((await mock.received({ messenger: 'telegram' })).count, 1)

  await call('GET', '/v1/contacts', undefined, { headers: bearer(alice.key.slice(0, -2) + 'zz') })
  await call('GET', '/v1/contacts', undefined, { headers: basic('alice', ADMIN_KEY) })
  await call('GET', '/v1/contacts', undefined, { headers: bearer(ADMIN_KEY) })
  await asAlice('GET', '/v1/admin/users')
  await call('GET', '/v1/admin/users/alice', undefined, { headers: bearer(ADMIN_KEY) })
  await asAlice('GET', '/api/get_failed_mess', { user_name: 'alice' })
  await app.close()

  const log = lines.join('')
  t.ok(log.includes('"msg":"request"') && log.includes('delivery'), 'the log has request and delivery lines to look through')
  const secrets: Record<string, string> = {
    'the Redis password': REDIS_PASSWORD,
    'the administrator key': ADMIN_KEY,
    'the user\'s key': alice.key,
    'the user\'s key secret': alice.key.slice(20),
    // The mistyped key sent above holds all but the last two characters of the real one.
    'the user\'s key, as mistyped': alice.key.slice(0, -2),
    'the Basic credentials': Buffer.from(`alice:${alice.key}`).toString('base64'),
    'the administrator key in Basic credentials': Buffer.from(`alice:${ADMIN_KEY}`).toString('base64'),
    ...Object.fromEntries(Object.entries(TOKENS).map(([messenger, token]) => [`the ${messenger} token`, token]))
  }
  for (const [what, secret] of Object.entries(secrets)) {
    t.notOk(log.includes(secret), `${what}: not in ${lines.length} log lines`)
    t.notOk(answers.some((body) => body.includes(secret)), `${what}: not in ${answers.length} answers after the one that issued the key`)
  }
})
