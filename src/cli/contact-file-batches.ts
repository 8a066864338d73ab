/**
 * A contact file cut into requests, and their reports put back together as
 * one (`fanout contacts import`). A big file goes as several imports of a
 * batch of rows each, so the progress bar moves as batches are written, and
 * a file may hold more rows than one request takes. Each batch is a file of
 * the same format (a CSV batch repeats the header), cut where the service
 * counts its rows: CSV records as csv-parse reads them with the service's
 * options, NDJSON lines (the service numbers them by line, blank ones
 * included), JSON array items. So a batch's row n is row `offset + n` of the
 * whole file, and the merged report numbers rows as one request would.
 */
import { parse } from 'csv-parse/sync'
import { CSV_READ_OPTIONS } from '../contacts/contact-files.js'
import type { paths } from './api-types.js'
import { UsageError } from './errors.js'

export type ImportReport = paths['/v1/contacts/import']['post']['responses']['200']['content']['application/json']
export type ContactFileFormat = 'csv' | 'ndjson' | 'json'

export const MEDIA_TYPES: Record<ContactFileFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  json: 'application/json; charset=utf-8'
}

/** One request's worth of the file: its body, its rows, and how many rows of the file come before it. */
export interface Batch {
  body: string
  rows: number
  offset: number
}

/** The report's error list is cut here, as the service cuts it. */
const MAX_ERRORS = 1000

/** The format a file name says, if it says one. */
export function formatOfName (file: string): ContactFileFormat | undefined {
  if (/\.csv$/i.test(file)) return 'csv'
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson'
  if (/\.json$/i.test(file)) return 'json'
  return undefined
}

function csvBatches (text: string, size: number): Batch[] {
  let records: Array<{ raw: string }>
  try {
    // The service's options, so that a record here is a row there.
    records = parse(text, { ...CSV_READ_OPTIONS, raw: true }) as unknown as Array<{ raw: string }>
  } catch (err) {
    const { lines, message } = err as { lines?: number, message: string }
    throw new UsageError(`the file is not valid CSV at line ${lines ?? '?'}: ${message}`)
  }
  const [header, ...rows] = records
  if (header === undefined) return []
  const line = (raw: string) => raw.replace(/^[\r\n]+/, '').replace(/\r?\n?$/, '\n')
  const batches: Batch[] = []
  for (let offset = 0; offset < rows.length; offset += size) {
    const slice = rows.slice(offset, offset + size)
    batches.push({ body: line(header.raw) + slice.map((r) => line(r.raw)).join(''), rows: slice.length, offset })
  }
  return batches
}

function ndjsonBatches (text: string, size: number): Batch[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const batches: Batch[] = []
  for (let offset = 0; offset < lines.length; offset += size) {
    const slice = lines.slice(offset, offset + size)
    // A batch of blank lines only is no rows at all: the service would answer "no body".
    if (slice.some((l) => l.trim() !== '')) batches.push({ body: slice.join('\n') + '\n', rows: slice.length, offset })
  }
  return batches
}

function jsonBatches (text: string, size: number): Batch[] {
  let items: unknown
  try {
    items = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`the file is not JSON: ${(err as Error).message}`, 'a JSON file holds an array of contacts; for a contact a line, use .ndjson or --format ndjson')
  }
  if (!Array.isArray(items)) throw new UsageError('the JSON file is not an array of contacts')
  const batches: Batch[] = []
  for (let offset = 0; offset < items.length; offset += size) {
    const slice = items.slice(offset, offset + size)
    batches.push({ body: JSON.stringify(slice), rows: slice.length, offset })
  }
  return batches
}

/** The file as batches of at most `size` rows each (one batch when `size` is Infinity). */
export function batchesOf (text: string, format: ContactFileFormat, size: number): Batch[] {
  if (format === 'csv') return csvBatches(text, size)
  if (format === 'ndjson') return ndjsonBatches(text, size)
  return jsonBatches(text, size)
}

type Ranges = ImportReport['rows']['created']

/** Ranges of several batches, shifted to the file's row numbers, the touching ones joined. */
function joinRanges (ranges: Ranges, more: Ranges, offset: number): Ranges {
  const joined = ranges.map(([a, b]) => [a, b] as [number, number])
  for (const [first, last] of more) {
    const previous = joined.at(-1)
    if (previous !== undefined && previous[1] + 1 === first! + offset) previous[1] = last! + offset
    else joined.push([first! + offset, last! + offset])
  }
  return joined
}

export function emptyReport (): ImportReport {
  return {
    written: true,
    counts: { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0 },
    rows: { created: [], updated: [], unchanged: [], failed: [] },
    errors: []
  }
}

/** The report of the whole file so far, with the report of the batch that begins after `offset` rows added. */
export function addReport (whole: ImportReport, batch: ImportReport, offset: number): ImportReport {
  const counts = { ...whole.counts }
  for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] += batch.counts[key]
  const rows = { ...whole.rows }
  for (const key of Object.keys(rows) as Array<keyof typeof rows>) rows[key] = joinRanges(whole.rows[key], batch.rows[key], offset)
  const errors = [...whole.errors, ...batch.errors.map((e) => ({ ...e, row: e.row + offset }))]
  const omitted = (whole.errors_omitted ?? 0) + (batch.errors_omitted ?? 0) + Math.max(0, errors.length - MAX_ERRORS)
  return {
    written: whole.written && batch.written,
    counts,
    rows,
    errors: errors.slice(0, MAX_ERRORS),
    ...(omitted > 0 && { errors_omitted: omitted })
  }
}
