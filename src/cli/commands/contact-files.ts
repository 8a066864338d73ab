/**
 * `fanout contacts import FILE` and `fanout contacts export`: the whole book
 * as a file (POST /v1/contacts/import, GET /v1/contacts/export). A big
 * import goes in batches (contact-file-batches.ts), with a bar of the rows
 * written so far; an export streams to a file or stdout, with a bar of the
 * contacts written when the bar has a terminal of its own.
 */
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import cliProgress from 'cli-progress'
import { Command, Option } from 'commander'
import { addReport, batchesOf, emptyReport, formatOfName, MEDIA_TYPES, type ContactFileFormat, type ImportReport } from '../contact-file-batches.js'
import { contextOf, type Context } from '../context.js'
import { EXIT, UsageError } from '../errors.js'

/** The service takes up to 100,000 rows a request; smaller batches move the bar and keep each request short. */
const MAX_BATCH = 100_000
const DEFAULT_BATCH = 10_000

/** A bar on stderr (stdout holds the result), only when stderr is a terminal and the output is for a person. */
function barOf (ctx: Context, what: string, total: number): cliProgress.SingleBar | undefined {
  if (ctx.out.json || process.stderr.isTTY !== true) return undefined
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: ` ${what} {bar} {value}/{total}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true
  })
  bar.start(total, 0)
  return bar
}

function showReport (ctx: Context, file: string, report: ImportReport): void {
  if (ctx.out.json) { ctx.out.data(report); return }
  const { rows, created, updated, unchanged, failed } = report.counts
  ctx.out.line(report.written
    ? `Imported ${file}: ${rows} rows, created ${created}, updated ${updated}, unchanged ${unchanged}, failed ${failed}`
    : `Nothing imported from ${file}: ${failed} of ${rows} rows failed (all or nothing)`)
  if (report.errors.length > 0) {
    ctx.out.table(['row', 'name', 'field', 'error'], report.errors.map((e) => [e.row, e.name, e.field, `${e.code}: ${e.message}`]), { maxWidth: 80 })
  }
  if (report.errors_omitted !== undefined) ctx.out.line(`... and ${report.errors_omitted} more failed rows`)
}

async function readInput (file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    }
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`)
  }
}

interface ImportOptions { format?: ContactFileFormat, mode: 'upsert' | 'create', allOrNothing?: boolean, batch: number, idempotencyKey?: string }

async function importFile (ctx: Context, file: string, options: ImportOptions): Promise<void> {
  const format = options.format ?? formatOfName(file)
  if (format === undefined) throw new UsageError(`cannot tell the format of ${file} from its name`, 'name it .csv, .ndjson or .json, or give --format')
  // All or nothing is one request: one answer decides for the whole file.
  const batches = batchesOf(await readInput(file), format, options.allOrNothing === true ? Infinity : options.batch)
  if (batches.length === 0) { ctx.out.note(`${file} holds no rows: nothing to import`); return }
  const total = batches.reduce((n, b) => n + b.rows, 0)
  const bar = barOf(ctx, 'importing', total)
  let report = emptyReport()
  try {
    for (const [i, batch] of batches.entries()) {
      const key = options.idempotencyKey === undefined ? undefined : batches.length === 1 ? options.idempotencyKey : `${options.idempotencyKey}-${i + 1}`
      const request = ctx.api.POST('/v1/contacts/import', {
        params: {
          query: { mode: options.mode, ...(options.allOrNothing === true && { all_or_nothing: true }) },
          ...(key !== undefined && { header: { 'idempotency-key': key } })
        },
        headers: { 'content-type': MEDIA_TYPES[format] },
        // The file as it is: the body schema is the JSON form of it, the service reads each of the three.
        body: batch.body as never,
        bodySerializer: (body: unknown) => body as string
      })
      // All or nothing and a row failed: the 422 carries the report of what would have been.
      const refused = await request.then((a) => a.response.status === 422 ? (a.error as { report?: ImportReport }).report : undefined, () => undefined)
      const batchReport = refused ?? await ctx.call(request)
      report = addReport(report, batchReport, batch.offset)
      bar?.update(batch.offset + batch.rows)
    }
  } finally {
    bar?.stop()
  }
  showReport(ctx, file, report)
  if (report.counts.failed > 0) process.exitCode = report.written ? EXIT.someFailed : EXIT.usage
}

