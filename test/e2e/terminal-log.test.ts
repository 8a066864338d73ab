/**
 * The service's log as people and programs read it: readable lines in a
 * terminal (pino-pretty), one JSON object a line anywhere else.
 */
import t from 'tap'
import { eventually, TEST_ENV } from '../helpers/app.js'
import { builtCommand, freePort, runService } from '../helpers/processes.js'
import { DEFAULT_TARGET, REDIS_URL, freshPrefix, testRedis } from '../helpers/redis.js'
import { openTerminal } from '../helpers/terminal.js'

t.test('in a terminal the log is readable lines; through a pipe, JSON lines', async (t) => {
  const prefix = freshPrefix()
  testRedis(t, prefix)
  const port = await freePort()
  const env = { ...TEST_ENV, LOG_LEVEL: 'info', REDIS_URL, ...DEFAULT_TARGET.env, REDIS_PREFIX: prefix, HOST: '127.0.0.1', PORT: String(port), ROLE: 'api' }
  const terminal = await openTerminal(t, builtCommand('src/server.ts'), env)
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => await fetch(`${url}/health`).then((r) => r.ok, () => false), 'the service in the terminal to answer', 90_000)
  await (await fetch(`${url}/v1/contacts`, { headers: { 'x-user-name': 'ann' } })).body?.cancel()
  const screen = await eventually(async () => {
    const text = await terminal.screen()
    return /INFO.*request/.test(text) && text.includes('/v1/contacts') ? text : undefined
  }, 'the request line on the screen')
  t.match(screen, /\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request\n\s+reqId: "req-\d+"/, 'a time, a level in words, the message')
  t.notMatch(screen, /\{"level":/, 'no JSON on the screen')

  const pipedPrefix = freshPrefix()
  testRedis(t, pipedPrefix)
  const piped = await runService(t, pipedPrefix, 'http://127.0.0.1:9', { ROLE: 'api' })
  await (await fetch(`${piped.url}/v1/contacts`, { headers: { 'x-user-name': 'ann' } })).body?.cancel()
  const lines = await eventually(async () => {
    const all = piped.output().split('\n').filter((l) => l !== '')
    return all.some((l) => l.includes('/v1/contacts')) ? all : undefined
  }, 'the request line in the pipe')
  t.ok(lines.every((l) => typeof JSON.parse(l) === 'object'), 'every line a JSON object')
  t.ok(lines.some((l) => /^\{"level":30,.*"url":"\/v1\/contacts","statusCode":200/.test(l)), 'the request, as JSON')
})
