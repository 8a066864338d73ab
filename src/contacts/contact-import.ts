/**
 * An import: the rows of a contact file (contact-files.ts) into the book.
 *
 * Each row is checked exactly as a POST /v1/contacts body is (its TypeBox
 * schema, through the same Ajv, then checkedContact); a name may be in one
 * row only. The rows that pass go to the store in batches of BATCH_ROWS
 * (ContactStore.writeBatch: one script a batch in Redis, one bulkWrite in
 * MongoDB), in row order, so the first new names take the room left in the
 * book. With all or nothing, any failed row stops the import before anything
 * is written, and the rows are written in one batch, all or none.
 *
 * The report is compact whatever the size: counts, the rows of each result
 * as ranges ([first, last] row numbers), and the errors of the first
 * MAX_LISTED_ERRORS failed rows (each naming its row, and its field when one
 * is at fault).
 */
import type { ValidateFunction } from 'ajv'
import type { FieldProblem } from '../errors.js'
import { NewContactBody } from '../schemas/contacts.js'
import { bodyAjv, fieldProblems } from '../schemas/validators.js'
import { checkedContact } from './contact-checks.js'
import { withOperator } from './operator.js'
import type { FileRow } from './contact-files.js'
import { contactBookFull, type BatchMode, type BatchOutcome, type Contact, type ContactStore } from './contact-store.js'

/** Contacts per store call. */
export const BATCH_ROWS = 1000
/** Batches asked for before the first is answered: Node prepares the next while the store writes one. */
const BATCHES_IN_FLIGHT = 4
/** Errors listed in a report; the count and the ranges cover every failed row. */
export const MAX_LISTED_ERRORS = 1000

export interface ImportOptions {
  mode: BatchMode
  allOrNothing: boolean
  /** MAX_CONTACTS_PER_USER, for the message of a row that did not fit. */
  maxContacts: number
}

export type RowResult = 'created' | 'updated' | 'unchanged' | 'failed'
const RESULTS: readonly RowResult[] = ['created', 'updated', 'unchanged', 'failed']

export interface RowError {
  row: number
  /** The row's name, when it has one. */
  name?: string
  code: string
  /** The field at fault, as POST /v1/contacts would name it; absent when the row as a whole is. */
  field?: string
  message: string
}

/** Rows as [first, last] row numbers, in order. */
export type RowRanges = Array<[number, number]>

export interface ImportReport {
  /** False only with all or nothing, when a row failed: then nothing was written. */
  written: boolean
  counts: { rows: number } & Record<RowResult, number>
  rows: Record<RowResult, RowRanges>
  errors: RowError[]
  /** Failed rows beyond the errors listed. */
  errors_omitted?: number
}

// Compiled once, by the Ajv that checks the bodies of POST /v1/contacts.
const checkBody: ValidateFunction = bodyAjv.compile(NewContactBody)

type RowCheck = { contact: Contact } | { error: Omit<RowError, 'row' | 'name'> }

/** A row's value as a contact, checked as POST /v1/contacts checks its body. */
function checkRow (value: unknown): RowCheck {
  if (!checkBody(value)) {
    const [problem] = fieldProblems(checkBody.errors ?? [], 'row') as [FieldProblem]
    return { error: { code: 'INVALID_FIELD', ...(problem.field !== 'row' && { field: problem.field }), message: problem.message } }
  }
  const { name, ...fields } = value as NewContactBody
  try {
    return { contact: checkedContact(name, fields) }
  } catch (err) {
    const problem = (err as { details?: FieldProblem[] }).details?.[0]
    if (problem === undefined) throw err
    return { error: { code: 'INVALID_FIELD', field: problem.field, message: problem.message } }
  }
}

