/**
 * `fanout send` (POST /v1/dispatches) and `fanout dispatches list|show|watch|edit|cancel|redrive|rm`.
 * `--wait` and `watch` follow the dispatch's event stream until it is finished.
 */
import { Command, Option } from 'commander'
import type { paths } from '../api-types.js'
import { contextOf, type Context } from '../context.js'
import { CliError, EXIT, UsageError } from '../errors.js'
import { followDispatch, type DispatchView } from '../follow.js'
import { countsText, localTime } from '../output.js'
import { finishedSummary, progressView } from '../progress.js'
import { tagList } from './contacts.js'

type NewDispatch = NonNullable<paths['/v1/dispatches']['post']['requestBody']>['content']['application/json']
type CancelReport = paths['/v1/dispatches/{id}/cancel']['post']['responses']['200']['content']['application/json']
type RedriveReport = paths['/v1/dispatches/{id}/redrive']['post']['responses']['200']['content']['application/json']
type DispatchEdit = NonNullable<paths['/v1/dispatches/{id}']['patch']['requestBody']>['content']['application/json']
type Targets = Pick<NewDispatch, 'contacts' | 'tags' | 'all_contacts' | 'addresses' | 'messengers'>

const MESSENGERS = ['telegram', 'whatsapp', 'viber'] as const

/**
 * A time as the service takes it (RFC 3339). A time without a zone is the
 * person's local time, as they would write it: 2030-01-01T09:00, or a date alone.
 */
export function timeOption (flag: string) {
  return (value: string): string => {
    const local = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00` : value.replace(' ', 'T')
    const time = new Date(local)
    if (Number.isNaN(time.getTime())) throw new UsageError(`${flag} "${value}" is not a time`, 'write it as 2030-01-01T09:00 (your local time) or 2030-01-01T09:00:00Z')
    return time.toISOString()
  }
}

const names = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((n) => n.trim()).filter((n) => n !== '')]

function address (value: string, previous: NonNullable<NewDispatch['addresses']> = []): NonNullable<NewDispatch['addresses']> {
  const colon = value.indexOf(':')
  const messenger = value.slice(0, colon)
  if (colon < 1 || !(MESSENGERS as readonly string[]).includes(messenger)) {
    throw new UsageError(`--address "${value}" is not <messenger>:<address>`, 'e.g. --address whatsapp:+15551234567 (telegram, whatsapp or viber)')
  }
  return [...previous, { messenger: messenger as typeof MESSENGERS[number], address: value.slice(colon + 1) }]
}

/** Follows the dispatch live until it is finished; exits 1 when deliveries failed. Ctrl-C stops following only. */
async function watch (ctx: Context, id: string): Promise<void> {
  const view = progressView(ctx.out)
  const stop = new AbortController()
  const interrupted = () => { stop.abort() }
  process.once('SIGINT', interrupted)
  let finished: DispatchView
  try {
    finished = await followDispatch(ctx.api, ctx.settings, id, (state, event) => { view.update(state, event) }, {
      signal: stop.signal,
      onReconnect: (attempt, why) => { ctx.out.note(`lost the event stream (${why}); reconnecting (${attempt})`) }
    })
  } catch (err) {
    view.stop()
    if (stop.signal.aborted) {
      throw new CliError(`stopped watching dispatch ${id}`, EXIT.interrupted, `it goes on without us: \`fanout dispatches watch ${id}\` follows it again`)
    }
    throw err
  } finally {
    process.off('SIGINT', interrupted)
  }
  view.stop()
  if (!ctx.out.json) finishedSummary(ctx.out, finished)
  if (finished.counts.failed > 0) process.exitCode = EXIT.someFailed
}

function showDispatch (ctx: Context, d: DispatchView): void {
  ctx.out.line(`Dispatch ${d.id}: ${d.status}`)
  ctx.out.line(`  text       ${d.text}`)
  ctx.out.line(`  created    ${localTime(d.created_at)}`)
  ctx.out.line(`  send at    ${localTime(d.send_at)}`)
  if (d.expires_at !== undefined) ctx.out.line(`  expires at ${localTime(d.expires_at)}`)
  ctx.out.line(`  deliveries ${d.total}: ${countsText(d.counts)}`)
  const rows = Object.entries(d.by_messenger).sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([messenger, counts]) => counts === undefined ? [] : [[messenger, countsText(counts)]])
  if (rows.length > 0) {
    ctx.out.line()
    ctx.out.table(['messenger', 'deliveries'], rows, { maxWidth: 200 })
  }
}

