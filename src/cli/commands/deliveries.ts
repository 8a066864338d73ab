/**
 * `fanout deliveries [list]`, `deliveries show <id...>`, `deliveries cancel <id...>`
 * and `fanout failed` (the failed lookup): /v1/deliveries and its lookup and
 * cancel by lists of ids.
 */
import { Command, Option } from 'commander'
import type { paths } from '../api-types.js'
import { contextOf, type Context } from '../context.js'
import { EXIT, UsageError } from '../errors.js'
import { localTime } from '../output.js'
import { showCancel, timeOption } from './dispatches.js'

type Delivery = paths['/v1/deliveries/{id}']['get']['responses']['200']['content']['application/json']
type ListQuery = NonNullable<paths['/v1/deliveries']['get']['parameters']['query']>

const STATES = ['scheduled', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'cancelled', 'expired', 'suppressed'] as const
/** The most ids one lookup or cancel request takes: longer lists go in several. */
const IDS_PER_REQUEST = 1000

function showDeliveries (ctx: Context, deliveries: Delivery[]): void {
  if (ctx.out.json) { ctx.out.data(deliveries); return }
  ctx.out.table(['id', 'created', 'contact', 'messenger', 'address', 'state', 'attempts', 'last error'],
    deliveries.map((d) => [d.id, localTime(d.created_at), d.contact ?? '(address)', d.messenger, d.address, d.state, d.attempts, d.last_error]))
}

interface ListOptions { state?: ListQuery['state'], dispatch?: string, contact?: string, messenger?: ListQuery['messenger'], from?: string, to?: string, limit: number }

/** Newest first, walking pages until `limit` are found or there are no more. */
async function list (ctx: Context, options: ListOptions): Promise<void> {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new UsageError('--limit must be a whole number from 1 up')
  const found: Delivery[] = []
  let cursor: string | undefined
  do {
    const page = await ctx.call(ctx.api.GET('/v1/deliveries', {
      params: {
        query: {
          limit: Math.min(1000, options.limit - found.length),
          ...(options.state !== undefined && { state: options.state }),
          ...(options.dispatch !== undefined && { dispatch: options.dispatch }),
          ...(options.contact !== undefined && { contact: options.contact }),
          ...(options.messenger !== undefined && { messenger: options.messenger }),
          ...(options.from !== undefined && { from: options.from }),
          ...(options.to !== undefined && { to: options.to }),
          ...(cursor !== undefined && { cursor })
        }
      }
    }))
    found.push(...page.deliveries)
    cursor = page.next_cursor
  } while (cursor !== undefined && found.length < options.limit)
  if (!ctx.out.json && found.length === 0) {
    ctx.out.note(options.state === 'failed' ? 'No failed deliveries.' : 'No deliveries match.')
    return
  }
  showDeliveries(ctx, found)
  if (!ctx.out.json && cursor !== undefined) ctx.out.note(`(the newest ${found.length}; more with --limit)`)
}

function listOptions (command: Command, fixedState?: string): Command {
  if (fixedState === undefined) command.addOption(new Option('--state <state>', 'only deliveries in this state (failed: the failed lookup)').choices(STATES))
  return command
    .option('--dispatch <id>', 'only this dispatch\'s')
    .option('--contact <name>', 'only this contact\'s')
    .addOption(new Option('--messenger <name>', 'only this messenger\'s').choices(['telegram', 'whatsapp', 'viber']))
    .option('--from <time>', 'created at or after this time', timeOption('--from'))
    .option('--to <time>', 'created before this time', timeOption('--to'))
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
}

/** The ids in request-sized batches. */
function batches (ids: string[]): string[][] {
  const out: string[][] = []
  for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) out.push(ids.slice(i, i + IDS_PER_REQUEST))
  return out
}

function reportUnknown (ctx: Context, unknown: string[]): void {
  if (unknown.length === 0) return
  ctx.out.note(`No such deliveries of yours: ${unknown.join(', ')}`)
  // Some ids were not found: the command did not do all it was asked.
  process.exitCode = EXIT.notFound
}

export function deliveriesCommand (): Command {
  const deliveries = new Command('deliveries').description('every delivery: list and filter them, look up or cancel them by id')

  listOptions(deliveries.command('list', { isDefault: true }).alias('ls').description('deliveries, newest first (the default: `fanout deliveries --state failed`)'))
    .action(async (options: ListOptions, command: Command) => { await list(contextOf(command), options) })

  deliveries.command('show <ids...>').description('deliveries by id, each with its state, attempts and last error (exit 3 if some are not found)')
    .action(async (ids: string[], _options: object, command: Command) => {
      const ctx = contextOf(command)
      const found: Delivery[] = []
      const unknown: string[] = []
      for (const batch of batches(ids)) {
        const answer = await ctx.call(ctx.api.POST('/v1/deliveries/lookup', { body: { ids: batch } }))
        found.push(...answer.deliveries)
        unknown.push(...answer.unknown)
      }
      if (ctx.out.json) ctx.out.data({ deliveries: found, unknown })
      else if (found.length === 1) showOne(ctx, found[0]!)
      else if (found.length > 1) showDeliveries(ctx, found)
      reportUnknown(ctx, unknown)
    })

  deliveries.command('cancel <ids...>').description('cancel deliveries by id, those not yet sent (exit 3 if some are not found)')
    .action(async (ids: string[], _options: object, command: Command) => {
      const ctx = contextOf(command)
      const report = { cancelled: [] as string[], in_flight: [] as string[], already_finished: [] as Array<{ id: string, state: typeof STATES[number] }>, unknown: [] as string[] }
      for (const batch of batches(ids)) {
        const answer = await ctx.call(ctx.api.POST('/v1/deliveries/cancel', { body: { ids: batch } }))
        report.cancelled.push(...answer.cancelled)
        report.in_flight.push(...answer.in_flight)
        report.already_finished.push(...answer.already_finished)
        report.unknown.push(...answer.unknown)
      }
      showCancel(ctx, report)
      reportUnknown(ctx, report.unknown)
    })

  return deliveries
}

function showOne (ctx: Context, d: Delivery): void {
  const rows: Array<[string, string | number | undefined]> = [
    ['dispatch', d.dispatch_id], ['contact', d.contact ?? '(a direct address)'], ['messenger', d.messenger], ['address', d.address],
    ['state', d.state], ['attempts', d.attempts], ['last error', d.last_error], ['url', d.url], ['created', localTime(d.created_at)],
    ['send at', localTime(d.send_at)], ['updated', localTime(d.updated_at)], ['finished', localTime(d.finished_at)],
    ['message id', d.provider_message_id], ['duplicate of', d.duplicate_of],
    ['receipts', [...d.receipts].sort((a, b) => a.at.localeCompare(b.at)).map((r) => `${r.state}${r.code === undefined ? '' : ` (${r.code})`} ${localTime(r.at)}`).join(', ')]
  ]
  ctx.out.line(`Delivery ${d.id}`)
  for (const [name, value] of rows) if (value !== undefined && value !== '') ctx.out.line(`  ${name.padEnd(12)} ${value}`)
}

export function failedCommand (): Command {
  return listOptions(new Command('failed').description('the failed lookup: failed deliveries, newest first'), 'failed')
    .action(async (options: ListOptions, command: Command) => {
      await list(contextOf(command), { ...options, state: 'failed' })
    })
}