function nameOf (value: unknown): string | undefined {
  const name = (value as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

/** Consecutive row numbers of each result, merged into ranges; a row without a result is in none. */
function rangesOf (rows: readonly FileRow[], results: ReadonlyArray<RowResult | undefined>): Record<RowResult, RowRanges> {
  const ranges: Record<RowResult, RowRanges> = { created: [], updated: [], unchanged: [], failed: [] }
  rows.forEach(({ row }, i) => {
    const result = results[i]
    if (result === undefined) return
    const list = ranges[result]
    const last = list[list.length - 1]
    if (last !== undefined && last[1] === row - 1) last[1] = row
    else list.push([row, row])
  })
  return ranges
}

export async function importContacts (store: ContactStore, user: string, rows: readonly FileRow[], options: ImportOptions): Promise<ImportReport> {
  const { mode, allOrNothing, maxContacts } = options
  const results = new Array<RowResult | undefined>(rows.length)
  const errors: RowError[] = []
  const fail = (i: number, error: Omit<RowError, 'row'>): void => {
    results[i] = 'failed'
    errors.push({ row: rows[i]!.row, ...error })
  }

  const firstRowOf = new Map<string, number>()
  type Checked = Array<{ index: number, contact: Contact }>
  /** Checks rows `from` to `to` (exclusive); the ones that pass, to be written. */
  const check = (from: number, to: number): Checked => {
    const passed: Checked = []
    for (let i = from; i < to; i++) {
      const row = rows[i]!
      if ('fault' in row) {
        fail(i, row.fault)
        continue
      }
      const name = nameOf(row.value)
      if (name !== undefined) {
        const first = firstRowOf.get(name)
        if (first !== undefined) {
          fail(i, { name, code: 'DUPLICATE_NAME', field: 'name', message: `"${name}" is in row ${first} too; a name may be in one row only` })
          continue
        }
        firstRowOf.set(name, row.row)
      }
      const result = checkRow(row.value)
      if ('error' in result) fail(i, { ...(name !== undefined && { name }), ...result.error })
      else passed.push({ index: i, contact: result.contact })
    }
    return passed
  }

  /** The operators the rows leave out, derived from their WhatsApp numbers (as POST /v1/contacts does). */
  const derived = async (batch: Checked): Promise<Checked> =>
    await Promise.all(batch.map(async ({ index, contact }) => ({ index, contact: await withOperator(contact) })))

  const record = (batch: Checked, outcomes: readonly BatchOutcome[]): void => {
    outcomes.forEach((result, k) => {
      const { index, contact } = batch[k]!
      if (result === 'taken') {
        fail(index, { name: contact.name, code: 'CONTACT_EXISTS', field: 'name', message: `a contact named "${contact.name}" exists; mode upsert replaces it` })
      } else if (result === 'full') {
        fail(index, { name: contact.name, code: 'CONTACT_LIMIT_REACHED', message: contactBookFull(maxContacts).message })
      } else {
        results[index] = result
      }
    })
  }

  let written = true
  if (allOrNothing) {
    const passed = await derived(check(0, rows.length))
    written = errors.length === 0
    if (written) {
      const outcome = await store.writeBatch(user, passed.map((c) => c.contact), { mode, allOrNothing })
      written = outcome.written
      record(passed, outcome.outcomes)
    }
  } else {
    // A batch is checked and sent while the ones before it are being written; the store applies one
    // user's batches in the order they are asked for, so the rows are written in row order.
    const inFlight: Array<Promise<void>> = []
    for (let from = 0; from < rows.length; from += BATCH_ROWS) {
      const batch = await derived(check(from, Math.min(from + BATCH_ROWS, rows.length)))
      if (batch.length === 0) continue
      const done = store.writeBatch(user, batch.map((c) => c.contact), { mode, allOrNothing })
        .then((outcome) => { record(batch, outcome.outcomes) })
      // Awaited below, maybe after a later one failed: never an unhandled rejection meanwhile.
      done.catch(() => {})
      inFlight.push(done)
      if (inFlight.length >= BATCHES_IN_FLIGHT) await inFlight.shift()
    }
    await Promise.all(inFlight)
  }

  // Refused whole: only the failed rows are reported; the others were not written either.
  const ranges = rangesOf(rows, written ? results : results.map((result) => result === 'failed' ? result : undefined))
  errors.sort((a, b) => a.row - b.row)
  const counts = { rows: rows.length, created: 0, updated: 0, unchanged: 0, failed: 0 }
  for (const result of RESULTS) counts[result] = ranges[result].reduce((n, [first, last]) => n + last - first + 1, 0)
  return {
    written,
    counts,
    rows: ranges,
    errors: errors.slice(0, MAX_LISTED_ERRORS),
    ...(errors.length > MAX_LISTED_ERRORS && { errors_omitted: errors.length - MAX_LISTED_ERRORS })
  }
}