function showCancel (ctx: Context, report: CancelReport & { unknown?: string[] }): void {
  if (ctx.out.json) { ctx.out.data(report); return }
  ctx.out.line(`Cancelled ${report.cancelled.length}; being sent right now ${report.in_flight.length} (they may arrive; a failure is not retried); already finished ${report.already_finished.length}`)
  const rows = [
    ...report.cancelled.map((id) => [id, 'cancelled']),
    ...report.in_flight.map((id) => [id, 'in flight']),
    ...report.already_finished.map((f) => [f.id, `already ${f.state}`]),
    ...(report.unknown ?? []).map((id) => [id, 'unknown'])
  ]
  if (rows.length > 0 && rows.length <= 50) ctx.out.table(['delivery', 'outcome'], rows)
}

function showRedrive (ctx: Context, report: RedriveReport): void {
  if (ctx.out.json) { ctx.out.data(report); return }
  ctx.out.line(`Queued again ${report.redriven.length} failed ${report.redriven.length === 1 ? 'delivery' : 'deliveries'}; left as they were ${report.not_failed.length} (not failed)`)
}

interface TargetOptions {
  to?: string[]
  tag?: string[]
  allTags?: string[]
  all?: boolean
  address?: NewDispatch['addresses']
  messenger?: Array<typeof MESSENGERS[number]>
  operator?: string[]
  window?: NewDispatch['local_window']
  zone?: string
}

interface SendOptions extends TargetOptions {
  at?: string
  until?: string
  skipUnreachable?: boolean
  template?: string
  idempotencyKey?: string
  wait?: boolean
}

const hasTargets = (options: TargetOptions) =>
  options.to !== undefined || options.tag !== undefined || options.allTags !== undefined || options.all === true || options.address !== undefined ||
  options.operator !== undefined

/** The targets the options name, as the API takes them. */
function targetsOf (options: TargetOptions): Targets {
  return {
    ...(options.to !== undefined && { contacts: options.to }),
    ...((options.tag !== undefined || options.allTags !== undefined) && {
      tags: { ...(options.tag !== undefined && { any: options.tag }), ...(options.allTags !== undefined && { all: options.allTags }) }
    }),
    ...(options.all === true && { all_contacts: true }),
    ...(options.address !== undefined && { addresses: options.address }),
    ...(options.messenger !== undefined && { messengers: [...new Set(options.messenger)] }),
    ...(options.operator !== undefined && { operator_codes: [...new Set(options.operator)] })
  }
}

/** `--window 09:00-21:00`: deliver in each contact's local hours. */
function windowOption (value: string): NonNullable<NewDispatch['local_window']> {
  const match = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(value)
  if (match === null) throw new UsageError(`--window "${value}" is not <from>-<to>`, 'e.g. --window 09:00-21:00 (each contact\'s local time; 21:00-06:00 crosses midnight)')
  return { from: match[1]!, to: match[2]! }
}

/** The local window of the options, with --zone for contacts without a time zone. */
function localWindowOf (options: TargetOptions): NewDispatch['local_window'] {
  if (options.window === undefined) {
    if (options.zone !== undefined) throw new UsageError('--zone goes with --window', 'e.g. --window 09:00-21:00 --zone Europe/Berlin')
    return undefined
  }
  return { ...options.window, ...(options.zone !== undefined && { default_timezone: options.zone }) }
}

/** When an accepted or edited dispatch goes: now, at its send time, or (nothing goes now, yet its time has come) in each contact's local hours. */
function whenOf (answer: { state: 'scheduled' | 'queued', send_at: string }): string {
  if (answer.state === 'queued') return 'sending now'
  return Date.parse(answer.send_at) > Date.now() ? `scheduled for ${localTime(answer.send_at)}` : 'held for each contact\'s local hours'
}

/** The target options of send and edit. */
function withTargetOptions (command: Command): Command {
  return command
    .option('--to <names>', 'contact names (repeat, or comma-separate)', names)
    .option('--tag <tags>', 'every contact with one of these tags', tagList)
    .option('--all-tags <tags>', 'every contact with all of these tags', tagList)
    .option('--all', 'every contact in the book')
    .option('--address <messenger:address>', 'an address with no contact, e.g. whatsapp:+15551234567 (repeat)', address)
    .addOption(new Option('--messenger <name>', 'only this messenger (repeat)').choices(MESSENGERS).argParser((v: string, previous: string[] = []) => [...previous, v]))
    .option('--operator <codes>', 'only contacts of these mobile operators, e.g. RU-Beeline (repeat, or comma-separate); alone: among the whole book', tagList)
    .option('--window <from-to>', 'deliver only in each contact\'s local hours, e.g. 09:00-21:00', windowOption)
    .option('--zone <zone>', 'with --window: the time zone of contacts without one (default: the server\'s)')
}