/** Counts the contacts passing by (a line each: NDJSON, and CSV but for the header and quoted line breaks). */
function lineCounter (onLines: (lines: number) => void): (chunk: Buffer) => void {
  return (chunk) => {
    let n = 0
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
    onLines(n)
  }
}

async function exportBook (ctx: Context, options: { format?: 'csv' | 'ndjson', output?: string }): Promise<void> {
  const named = options.output === undefined ? undefined : formatOfName(options.output)
  const format = options.format ?? (named === 'ndjson' ? 'ndjson' : 'csv')
  const answer = await ctx.api.GET('/v1/contacts/export', { params: { query: { format } }, parseAs: 'stream' })
  const body = await ctx.call(Promise.resolve(answer)) as ReadableStream<Uint8Array> | null
  const total = Number(answer.response.headers.get('x-total-count') ?? NaN)
  const source = body === null ? Readable.from([]) : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)
  const bar = options.output === undefined || !Number.isFinite(total) ? undefined : barOf(ctx, 'exporting', total)
  let written = format === 'csv' ? -1 : 0
  source.on('data', lineCounter((n) => { written += n; bar?.update(Math.max(0, Math.min(written, total))) }))
  const sink: Writable = options.output === undefined ? process.stdout : createWriteStream(options.output)
  try {
    await pipeline(source, sink, { end: options.output !== undefined })
  } catch (err) {
    // The reader went away (`| head`): what it wanted it has.
    if ((err as { code?: string }).code !== 'EPIPE') throw err
    source.destroy()
    return
  } finally {
    bar?.stop()
  }
  if (options.output !== undefined) {
    const count = Number.isFinite(total) ? total : Math.max(0, written)
    if (ctx.out.json) ctx.out.data({ exported: count, file: options.output, format })
    else ctx.out.note(`Exported ${count} contacts to ${options.output} (${format})`)
  }
}

/** Adds `import` and `export` to `fanout contacts`. */
export function addContactFileCommands (contacts: Command): void {
  contacts.command('import <file>').description('import contacts from a CSV, NDJSON or JSON file (- for stdin): a report per row')
    .addOption(new Option('--format <format>', 'the file\'s format (default: from its name)').choices(['csv', 'ndjson', 'json']))
    .addOption(new Option('--mode <mode>', 'upsert: a row replaces the contact of its name; create: such a row fails').choices(['upsert', 'create']).default('upsert'))
    .option('--all-or-nothing', 'write nothing if any row fails (one request for the whole file)')
    .option('--batch <rows>', `rows per request (1 to ${MAX_BATCH})`, (value: string) => {
      const rows = Number(value)
      if (!Number.isInteger(rows) || rows < 1 || rows > MAX_BATCH) throw new UsageError(`--batch must be a whole number from 1 to ${MAX_BATCH}, not ${value}`)
      return rows
    }, DEFAULT_BATCH)
    .option('--idempotency-key <key>', 'makes a rerun safe: each batch n is sent with <key>-n (the key itself when there is one batch)')
    .addHelpText('after', `
The first row of a CSV file names the columns: name, telegram, whatsapp, viber,
tags (separated by ;), timezone, operator. Exit codes: 0 every row written; 1 some rows
failed (the others were written); 2 nothing written (bad file, or
--all-or-nothing and a row failed).

Examples:
  fanout contacts import contacts.csv
  fanout contacts export -o book.ndjson && fanout contacts import book.ndjson`)
    .action(async (file: string, options: ImportOptions, command: Command) => {
      await importFile(contextOf(command), file, options)
    })

  contacts.command('export').description('the whole book as CSV or NDJSON, in name order, to stdout or a file')
    .addOption(new Option('--format <format>', 'csv or ndjson (default: from the file name, else csv)').choices(['csv', 'ndjson']))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (options: { format?: 'csv' | 'ndjson', output?: string }, command: Command) => {
      await exportBook(contextOf(command), options)
    })
}
