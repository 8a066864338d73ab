/**
 * A contact file cut into batches and the batches' reports put together
 * (src/cli/contact-file-batches.ts), against the file sent whole: for any
 * file (cells with commas, quotes and line breaks, blank lines between rows)
 * and any batch size, the batches hold every row once, in order, and the
 * report joined from theirs is the report of the whole file. Each "service"
 * answer here is made as the service numbers rows: CSV records after the
 * header (read by csv-parse), NDJSON lines, blank ones counted.
 */
import fc from 'fast-check'
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import t, { type Test } from 'tap'
import { addReport, batchesOf, emptyReport, type ImportReport } from '../../src/cli/contact-file-batches.js'

/** What becomes of a row: decided by its name, so a row gets the same outcome in any batch. */
const outcomeOf = (name: string) => (['created', 'updated', 'unchanged', 'failed'] as const)[name.length % 4]!

/** The service's report of a file of these rows (numbered as it numbers them). */
function reportOf (rows: Array<{ row: number, name: string }>): ImportReport {
  const report = emptyReport()
  for (const { row, name } of rows) {
    const outcome = outcomeOf(name)
    report.counts.rows++
    report.counts[outcome]++
    const ranges = report.rows[outcome]
    const last = ranges.at(-1)
    if (last !== undefined && last[1] === row - 1) last[1] = row
    else ranges.push([row, row])
    if (outcome === 'failed') report.errors.push({ row, name, code: 'INVALID_FIELD', field: 'telegram', message: 'bad' })
  }
  return report
}

const csvRows = (body: string) => (parse(body, { bom: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true }) as string[][])
  .slice(1).map((record, i) => ({ row: i + 1, name: record[0]! }))

const ndjsonRows = (body: string) => body.split('\n').flatMap((line, i) => line.trim() === '' ? [] : [{ row: i + 1, name: (JSON.parse(line) as { name: string }).name }])

/** Names with what CSV must quote: commas, quotes, line breaks. */
const name = fc.stringMatching(/^[a-z][a-z ,"\n]{0,6}[a-z]$/)
const file = fc.uniqueArray(name, { minLength: 1, maxLength: 40 }).chain((names) =>
  fc.tuple(fc.constant(names), fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length })))

function checkFormat (t: Test, format: 'csv' | 'ndjson', render: (names: string[], blanks: boolean[]) => string, rowsOf: (body: string) => Array<{ row: number, name: string }>) {
  fc.assert(fc.property(file, fc.integer({ min: 1, max: 45 }), ([names, blanks], size) => {
    const text = render(names, blanks)
    const whole = reportOf(rowsOf(text))
    const batches = batchesOf(text, format, size)
    let joined = emptyReport()
    let offset = 0
    const seen: string[] = []
    for (const batch of batches) {
      // In order, none overlapping (a batch of blank NDJSON lines only is left out).
      if (batch.offset < offset) return false
      const rows = rowsOf(batch.body)
      seen.push(...rows.map((r) => r.name))
      joined = addReport(joined, reportOf(rows), batch.offset)
      offset = batch.offset + batch.rows
    }
    t.same(seen, names)
    t.same(joined, whole)
    return true
  }), { numRuns: 150 })
}

t.test('CSV: every record once, in order; the joined report is the whole file\'s', async (t) => {
  checkFormat(t, 'csv',
    (names, blanks) => 'name,telegram\n' + names.map((n, i) => stringify([[n, '1']]) + (blanks[i]! ? '\n' : '')).join(''),
    csvRows)
})

t.test('NDJSON: blank lines keep the numbering of the whole file', async (t) => {
  checkFormat(t, 'ndjson',
    (names, blanks) => names.map((n, i) => JSON.stringify({ name: n }) + (blanks[i]! ? '\n\n' : '\n')).join(''),
    ndjsonRows)
})

t.test('JSON: an array cut into arrays; errors beyond 1,000 are counted, not listed', async (t) => {
  const items = Array.from({ length: 2500 }, (_, i) => ({ name: `n${i}` }))
  const batches = batchesOf(JSON.stringify(items), 'json', 1000)
  t.same(batches.map((b) => [b.offset, b.rows, (JSON.parse(b.body) as unknown[]).length]), [[0, 1000, 1000], [1000, 1000, 1000], [2000, 500, 500]])
  const failedBatch = (rows: number): ImportReport => ({
    written: true,
    counts: { rows, created: 0, updated: 0, unchanged: 0, failed: rows },
    rows: { created: [], updated: [], unchanged: [], failed: [[1, rows]] },
    errors: Array.from({ length: Math.min(rows, 1000) }, (_, i) => ({ row: i + 1, code: 'INVALID_FIELD', message: 'bad' }))
  })
  const joined = batches.reduce((report, b) => addReport(report, failedBatch(b.rows), b.offset), emptyReport())
  t.same(joined.rows.failed, [[1, 2500]])
  t.equal(joined.errors.length, 1000)
  t.equal(joined.errors.at(-1)!.row, 1000)
  t.equal(joined.errors_omitted, 1500)
  t.throws(() => batchesOf('{"name": "x"}', 'json', 10), /not an array/)
  t.throws(() => batchesOf('[{', 'json', 10), /not JSON/)
  t.throws(() => batchesOf('name\n"open', 'csv', 10), /not valid CSV at line/)
})