export function sendCommand (): Command {
  return withTargetOptions(new Command('send').description('send a text to contacts, tags and/or addresses: one delivery per messenger id of each')
    .argument('<text>', 'the message'))
    .option('--at <time>', 'send at this time (2030-01-01T09:00 is your local time); default now', timeOption('--at'))
    .option('--until <time>', 'give up at this time: what is not sent by then ends expired', timeOption('--until'))
    .option('--template <name:language>', 'WhatsApp template for people outside the 24-hour window, e.g. hello_world:en_US')
    .option('--idempotency-key <key>', 'repeating the command with the same key sends once')
    .option('--skip-unreachable', 'do not send to addresses marked dead (see `fanout contacts show`): they end suppressed')
    .option('--wait', 'follow the dispatch live until it is finished (exit 1 when deliveries failed)')
    .addHelpText('after', '\nExamples:\n' +
      '  fanout send "Standup in 5" --to Artem,Lera --tag team --wait\n' +
      '  fanout send "Happy new year" --tag family --at 2030-01-01T09:00 --until 2030-01-01T12:00')
    .action(async (text: string, options: SendOptions, command: Command) => {
      if (!hasTargets(options)) {
        throw new UsageError('no one to send to', 'give --to <names>, --tag <tags>, --all-tags <tags>, --all, --operator <codes> or --address <messenger:address>')
      }
      let template: NewDispatch['whatsapp_template']
      if (options.template !== undefined) {
        const [name = '', language = ''] = options.template.split(':')
        if (name === '' || language === '') throw new UsageError(`--template "${options.template}" is not <name>:<language>`, 'e.g. --template hello_world:en_US')
        template = { name, language }
      }
      const ctx = contextOf(command)
      const localWindow = localWindowOf(options)
      const body: NewDispatch = {
        text,
        ...targetsOf(options),
        ...(localWindow !== undefined && { local_window: localWindow }),
        ...(options.at !== undefined && { send_at: options.at }),
        ...(options.until !== undefined && { expires_at: options.until }),
        ...(template !== undefined && { whatsapp_template: template }),
        ...(options.skipUnreachable === true && { skip_unreachable: true })
      }
      const accepted = await ctx.call(ctx.api.POST('/v1/dispatches', {
        body,
        ...(options.idempotencyKey !== undefined && { params: { header: { 'idempotency-key': options.idempotencyKey } } })
      }))
      if (ctx.out.json) ctx.out.data(accepted)
      else {
        ctx.out.line(`Dispatch ${accepted.id}: ${accepted.deliveries} ${accepted.deliveries === 1 ? 'delivery' : 'deliveries'}, ${whenOf(accepted)}` +
          (accepted.suppressed > 0 ? ` (${accepted.suppressed} suppressed: repeats of a recent send, or addresses marked dead and skipped)` : ''))
        if (accepted.unknown.length > 0) ctx.out.note(`Not in the contact book (nothing sent to them): ${accepted.unknown.join(', ')}`)
        if (accepted.without_addresses.length > 0) ctx.out.note(`No id on the messengers asked for: ${accepted.without_addresses.join(', ')}`)
        if (options.wait !== true) ctx.out.line(`Follow it: fanout dispatches watch ${accepted.id}`)
      }
      if (options.wait === true) await watch(ctx, accepted.id)
    })
}

