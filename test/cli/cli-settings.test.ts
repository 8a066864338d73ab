/**
 * The fanout command's settings (flags, environment, config file), refused
 * and missing credentials, an unreachable service, its keys, and following a
 * dispatch while the service restarts or stays away: the command as its own
 * process against the service as its own process.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually } from '../helpers/app.js'
import { cliFixture, runCli, startCli } from '../helpers/cli.js'
import { freePort } from '../helpers/processes.js'

type Json = Record<string, any>

const fixture = await cliFixture(t)
const { fanout, key, home, env, url, port } = fixture
await fetch(`${url}/v1/contacts`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'Artem', telegram: '4242' })
})

t.test('settings: a config file, a refused key, no credentials, no service', async (t) => {
  const file = join(home, 'elsewhere.json')
  const broken = join(home, 'broken.json')
  writeFileSync(file, JSON.stringify({ url, api_key: key.key }))
  writeFileSync(broken, '{"url": ')
  const wrongKey = `${key.key.slice(0, -4)}AAAA`
  // Side by side: each run is a process of its own, and none changes anything.
  const [fromFile, brokenRun, refused, flag, none, userOnly, down, credentialsInUrl] = await Promise.all([
    runCli(home, ['--json', 'contacts', 'show', 'Artem'], { FANOUT_CONFIG: file }),
    runCli(home, ['contacts', 'list'], { FANOUT_CONFIG: broken }),
    runCli(home, ['contacts', 'list'], { FANOUT_URL: url, FANOUT_API_KEY: wrongKey }),
    runCli(home, ['contacts', 'list', '--api-key', wrongKey, '--url', url]),
    runCli(home, ['contacts', 'list'], { FANOUT_URL: url }),
    runCli(home, ['contacts', 'list'], { FANOUT_URL: url, FANOUT_USER: 'ann' }),
    runCli(home, ['contacts', 'list'], { FANOUT_URL: `http://127.0.0.1:${await freePort()}`, FANOUT_API_KEY: key.key }),
    runCli(home, ['contacts', 'list'], { FANOUT_URL: `http://ann:${key.key}@127.0.0.1:${port}` })
  ])
  t.equal(fromFile.code, 0, `FANOUT_CONFIG: ${fromFile.stderr}`)
  t.notOk(fromFile.stdout.includes(key.key))
  t.equal(brokenRun.code, 2)
  t.match(brokenRun.stderr, /broken\.json is not JSON/)

  t.equal(refused.code, 4, 'a refused key: exit 4')
  t.match(refused.stderr, /the credentials are not valid.*\n\s+check the API key given with --api-key, FANOUT_API_KEY or /)
  t.notOk(refused.stderr.includes(wrongKey) || refused.stdout.includes(wrongKey), 'the key is not in the error')
  t.equal(flag.code, 4, 'the flags work as the environment does')
  t.equal(none.code, 2)
  t.match(none.stderr, /no API key and no user.*\n.*FANOUT_API_KEY/)
  t.equal(userOnly.code, 4, 'a user name without a key, against a service with authentication: exit 4')
  t.match(userOnly.stderr, /the service needs an API key/)
  t.equal(down.code, 5, 'no service: exit 5')
  t.match(down.stderr, /cannot reach the service at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n\s+is it running/)
  t.equal(credentialsInUrl.code, 2)
  t.notOk(credentialsInUrl.stderr.includes(key.key))
})

t.test('watch survives a restart of the service: it reconnects with Last-Event-ID and sees the end', async (t) => {
  const accepted = JSON.parse((await fanout(t, ['--json', 'send', 'after the restart', '--to', 'Artem', '--at', '2099-01-01T09:00'])).stdout) as Json
  const watching = startCli(home, ['dispatches', 'watch', accepted.id], env)
  await eventually(async () => watching.run.stdout.includes('progress '), 'the first event')
  await fixture.stopService('SIGTERM')
  await eventually(async () => watching.run.stderr.includes('lost the event stream'), 'the watch to notice')
  await fixture.startService()
  await fetch(`${url}/v1/dispatches/${accepted.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` } })
  const run = await watching.done
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /lost the event stream \(.*\); reconnecting \(1\)/)
  t.equal(run.stdout.split('\n').filter((l) => l.startsWith('progress ')).length, 1, 'the state it had was not sent again')
  t.match(run.stdout, /finished: 1 delivery, cancelled 1/)
})

t.test('watch gives up on a service that stays away: exit 5, and says how to follow again', async (t) => {
  const accepted = JSON.parse((await fanout(t, ['--json', 'send', 'lost', '--to', 'Artem', '--at', '2099-01-01T09:00'])).stdout) as Json
  // 5 s of tries, not the minute a person's watch rides out a restart with.
  const watching = startCli(home, ['dispatches', 'watch', accepted.id], { ...env, FANOUT_RECONNECT_SECONDS: '5' })
  await eventually(async () => watching.run.stdout.includes('progress '), 'the first event')
  await fixture.stopService('SIGKILL')
  const run = await watching.done
  t.equal(run.code, 5)
  t.match(run.stderr, new RegExp(`lost the event stream of dispatch ${accepted.id} .*\\d times in a row over \\d s\n\\s+.*fanout dispatches watch ${accepted.id}`))
  await fixture.startService()
})

t.test('keys: list marks the one in use, add and rotate print the new key once, rm revokes', async (t) => {
  const listed = await fanout(t, ['keys', 'list'])
  t.match(listed.stdout, new RegExp(`^ID\\s+LABEL\\s+CREATED\\s+REVOKED\\s+IN USE\\n${key.id}\\s+laptop\\s+\\S+ \\S+\\s+\\*\\n$`))
  const added = await fanout(t, ['keys', 'add', '--label', 'ci'])
  t.equal(added.code, 0)
  const spare = /\n {2}(fo_\S+)\n/.exec(added.stdout)?.[1]
  t.ok(spare, 'the new key is printed')
  t.match(added.stderr, /not shown again/)
  const spareId = spare!.split('_')[1]!
  const rotated = await fanout(t, ['--json', 'keys', 'rotate', spareId])
  const replacement = JSON.parse(rotated.stdout) as Json
  t.match(replacement, { label: 'ci', key: /^fo_/ })
  t.equal((await runCli(home, ['contacts', 'list'], { FANOUT_URL: url, FANOUT_API_KEY: spare! })).code, 4, 'the rotated key no longer works')
  t.equal((await runCli(home, ['contacts', 'list'], { FANOUT_URL: url, FANOUT_API_KEY: replacement.key })).code, 0, 'its replacement does')
  const removed = await fanout(t, ['keys', 'rm', replacement.id])
  t.same([removed.code, removed.stdout], [0, `Revoked key ${replacement.id}\n`])
  t.equal((await fanout(t, ['keys', 'rm', '0123456789abcdef'])).code, 3)
  const mine = await fanout(t, ['keys', 'rotate', key.id])
  t.match(mine.stderr, /That was the key this command runs with/)
})
