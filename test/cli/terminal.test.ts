/**
 * `fanout send --wait` in a real terminal (tmux), read as a person sees it:
 * a bar per messenger that fills while the deliveries go out, fed by the
 * event stream, redrawn in place, and the summary and exit code once the
 * dispatch is finished; `contacts import` with its bar of rows. The service
 * runs as the quick start's trial does (authentication off: FANOUT_USER
 * names the user).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { addContacts, client } from '../helpers/api.js'
import { eventually } from '../helpers/app.js'
import { cliCommand, emptyHome } from '../helpers/cli.js'
import { startMock } from '../helpers/mock.js'
import { runService } from '../helpers/processes.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'
import { openTerminal } from '../helpers/terminal.js'

const CONTACTS = 12

const mock = await startMock(t)
// Telegram takes 300-600 ms a send, two at a time: long enough to see the bars under way.
await mock.behave('telegram', { latencyMs: [300, 600] })
const prefix = freshPrefix()
testRedis(t, prefix)
const service = await runService(t, prefix, mock.url, { TELEGRAM_CONCURRENCY: '2' })
const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`

t.test('send --wait draws live bars per messenger, then the summary; exit 1 as Viber failed', async (t) => {
  await addContacts(client(service.url, { user: 'test' }),
    Array.from({ length: CONTACTS }, (_, i) => ({ name: `c${i}`, telegram: String(1000 + i), viber: `viber-${i}`, tags: ['team'] })))

  const send = cliCommand(['send', 'Standup in 5', '--tag', 'team', '--wait']).map(quote).join(' ')
  // The shell stays after the command so that its last screen and exit code can be read.
  const terminal = await openTerminal(t, ['sh', '-c', `${send}; echo "exit code $?"; sleep 600`],
    { FANOUT_URL: service.url, FANOUT_USER: 'test', HOME: emptyHome(t) }, 120, 20)

  const underWay = await eventually(async () => {
    const screen = await terminal.screen()
    const bar = /telegram\s+([█░]+)\s+(\d+)\/12\s+delivered 0\s+sent (\d+)\s+failed 0\s+pending (\d+)/.exec(screen)
    return bar !== null && bar[1]!.includes('█') && bar[1]!.includes('░') && Number(bar[4]) > 0 ? screen : undefined
  }, 'a Telegram bar part filled', 30_000)
  t.comment(`in progress:\n${underWay.trimEnd()}`)
  t.match(underWay, /^Dispatch \w{30}: 24 deliveries, sending now$/m, 'the dispatch first')

  const done = await eventually(async () => {
    const screen = await terminal.screen()
    return screen.includes('exit code') ? screen : undefined
  }, 'the command to end', 30_000)
  t.comment(`finished:\n${done.trimEnd()}`)
  t.match(done, /^ telegram {2}█{30} 12\/12 {2}delivered 0 {2}sent 12 {2}failed 0 {2}pending 0$/m, 'Telegram\'s bar full: all sent')
  t.match(done, /^ viber {5}█{30} 12\/12 {2}delivered 0 {2}sent 0 {2}failed 12 {2}pending 0$/m, 'Viber\'s bar full: all failed (the mock\'s Viber always fails)')
  t.equal(done.split('\n').filter((l) => l.startsWith(' telegram')).length, 1, 'each bar drawn in place, once on the screen')
  t.match(done, /^Dispatch \w{30} finished: 24 deliveries, sent 12, failed 12$/m, 'the summary')
  t.match(done, /^12 deliveries failed: see them with `fanout deliveries --dispatch \w{30} --state failed`/m, 'and what to do about the failures')
  t.match(done, /^exit code 1$/m, 'exit code 1: deliveries failed')
})

t.test('contacts import draws a bar of the rows written, batch by batch, then the report', async (t) => {
  const home = emptyHome(t)
  const file = join(home, 'book.csv')
  writeFileSync(file, 'name,telegram\n' + Array.from({ length: 20_000 }, (_, i) => `row-${i},${10_000 + i}\n`).join(''))
  const command = cliCommand(['contacts', 'import', file, '--batch', '500']).map(quote).join(' ')
  const terminal = await openTerminal(t, ['sh', '-c', `${command}; echo "exit code $?"; sleep 600`],
    { FANOUT_URL: service.url, FANOUT_USER: 'importer', HOME: home }, 120, 10)
  const underWay = await eventually(async () => {
    const screen = await terminal.screen()
    const bar = /importing ([█░]+) (\d+)\/20000/.exec(screen)
    return bar !== null && bar[1]!.includes('█') && bar[1]!.includes('░') ? screen : undefined
  }, 'the bar part filled', 60_000)
  t.comment(`in progress:\n${underWay.trimEnd()}`)
  const done = await eventually(async () => {
    const screen = await terminal.screen()
    return screen.includes('exit code') ? screen : undefined
  }, 'the command to end', 60_000)
  t.comment(`finished:\n${done.trimEnd()}`)
  t.match(done, /^Imported \S+book\.csv: 20000 rows, created 20000, updated 0, unchanged 0, failed 0\nexit code 0$/m, 'the report, and exit 0')
  t.notMatch(done, /importing/, 'the bar taken down once done')
})