export function dispatchesCommand (): Command {
  const dispatches = new Command('dispatches').description('the texts sent: list, show, watch live, edit, cancel, redrive, rm')

  dispatches.command('list').alias('ls').description('the newest dispatches, with their counts per state')
    .option('--limit <n>', 'how many (1-1000)', (v) => Number(v), 20)
    .action(async (options: { limit: number }, command: Command) => {
      if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000')
      const ctx = contextOf(command)
      const page = await ctx.call(ctx.api.GET('/v1/dispatches', { params: { query: { limit: options.limit } } }))
      if (ctx.out.json) { ctx.out.data(page); return }
      if (page.dispatches.length === 0) { ctx.out.note('No dispatches yet. Send one with `fanout send "text" --to <name>`.'); return }
      ctx.out.table(['id', 'created', 'status', 'deliveries', 'counts', 'text'],
        page.dispatches.map((d) => [d.id, localTime(d.created_at), d.status, d.total, countsText(d.counts), d.text]))
      if (page.next_cursor !== undefined) ctx.out.note(`(the newest ${page.dispatches.length}; more with --limit)`)
    })

  dispatches.command('show <id>').description('a dispatch: times, counts per state and per messenger')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const d = await ctx.call(ctx.api.GET('/v1/dispatches/{id}', { params: { path: { id } } }))
      if (ctx.out.json) ctx.out.data(d)
      else showDispatch(ctx, d)
    })

  dispatches.command('watch <id>').description('follow a dispatch live until it is finished (exit 1 when deliveries failed)')
    .action(async (id: string, _options: object, command: Command) => { await watch(contextOf(command), id) })

  dispatches.command('cancel <id>').description('cancel every delivery of the dispatch not yet sent')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      showCancel(ctx, await ctx.call(ctx.api.POST('/v1/dispatches/{id}/cancel', { params: { path: { id } } })))
    })

  dispatches.command('redrive <id>').description('send the dispatch\'s failed deliveries again')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      showRedrive(ctx, await ctx.call(ctx.api.POST('/v1/dispatches/{id}/redrive', { params: { path: { id } } })))
    })

  withTargetOptions(dispatches.command('edit <id>')
    .description('change a scheduled dispatch none of whose deliveries has started: text, times, targets, local hours'))
    .option('--text <text>', 'the new message')
    .option('--at <time>', 'send at this time instead (2030-01-01T09:00 is your local time)', timeOption('--at'))
    .option('--until <time>', 'give up at this time instead', timeOption('--until'))
    .option('--no-until', 'no longer give up at a time')
    .option('--no-window', 'no longer keep to local hours')
    .addHelpText('after', '\nAny of --to, --tag, --all-tags, --all, --address, --messenger, --operator replaces the targets as a whole; without them it keeps its targets.\n' +
      'Once a delivery of it is queued or sent, it can only be cancelled (`fanout dispatches cancel <id>`) or removed (`fanout dispatches rm <id>`).\n\n' +
      'Examples:\n' +
      '  fanout dispatches edit 01JD... --text "Standup moved to 10:00" --at 2030-01-01T09:30\n' +
      '  fanout dispatches edit 01JD... --tag team --window 09:00-21:00')
    .action(async (id: string, options: TargetOptions & { text?: string, at?: string, until?: string | false, window?: TargetOptions['window'] | false }, command: Command) => {
      const localWindow = options.window === false ? undefined : localWindowOf(options)
      const body: DispatchEdit = {
        ...(options.text !== undefined && { text: options.text }),
        ...(hasTargets(options) || options.messenger !== undefined ? targetsOf(options) : {}),
        ...(options.at !== undefined && { send_at: options.at }),
        ...(options.until === false ? { expires_at: null } : options.until !== undefined ? { expires_at: options.until } : {}),
        ...(options.window === false ? { local_window: null } : localWindow !== undefined ? { local_window: localWindow } : {})
      }
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change', 'give --text, --at, --until, --no-until, targets (--to, --tag...) or --window')
      const ctx = contextOf(command)
      const edited = await ctx.call(ctx.api.PATCH('/v1/dispatches/{id}', { params: { path: { id } }, body }))
      if (ctx.out.json) { ctx.out.data(edited); return }
      ctx.out.line(`Dispatch ${edited.id} edited (revision ${edited.revision}): ${edited.deliveries} ${edited.deliveries === 1 ? 'delivery' : 'deliveries'}, ${whenOf(edited)}`)
      if (edited.unknown.length > 0) ctx.out.note(`Not in the contact book (nothing sent to them): ${edited.unknown.join(', ')}`)
      if (edited.without_addresses.length > 0) ctx.out.note(`No id on the messengers asked for: ${edited.without_addresses.join(', ')}`)
    })

  dispatches.command('rm <id>').alias('delete').description('cancel what is not yet sent, then delete the dispatch and its deliveries')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const removed = await ctx.call(ctx.api.DELETE('/v1/dispatches/{id}', { params: { path: { id } } }))
      if (ctx.out.json) { ctx.out.data(removed); return }
      if (removed.in_flight.length === 0) {
        ctx.out.line(`Deleted dispatch ${id}: ${removed.deleted} ${removed.deleted === 1 ? 'delivery' : 'deliveries'} (${removed.cancelled} cancelled first)`)
        return
      }
      ctx.out.line(`Deleted ${removed.deleted} deliveries of dispatch ${id}; ${removed.in_flight.length} being sent right now are kept until they finish`)
      ctx.out.note(`Run \`fanout dispatches rm ${id}\` again in a moment to delete them too.`)
    })

  return dispatches
}

export { showCancel }
