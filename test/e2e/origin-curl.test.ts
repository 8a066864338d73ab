/**
 * The origin document's curl examples, pasted as they are (only the port
 * changed, since tests run on free ports), against the service and the mock
 * messengers running as their own processes.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { ADMIN_KEY, AUTH_ENV, eventually } from '../helpers/app.js'
import { runMock, runService } from '../helpers/processes.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const exec = promisify(execFile)

/** Verbatim from ../shared/seeds/001_5edb5a6017a7c4e9.txt. */
/* eslint-disable @stylistic/quotes -- the commands hold both kinds of quote: template literals keep them as the origin wrote them */
const ORIGIN = {
  create: `curl --header "Content-Type: application/json" --request POST --data '{"user_name": "test", "contact": {"name": "Artem", "messangers": {"telegram": "ArtemZaitsev", "whatsApp": "+799200828615", "viber": ""}}, "name": "Artem"}' http://localhost:8080/api/contacts`,
  remove: `curl --header "Content-Type: application/json" --request DELETE --data '{"user_name": "test", "contact": "Artem"}' http://localhost:8080/api/contacts`,
  send: `curl --header "Content-Type: application/json" --request PUT --data '{"user_name": "test", "contact": ["Artem", "Lera", "Vasya"], "message": "Hello there", "time": [2019, 11, 30, 14, 0, 6]}' http://localhost:8080/api/contacts`,
  list: `curl --header "Content-Type: application/json" --request GET --data '{"user_name": "test"}' http://localhost:8080/api/contacts`,
  failed: `curl --header "Content-Type: application/json" --request GET --data '{"user_name": "test"}' http://localhost:8080/api/get_failed_mess`
}
/* eslint-enable @stylistic/quotes */

const SEED = new URL('../../../shared/seeds/001_5edb5a6017a7c4e9.txt', import.meta.url)

t.test('the commands here are the origin document\'s, character for character', { skip: existsSync(SEED) ? false : 'the shared seeds are not beside this checkout' }, async (t) => {
  const seed = readFileSync(SEED, 'utf8')
  for (const [name, command] of Object.entries(ORIGIN)) t.ok(seed.includes(command), name)
})

t.test('the origin curl flows against the running service', async (t) => {
  const prefix = freshPrefix()
  testRedis(t, prefix)
  const mock = await runMock(t)
  const service = await runService(t, prefix, mock.url)
  const port = new URL(service.url).port
  const curl = async (command: string) => {
    const { stdout } = await exec('bash', ['-c', `${command.replace('localhost:8080', `localhost:${port}`)} --silent --show-error`])
    return JSON.parse(stdout)
  }
  const received = async (query = '') => await (await fetch(`${mock.url}/_mock/messages${query}`)).json() as {
    count: number
    messages: Array<{ messenger: string, recipient: string, text: string, outcome: string }>
  }

  t.same(await curl(ORIGIN.create), { success: true }, 'create')
  // Lera, in the same style, with an id on every messenger (Viber always fails at the mock).
  // eslint-disable-next-line @stylistic/quotes -- in the origin's style, both kinds of quote
  t.same(await curl(`curl --header "Content-Type: application/json" --request POST --data '{"user_name": "test", "contact": {"name": "Lera", "messangers": {"telegram": "5550001", "whatsApp": "+15550001000", "viber": "lera-viber-id"}}}' http://localhost:8080/api/contacts`), { success: true })
  t.same(await curl(ORIGIN.list), {
    contacts: {
      Artem: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' },
      Lera: { telegram: '5550001', whatsApp: '+15550001000', viber: 'lera-viber-id' }
    }
  }, 'list')

  const sent = await curl(ORIGIN.send)
  t.match(sent, { success: true, deliveries: 5, unknown: ['Vasya'], scheduled: false }, 'send')

  const accepted = await eventually(async () => {
    const got = await received('?outcome=accepted')
    return got.count === 4 && got
  }, 'four deliveries accepted at the mock')
  t.same(accepted.messages.map((m) => `${m.messenger} ${m.recipient} ${m.text}`).sort(), [
    'telegram 5550001 Hello there',
    'telegram @ArtemZaitsev Hello there',
    'whatsapp +15550001000 Hello there',
    'whatsapp +799200828615 Hello there'
  ], 'Telegram and WhatsApp accepted')

  const failed = await eventually(async () => {
    const body = await curl(ORIGIN.failed)
    return body.data.length === 1 && body
  }, 'the Viber delivery in the failed lookup')
  t.match(failed.data[0], {
    sender: 'test',
    message: 'Hello there',
    contact: 'Lera',
    url: `${mock.url}/viber/pa/send_message`,
    time: [2019, 11, 30, 14, 0, 6],
    messenger: 'viber'
  }, 'every Viber delivery is in the failed lookup')

  t.same(await curl(ORIGIN.remove), { success: true }, 'delete')
  t.same(Object.keys((await curl(ORIGIN.list)).contacts), ['Lera'])

  // A scheduled send, by curl too: two to three seconds ahead, in whole seconds (UTC, the default zone).
  const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000)
  const time = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()]
  const scheduled = await curl(`curl --header "Content-Type: application/json" --request PUT --data '{"user_name": "test", "contact": ["Lera"], "message": "Later", "time": ${JSON.stringify(time)}}' http://localhost:8080/api/contacts`)
  t.match(scheduled, { success: true, deliveries: 3, scheduled: true })
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() - Date.now() - 500)))
  t.equal((await received()).messages.filter((m) => m.text === 'Later').length, 0, 'not sent before its time')
  const later = await eventually(async () => {
    const got = (await received('?outcome=accepted')).messages.filter((m) => m.text === 'Later')
    return got.length === 2 && got
  }, 'the scheduled send sent')
  t.same(later.map((m) => m.messenger).sort(), ['telegram', 'whatsapp'], 'sent after it')
  t.match(service.output(), /"msg":"request"/, 'the process logged its requests')
})

