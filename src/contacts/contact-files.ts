/**
 * A contact book as a file, both ways: what POST /v1/contacts/import reads
 * and GET /v1/contacts/export writes.
 *
 *   CSV (text/csv)                 a header row naming the columns (any of CONTACT_COLUMNS, `name`
 *                                  required, in any order and case), then a contact a record; an empty
 *                                  cell is no value; tags in one cell, separated by `;` (`,` and spaces
 *                                  work too: no tag holds one)
 *   NDJSON (application/x-ndjson)  one contact a line, as POST /v1/contacts takes it
 *   JSON (application/json)        an array of such contacts
 *
 * Reading collects the rows as values, each with its number (1-based: the
 * CSV record after the header, the NDJSON line, the array item), or with what
 * kept it from being one; checking a value as a contact is the import's
 * (contact-import.ts). The body is read as a stream and counted on the way
 * (at most `maxBytes`, at most `maxRows` rows), and hashed, so that an
 * Idempotency-Key can tell the same file again.
 *
 * An export writes the columns in CONTACT_COLUMNS order, quotes a cell that
 * starts or ends with a space (a CSV reader trims unquoted cells), and
 * nothing else is changed, so that the file imports back to the same book.
 */
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parse, type CsvError } from 'csv-parse'
import { stringify } from 'csv-stringify'
import { invalidField, tooLarge } from '../errors.js'
import type { Contact, ContactStore } from './contact-store.js'

export type ContactFileFormat = 'csv' | 'ndjson' | 'json'

/** The media type of each format (a request's Content-Type, an export's). */
export const MEDIA_TYPES: Record<ContactFileFormat, string> = {
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
  json: 'application/json'
}

/** The columns of a CSV file: the fields of a contact. */
export const CONTACT_COLUMNS = ['name', 'telegram', 'whatsapp', 'viber', 'tags', 'timezone', 'operator'] as const
type Column = typeof CONTACT_COLUMNS[number]

/** What an export puts between tags; a reader splits on any of `;`, `,` and white space. */
export const TAG_SEPARATOR = ';'
const TAG_SPLIT = /[;,\s]+/

/** Why a row holds no value: the CSV record or the NDJSON line could not be read as one. */
export interface RowFault {
  code: 'INVALID_ROW'
  message: string
}

/** One row of a file: a value to check as a contact, or a fault. */
export type FileRow = { row: number, value: unknown } | { row: number, fault: RowFault }

export interface ContactFile {
  format: ContactFileFormat
  rows: FileRow[]
  /** SHA-256 of the body as it came, hex. */
  sha256: string
}

export interface FileLimits {
  maxBytes: number
  maxRows: number
}

function tooManyRows (maxRows: number): Error {
  return tooLarge('TOO_MANY_ROWS', `the file has more than ${maxRows.toLocaleString('en-US')} rows; import at most that many at a time`)
}

/** Passes the body on, counting and hashing it; a byte past `maxBytes` is a 413. */
class Metered extends Transform {
  bytes = 0
  readonly hash = createHash('sha256')
  constructor (private readonly maxBytes: number) { super() }
  override _transform (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.maxBytes) {
      done(tooLarge('BODY_TOO_LARGE', `the body is larger than ${this.maxBytes} bytes (IMPORT_BODY_LIMIT); split the file`))
      return
    }
    this.hash.update(chunk)
    done(null, chunk)
  }
}

/** The CSV header's columns, by position; a 400 naming `header` when it is not one of a contact file. */
function columnsOf (header: readonly string[]): Column[] {
  const columns = header.map((cell) => cell.trim().toLowerCase())
  const known = CONTACT_COLUMNS as readonly string[]
  const unknown = columns.find((column) => !known.includes(column))
  if (unknown !== undefined) {
    throw invalidField('header', `names the column "${unknown}", not a field of a contact; the columns are ${CONTACT_COLUMNS.join(', ')}`)
  }
  const twice = columns.find((column, i) => columns.indexOf(column) !== i)
  if (twice !== undefined) throw invalidField('header', `names the column "${twice}" twice`)
  if (!columns.includes('name')) throw invalidField('header', `has no column "name"; the first row of the file names its columns (${CONTACT_COLUMNS.join(', ')})`)
  return columns as Column[]
}

/** A CSV record as the contact POST /v1/contacts would take: an empty cell is no value, tags are a list. */
function csvValue (columns: readonly Column[], record: readonly string[]): Record<string, unknown> {
  const value: Record<string, unknown> = {}
  columns.forEach((column, i) => {
    const cell = record[i] ?? ''
    if (cell === '') return
    value[column] = column === 'tags' ? cell.split(TAG_SPLIT).filter((tag) => tag !== '') : cell
  })
  return value
}

/** How a CSV file is read into records (the CLI cuts files into batches where these say a record ends). */
export const CSV_READ_OPTIONS = {
  bom: true,
  // Around the delimiters only: a quoted cell keeps its spaces.
  trim: true,
  relax_quotes: true,
  // A record of the wrong width is that row's fault, not the file's.
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_empty_values: true
} as const

