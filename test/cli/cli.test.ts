/**
 * The fanout command, run as its own process against the service run as its
 * own process (authentication on, a user with a key, the mock messengers),
 * as a person and a script use it: what it prints, in tables and in JSON,
 * and its exit codes. The key it runs with never appears in what it prints
 * (every run checks). Settings, keys and lost streams: cli-settings.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually } from '../helpers/app.js'
import { Webhook } from 'standardwebhooks'
import { cliFixture, type CliRun } from '../helpers/cli.js'
import { startReceiver } from '../helpers/receiver.js'

type Json = Record<string, any>

const { mock, fanout, home } = await cliFixture(t)
const ANSI = /\x1b\[/ // eslint-disable-line no-control-regex -- the escape that starts every colour and cursor code
const lines = (text: string) => text.split('\n').filter((l) => l !== '')

t.test('--help everywhere, exit 0; usage errors exit 2 and say what to do', async (t) => {
  const helpArgs = [['--help'], ['contacts', 'edit', '--help'], ['send', '--help'], ['deliveries', '--help'], ['help', 'keys']]
  // Side by side: each is a process of its own, and none changes anything.
  const runs = await Promise.all(helpArgs.map(async (args) => await fanout(t, args)))
  const helps = new Map<string, string>()
  helpArgs.forEach((args, i) => {
    t.equal(runs[i]!.code, 0, `fanout ${args.join(' ')}: exit 0`)
    t.match(runs[i]!.stdout, /^Usage: fanout/, `fanout ${args.join(' ')}: its usage`)
    helps.set(args.join(' '), runs[i]!.stdout)
  })
  const root = helps.get('--help')!
  t.match(root, /FANOUT_URL.*FANOUT_API_KEY/s, 'the help names the settings')
  t.match(root, /Exit codes: 0 done; 1 deliveries failed/, 'and the exit codes')
  t.match(helps.get('contacts edit --help'), /--no-viber\s+remove the viber id/, 'each command its own options')
  t.match(helps.get('send --help'), /fanout send "Standup in 5" --to Artem,Lera --tag team --wait/, 'with examples')
  const [version, unknown, missing, nobody, badState, edit] = await Promise.all([['--version'], ['contacts', 'frobnicate'], ['send'], ['send', 'hi'],
    ['deliveries', '--state', 'lost'], ['dispatches', 'edit', '01JD00000000000000000000000000']]
    .map(async (args) => await fanout(t, args))) as [CliRun, CliRun, CliRun, CliRun, CliRun, CliRun]
  t.same([version.code, version.stdout.trim()], [0, '0.1.0'])

  t.equal(unknown.code, 2, 'an unknown command: exit 2')
  t.match(unknown.stderr, /unknown command 'frobnicate'/)
  t.match(unknown.stderr, /--help/, 'pointing at --help')
  t.same([missing.code, missing.stdout], [2, ''])
  t.match(missing.stderr, /missing required argument 'text'/)
  t.equal(nobody.code, 2)
  t.match(nobody.stderr, /no one to send to\n\s+give --to <names>/, 'what was wrong, then what to do')
  t.equal(badState.code, 2)
  t.match(badState.stderr, /Allowed choices are scheduled, queued/)
  t.equal(edit.code, 2, 'dispatches edit with nothing to change: exit 2')
  t.match(edit.stderr, /nothing to change\n\s+give --text/)
})

t.test('contacts: add, list, show, edit, rm, as tables and as JSON', async (t) => {
  const added = await fanout(t, ['contacts', 'add', 'Lera', '--telegram', '123456789', '--viber', 'lera-viber-id', '--tag', 'team,family'])
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, /^Added contact Lera\nNAME\s+TELEGRAM\s+WHATSAPP\s+VIBER\s+TAGS\s+TIMEZONE\s+OPERATOR\nLera\s+123456789\s+lera-viber-id\s+team,family\n$/)
  t.notMatch(added.stdout, ANSI, 'no colour through a pipe')
  for (const [name, telegram] of [['Artem', 'ArtemZaitsev'], ['Вася', '55501']] as const) {
    t.equal((await fanout(t, ['contacts', 'add', name, '--telegram', telegram, '--whatsapp', '+15551234567', '--tag', 'team'])).code, 0)
  }
  const again = await fanout(t, ['contacts', 'add', 'Lera'])
  t.equal(again.code, 2, 'a taken name: exit 2')
  t.match(again.stderr, /a contact named "Lera" exists/)
  const bad = await fanout(t, ['contacts', 'add', 'Bad', '--whatsapp', '12'])
  t.equal(bad.code, 2, 'a bad number: exit 2, with the service\'s words')
  t.match(bad.stderr, /whatsapp/)

  const listed = await fanout(t, ['contacts', 'list'])
  t.equal(listed.code, 0)
  t.same(lines(listed.stdout).slice(1).map((l) => l.split(/\s+/)[0]), ['Artem', 'Lera', 'Вася'], 'every contact, in name order')
  const columns = lines(listed.stdout).map((l) => l.indexOf('+15551234567')).filter((i) => i >= 0)
  t.equal(new Set(columns).size, 1, 'columns line up (Cyrillic names included)')
  const json = await fanout(t, ['--json', 'contacts', 'list', '--tag', 'family'])
  t.same(JSON.parse(json.stdout), [{ name: 'Lera', telegram: '123456789', viber: 'lera-viber-id', tags: ['team', 'family'] }], '--json, filtered by tag')

  const edited = await fanout(t, ['contacts', 'edit', 'Lera', '--whatsapp', '+15550001111', '--no-viber', '--tag', 'team'])
  t.equal(edited.code, 0, edited.stderr)
  const shown = await fanout(t, ['contacts', 'show', 'Lera', '--json'])
  t.same(JSON.parse(shown.stdout), [{ name: 'Lera', telegram: '123456789', whatsapp: '+15550001111', tags: ['team'], health: { telegram: { reachable: true }, whatsapp: { reachable: true } } }],
    'edit set, removed and replaced; with the health of its addresses')
  const missing = await fanout(t, ['contacts', 'show', 'Nobody'])
  t.equal(missing.code, 3, 'not found: exit 3')
  t.match(missing.stderr, /no contact named "Nobody"/)
  const removed = await fanout(t, ['contacts', 'rm', 'Вася'])
  t.same([removed.code, removed.stdout], [0, 'Removed contact Вася\n'])
  t.equal((await fanout(t, ['contacts', 'edit', 'Lera', '--viber', 'lera-viber-id'])).code, 0)
})

t.test('send --wait through a pipe: plain lines from the event stream, exit 1 when deliveries failed', async (t) => {
  await mock.behave('telegram', { latencyMs: [200, 400] })
  t.teardown(() => mock.behave('telegram', { latencyMs: [0, 0] }))
  const run = await fanout(t, ['send', 'Standup in 5', '--to', 'Artem,Lera,Nobody', '--tag', 'team', '--wait'])
  t.equal(run.code, 1, 'exit 1: the Viber delivery failed (the mock\'s Viber always fails)')
  t.notMatch(run.stdout, ANSI, 'no colour, no cursor moves')
  const out = lines(run.stdout)
  const id = /^Dispatch (\w{30}): 5 deliveries, sending now$/.exec(out[0]!)?.[1]
  t.ok(id, `the dispatch and its deliveries: ${out[0]}`)
  t.match(run.stderr, /Not in the contact book \(nothing sent to them\): Nobody/, 'unknown names go to stderr')
  const progress = out.filter((l) => l.startsWith('progress '))
  t.ok(progress.length >= 1, `${progress.length} progress lines`)
  t.match(out.find((l) => l.startsWith('finished ')), new RegExp(`^finished ${id}: telegram 2/2 \\(sent 2\\); viber 1/1 \\(failed 1\\); whatsapp 2/2 \\(sent 2\\)$`))
  t.match(run.stdout, new RegExp(`Dispatch ${id} finished: 5 deliveries, sent 4, failed 1\n1 delivery failed: see them with \`fanout deliveries --dispatch ${id} --state failed\``))

  const failed = await fanout(t, ['failed'])
  t.equal(failed.code, 0)
  t.match(failed.stdout, /^ID\s+CREATED\s+CONTACT\s+MESSENGER\s+ADDRESS\s+STATE\s+ATTEMPTS\s+LAST ERROR\n\S+\.00004\s.*Lera\s+viber\s+lera-viber-id\s+failed\s+1\s+viber 6: receiverNotSubscribed\n$/)
  const bySent = await fanout(t, ['deliveries', '--state', 'sent', '--dispatch', id!, '--json'])
  t.same(JSON.parse(bySent.stdout).map((d: Json) => d.messenger).sort(), ['telegram', 'telegram', 'whatsapp', 'whatsapp'])

  const watched = await fanout(t, ['dispatches', 'watch', id!])
  t.equal(watched.code, 1, 'watching a finished dispatch with failures: exit 1 at once')
  t.match(watched.stdout, new RegExp(`^finished ${id}: `))
  const shown = await fanout(t, ['dispatches', 'show', id!])
  t.match(shown.stdout, /^Dispatch \w+: finished\n {2}text {7}Standup in 5\n/)
  t.match(shown.stdout, /MESSENGER\s+DELIVERIES\ntelegram\s+sent 2\nviber\s+failed 1\nwhatsapp\s+sent 2\n/)
  const listed = await fanout(t, ['dispatches', 'list'])
  t.match(listed.stdout, new RegExp(`${id}\\s+\\S+ \\S+\\s+finished\\s+5\\s+sent 4, failed 1\\s+Standup in 5`))
  const redriven = await fanout(t, ['dispatches', 'redrive', id!])
  t.match(redriven.stdout, /^Queued again 1 failed delivery; left as they were 4/)
  await eventually(async () => (await mock.received({ messenger: 'viber' })).count === 2, 'the Viber delivery sent again')
})

t.test('send --wait --json: the answer, then one JSON object per event', async (t) => {
  const run = await fanout(t, ['--json', 'send', 'json please', '--to', 'Artem', '--messenger', 'telegram', '--wait'])
  t.equal(run.code, 0, run.stderr)
  const [accepted, ...events] = lines(run.stdout).map((l) => JSON.parse(l) as Json)
  t.match(accepted, { deliveries: 1, state: 'queued' })
  t.match(events.at(-1), { event: 'finished', dispatch: { id: accepted!.id, counts: { sent: 1 }, by_messenger: { telegram: { sent: 1 } } } })
  t.ok(events.every((e) => ['progress', 'finished'].includes(e.event)))
})

t.test('scheduled sends: cancel the dispatch, or deliveries by id; look deliveries up by id', async (t) => {
  const later = await fanout(t, ['--json', 'send', 'new year', '--to', 'Lera', '--at', '2099-01-01T09:00', '--until', '2099-01-01T12:00'])
  const accepted = JSON.parse(later.stdout) as Json
  t.match(accepted, { state: 'scheduled', deliveries: 3, send_at: new Date('2099-01-01T09:00').toISOString(), expires_at: new Date('2099-01-01T12:00').toISOString() },
    'a time without a zone is local time')
  const [a, b, c] = [0, 1, 2].map((i) => `${accepted.id}.0000${i}`)
  // Well formed, in the user's slot (the end of the dispatch id), never made.
  const never = `01JD0000000000000000000000${accepted.id.slice(26)}.00000`
  const shown = await fanout(t, ['deliveries', 'show', a!])
  t.equal(shown.code, 0)
  t.match(shown.stdout, new RegExp(`^Delivery ${a}\n {2}dispatch {5}${accepted.id}\n {2}contact {6}Lera\n {2}messenger {4}telegram\n`))
  const some = await fanout(t, ['deliveries', 'show', a!, never, b!])
  t.equal(some.code, 3, 'some ids not found: exit 3')
  t.equal(lines(some.stdout).length, 3, 'the found ones, in a table')
  t.match(some.stderr, `No such deliveries of yours: ${never}`)
  const cancelled = await fanout(t, ['deliveries', 'cancel', a!, never])
  t.equal(cancelled.code, 3)
  t.match(cancelled.stdout, /^Cancelled 1; being sent right now 0 .*; already finished 0\nDELIVERY\s+OUTCOME\n\S+\s+cancelled\n\S+\s+unknown\n$/)
  const json = await fanout(t, ['--json', 'dispatches', 'cancel', accepted.id])
  t.same(JSON.parse(json.stdout), { cancelled: [b, c], in_flight: [], already_finished: [{ id: a, state: 'cancelled' }] })
  const watched = await fanout(t, ['dispatches', 'watch', accepted.id])
  t.equal(watched.code, 0, 'a dispatch that finished without failures: exit 0')
  t.match(watched.stdout, /finished: 3 deliveries, cancelled 3/)
})

t.test('contacts import FILE in batches: rows numbered as in the file, per-row errors, exit 1; all or nothing; export then import', async (t) => {
  const csv = join(home, 'book.csv')
  // Row 3 has a bad number and row 5 a line break inside its quoted tag cell; batches of 2 rows cut between them.
  writeFileSync(csv, 'name,telegram,whatsapp,tags\nimp-a,1001,,x\nimp-b,1002,,x\nimp-bad,,12345,\n\nimp-c,1003,,"x;y"\n"imp-d, quoted",1004,,"one\ntwo"\nimp-e,1005,,\n')
  const imported = await fanout(t, ['contacts', 'import', csv, '--batch', '2'])
  t.equal(imported.code, 1, imported.stderr)
  t.match(imported.stdout, /^Imported \S+book\.csv: 6 rows, created 5, updated 0, unchanged 0, failed 1\nROW\s+NAME\s+FIELD\s+ERROR\n3\s+imp-bad\s+whatsapp\s+INVALID_FIELD: must be an E\.164/,
    'the bad row by its number in the file, though it came in the second batch')
  const shown = JSON.parse((await fanout(t, ['--json', 'contacts', 'show', 'imp-d, quoted'])).stdout)
  t.same(shown[0].tags, ['one', 'two'], 'a quoted line break stays inside its cell (where tags split)')

  const refused = await fanout(t, ['contacts', 'import', csv, '--all-or-nothing'])
  t.equal(refused.code, 2, 'all or nothing, a row failed: exit 2')
  t.match(refused.stdout, /^Nothing imported from \S+: 1 of 6 rows failed \(all or nothing\)\nROW\s+NAME\s+FIELD\s+ERROR\n3\s+imp-bad/)

  const out = join(home, 'book.ndjson')
  const exported = await fanout(t, ['contacts', 'export', '-o', out])
  t.equal(exported.code, 0, exported.stderr)
  t.match(exported.stderr, /^Exported \d+ contacts to \S+book\.ndjson \(ndjson\)$/m)
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n')
  t.equal(exported.stderr.match(/Exported (\d+)/)?.[1], String(lines.length), 'as many contacts as the file has lines')
  const back = await fanout(t, ['--json', 'contacts', 'import', out])
  t.equal(back.code, 0)
  t.same(JSON.parse(back.stdout).counts, { rows: lines.length, created: 0, updated: 0, unchanged: lines.length, failed: 0 }, 'the export imports back unchanged')
  const stdout = await fanout(t, ['contacts', 'export'])
  t.match(stdout.stdout, /^name,telegram,whatsapp,viber,tags,timezone,operator\n/, 'to stdout: CSV by default')
  const missing = await fanout(t, ['contacts', 'import', join(home, 'missing.csv')])
  t.same([missing.code, missing.stdout], [2, ''], 'a file that is not there: exit 2, nothing imported')
  t.match(missing.stderr, /^fanout: cannot read \S+missing\.csv: ENOENT/)
})

t.test('scheduled sends: edit one, then remove it; a started one can only be cancelled or removed', async (t) => {
  // Side by side, as few processes in a row as can be: each costs seconds.
  const [later, now] = (await Promise.all([['--json', 'send', 'draft', '--to', 'Lera', '--at', '2099-01-01T09:00'],
    ['--json', 'send', 'now', '--to', 'Artem', '--messenger', 'telegram']].map(async (args) => await fanout(t, args))))
    .map((run) => JSON.parse(run.stdout) as Json) as [Json, Json]
  const [edited, refused] = await Promise.all([
    ['dispatches', 'edit', later.id, '--text', 'final', '--to', 'Artem', '--messenger', 'telegram', '--at', '2099-01-02T09:00', '--window', '09:00-21:00'],
    ['dispatches', 'edit', now.id, '--text', 'changed']]
    .map(async (args) => await fanout(t, args))) as [CliRun, CliRun]
  t.equal(edited.code, 0, edited.stderr)
  t.match(edited.stdout, new RegExp(`^Dispatch ${later.id} edited \\(revision 1\\): 1 delivery, scheduled for ${new Date('2099-01-02T09:00').getFullYear()}`))
  t.not(refused.code, 0, 'a started dispatch cannot be edited')
  t.match(refused.stderr, /can no longer be edited.*cancel/s, 'the server says what is left')
  const removed = await fanout(t, ['dispatches', 'rm', later.id])
  t.equal(removed.code, 0, removed.stderr)
  t.match(removed.stdout, `Deleted dispatch ${later.id}: 1 delivery (1 cancelled first)`)
})

t.test('webhooks add prints the secret once, list shows the endpoint without it, test sends one, rm removes it', async (t) => {
  const receiver = await startReceiver(t)
  const added = await fanout(t, ['webhooks', 'add', `${receiver.url}/cli`, '--events', 'delivery.failed,dispatch.finished'])
  t.equal(added.code, 0, added.stderr)
  const [, id, secret] = /^New endpoint (ep_[0-9a-f]{16}) for .*\n {2}(whsec_\S+)\n$/.exec(added.stdout) ?? []
  t.ok(id !== undefined && secret !== undefined, 'the id and the secret are printed')
  t.match(added.stderr, /not shown again/)
  const listed = await fanout(t, ['--json', 'webhooks', 'list'])
  t.match(JSON.parse(listed.stdout), [{ id, url: `${receiver.url}/cli`, events: ['delivery.failed', 'dispatch.finished'], enabled: true }])
  t.notOk(listed.stdout.includes(secret!), 'list never shows the secret')
  const tested = await fanout(t, ['webhooks', 'test', id!])
  t.equal(tested.code, 0)
  const [request] = await receiver.until((r) => r.length === 1, 10_000, 'the test event')
  t.match(new Webhook(secret!).verify(request!.body, {
    'webhook-id': String(request!.headers['webhook-id']),
    'webhook-timestamp': String(request!.headers['webhook-timestamp']),
    'webhook-signature': String(request!.headers['webhook-signature'])
  }), { type: 'webhook.test' }, 'signed with the secret printed')
  const removed = await fanout(t, ['webhooks', 'rm', id!])
  t.same([removed.code, removed.stdout], [0, `Removed endpoint ${id}\n`])
})

t.test('settings show and set (on, default, refused values); contacts carry an operator, and send --operator picks by it', async (t) => {
  const shown = await fanout(t, ['settings'])
  t.equal(shown.code, 0, shown.stderr)
  t.equal(shown.stdout, 'SETTING           VALUE  DEPLOYMENT DEFAULT\nskip-unreachable  off    off\n', 'show is the default: the value beside the deployment\'s')
  const on = await fanout(t, ['--json', 'settings', 'set', '--skip-unreachable', 'on'])
  t.same(JSON.parse(on.stdout), { skip_unreachable: true, deployment_defaults: { skip_unreachable: false } })
  const [bad, nothing] = await Promise.all([['settings', 'set', '--skip-unreachable', 'yes'], ['settings', 'set']].map(async (args) => await fanout(t, args))) as [CliRun, CliRun]
  t.same([bad.code, nothing.code], [2, 2], 'a value not on, off or default, and nothing to set: exit 2')
  t.match(bad.stderr, /Allowed choices are on, off, default/)
  t.match(nothing.stderr, /nothing to set/)
  const back = await fanout(t, ['settings', 'set', '--skip-unreachable', 'default'])
  t.match(back.stdout, /^skip-unreachable\s+off\s+off$/m, 'default follows the deployment again')

  const added = await Promise.all([['Olga', '700001', 'RU-Beeline'], ['Pavel', '700002', 'RU-MTS']].map(async ([name, telegram, operator]) =>
    await fanout(t, ['contacts', 'add', name!, '--telegram', telegram!, '--operator', operator!])))
  t.same(added.map((run) => run.code), [0, 0], added.map((run) => run.stderr).join(''))
  t.match(added[0]!.stdout, /^Olga\s+700001\s+RU-Beeline$/m, 'the table shows the operator')
  const sent = await fanout(t, ['--json', 'send', 'Beeline only', '--operator', 'RU-Beeline'])
  t.equal(sent.code, 0, sent.stderr)
  const dispatch = JSON.parse(sent.stdout) as Json
  t.match(dispatch, { deliveries: 1 }, '--operator alone picks among the whole book: Olga only')
  const legs = await fanout(t, ['--json', 'deliveries', 'list', '--dispatch', dispatch.id])
  t.same(JSON.parse(legs.stdout).map((d: Json) => `${d.contact} ${d.address}`), ['Olga 700001'])
  const edited = await fanout(t, ['--json', 'contacts', 'edit', 'Olga', '--no-operator'])
  t.notOk('operator' in JSON.parse(edited.stdout), '--no-operator removes it')

  // A window closed now (Olga has no zone: --zone's UTC), opening in two hours: nothing goes now.
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
  const opens = Date.now() + 2 * 3_600_000
  const held = await fanout(t, ['send', 'In your hours', '--to', 'Olga', '--window', `${hhmm(opens)}-${hhmm(opens + 3_600_000)}`, '--zone', 'UTC'])
  t.equal(held.code, 0, held.stderr)
  t.match(held.stdout, /^Dispatch \w{30}: 1 delivery, held for each contact's local hours$/m, 'says it waits for the window')
})