t.test('with authentication on: the same commands plus `-u test:<key>`; without it, 401; another user_name, 403', async (t) => {
  const prefix = freshPrefix()
  testRedis(t, prefix)
  const mock = await runMock(t)
  const service = await runService(t, prefix, mock.url, AUTH_ENV)
  const port = new URL(service.url).port
  const curl = async (command: string, credentials = '') => {
    const { stdout } = await exec('bash', ['-c', `${command.replace('localhost:8080', `localhost:${port}`)} ${credentials} --silent --show-error --include`])
    const [head = '', body = ''] = stdout.split(/\r\n\r\n/)
    return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]), head, body: JSON.parse(body) as Record<string, unknown> }
  }

  const created = await fetch(`${service.url}/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'test' })
  })
  const key = ((await created.json()) as { key: { key: string } }).key.key

  const refused = await curl(ORIGIN.create)
  t.equal(refused.status, 401, 'the bare command: 401')
  t.match(refused.head, /www-authenticate: Basic realm="messenger-fanout", charset="UTF-8", Bearer realm="messenger-fanout"/i)
  t.match(refused.body, { success: false, error: { code: 'UNAUTHENTICATED' } })

  for (const [name, command] of Object.entries(ORIGIN)) {
    if (name === 'remove') continue // run last: the list below still shows the contact
    const answer = await curl(command, `-u test:${key}`)
    t.equal(answer.status, 200, `${name} with -u test:<key>`)
  }
  t.same((await curl(ORIGIN.list, `-H "Authorization: Bearer ${key}"`)).body, { contacts: { Artem: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' } } },
    'Bearer works as Basic does')
  t.equal((await curl(ORIGIN.remove, `-u test:${key}`)).status, 200)

  const other = await curl(ORIGIN.list.replace('"user_name": "test"', '"user_name": "someone"'), `-u test:${key}`)
  t.equal(other.status, 403, 'a user_name other than the key\'s owner')
  t.match(other.body, { success: false, error: { code: 'FORBIDDEN', details: [{ field: 'user_name' }] } })
})

t.test('the service refuses to start insecurely, saying why', async (t) => {
  const prefix = freshPrefix()
  const mock = await runMock(t)
  await t.rejects(runService(t, prefix, mock.url, { AUTH: 'on' }), /AUTH is on and ADMIN_API_KEY is not set/, 'no administrator key')
  await t.rejects(runService(t, prefix, mock.url, { AUTH: 'off', HOST: '0.0.0.0' }),
    /AUTH=off while HOST is 0\.0\.0\.0, which is not a loopback address.*DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS/, 'no credentials on every address')
})