async function readCsv (body: Readable, metered: Metered, { maxRows }: FileLimits): Promise<FileRow[]> {
  const rows: FileRow[] = []
  let columns: Column[] | undefined
  const parser = parse(CSV_READ_OPTIONS)
  try {
    await pipeline(body, metered, parser, async function (records: AsyncIterable<string[]>) {
      for await (const record of records) {
        if (columns === undefined) {
          columns = columnsOf(record)
          continue
        }
        const row = rows.length + 1
        if (row > maxRows) throw tooManyRows(maxRows)
        rows.push(record.length === columns.length
          ? { row, value: csvValue(columns, record) }
          : { row, fault: { code: 'INVALID_ROW', message: `has ${record.length} cells; the header names ${columns.length} columns` } })
      }
    })
  } catch (err) {
    const csv = err as CsvError & { statusCode?: number }
    // Ours (the header, the limits) as they are; csv-parse's own: the file is not CSV from that line on.
    if (csv.statusCode !== undefined || typeof csv.code !== 'string' || !csv.code.startsWith('CSV_')) throw err
    throw invalidField('body', `is not valid CSV at line ${csv.lines ?? '?'}: ${csv.message}`)
  }
  if (columns === undefined) throw invalidField('header', `is missing: the first row of a CSV file names its columns (${CONTACT_COLUMNS.join(', ')})`)
  return rows
}

async function readNdjson (body: Readable, metered: Metered, { maxRows }: FileLimits): Promise<FileRow[]> {
  const rows: FileRow[] = []
  const lines = createInterface({ input: body.pipe(metered), crlfDelay: Infinity })
  body.once('error', (err) => metered.destroy(err))
  let line = 0
  let count = 0
  // A Metered error (too large) ends the iteration with it.
  for await (const text of lines) {
    line++
    const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim()
    if (trimmed === '') continue
    if (++count > maxRows) {
      body.destroy()
      throw tooManyRows(maxRows)
    }
    try {
      rows.push({ row: line, value: JSON.parse(trimmed) })
    } catch (err) {
      rows.push({ row: line, fault: { code: 'INVALID_ROW', message: `is not JSON: ${(err as Error).message}` } })
    }
  }
  return rows
}

async function readJson (body: Readable, metered: Metered, { maxRows }: FileLimits): Promise<FileRow[]> {
  const chunks: Buffer[] = []
  await pipeline(body, metered, async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) chunks.push(chunk)
  })
  const text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw Object.assign(invalidField('body', `is not JSON: ${(err as Error).message}`), { code: 'INVALID_JSON' })
  }
  if (!Array.isArray(value)) throw invalidField('body', 'must be a JSON array of contacts (or send NDJSON or CSV)')
  if (value.length > maxRows) throw tooManyRows(maxRows)
  return value.map((item: unknown, i) => ({ row: i + 1, value: item }))
}

const READERS = { csv: readCsv, ndjson: readNdjson, json: readJson }

/** Reads a body in `format` into rows (see above); a 413 past the limits, a 400 when it is no such file at all. */
export async function readContactFile (body: Readable, format: ContactFileFormat, limits: FileLimits): Promise<ContactFile> {
  const metered = new Metered(limits.maxBytes)
  const rows = await READERS[format](body, metered, limits)
  return { format, rows, sha256: metered.hash.digest('hex') }
}

/** Every contact of the book in name order, read a page at a time (a keyset walk: see ContactStore.page). */
export async function * wholeBook (store: ContactStore, user: string, pageSize = 1000): AsyncGenerator<Contact> {
  let after: string | undefined
  do {
    const page = await store.page(user, { limit: pageSize, ...(after !== undefined && { after }) })
    yield * page.contacts
    after = page.next
  } while (after !== undefined)
}

/** A CSV record of a contact, in CONTACT_COLUMNS order. */
function csvRecord (contact: Contact): string[] {
  return CONTACT_COLUMNS.map((column) => column === 'tags' ? (contact.tags ?? []).join(TAG_SEPARATOR) : contact[column] ?? '')
}

/** The contacts as a CSV file, written as they come. */
export function csvOf (contacts: AsyncIterable<Contact>): Readable {
  const records = Readable.from((async function * () {
    for await (const contact of contacts) yield csvRecord(contact)
  })())
  const csv = stringify({ header: true, columns: [...CONTACT_COLUMNS], quoted_match: /^\s|\s$/ })
  // An error of the walk (Redis gone) ends the file with it: the answer is cut off, not completed wrongly.
  records.once('error', (err) => csv.destroy(err))
  return records.pipe(csv)
}

/** The contacts as NDJSON, one a line, as GET /v1/contacts/{name} shows each. */
export function ndjsonOf (contacts: AsyncIterable<Contact>): Readable {
  return Readable.from((async function * () {
    for await (const contact of contacts) yield `${JSON.stringify(contact)}\n`
  })())
}
