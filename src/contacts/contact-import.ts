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
import type { FileRow } from './contact-files.js'
import { contactBookFull, type BatchMode, type Contact, type ContactStore } from './contact-store.js'

/** Contacts per store call. */
export const BATCH_ROWS = 1000
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

type Checked = { contact: Contact } | { error: Omit<RowError, 'row' | 'name'> }

/** A row's value as a contact, checked as POST /v1/contacts checks its body. */
function checkRow (value: unknown): Checked {
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
  const checked: Array<{ index: number, contact: Contact }> = []
  rows.forEach((row, i) => {
    if ('fault' in row) {
      fail(i, row.fault)
      return
    }
    const name = nameOf(row.value)
    const named = name === undefined ? {} : { name }
    if (name !== undefined) {
      const first = firstRowOf.get(name)
      if (first !== undefined) {
        fail(i, { ...named, code: 'DUPLICATE_NAME', field: 'name', message: `"${name}" is in row ${first} too; a name may be in one row only` })
        return
      }
      firstRowOf.set(name, row.row)
    }
    const result = checkRow(row.value)
    if ('error' in result) fail(i, { ...named, ...result.error })
    else checked.push({ index: i, contact: result.contact })
  })

  let written = !(allOrNothing && errors.length > 0)
  if (written) {
    const size = allOrNothing ? Math.max(checked.length, 1) : BATCH_ROWS
    for (let start = 0; start < checked.length; start += size) {
      const batch = checked.slice(start, start + size)
      const outcome = await store.writeBatch(user, batch.map((c) => c.contact), { mode, allOrNothing })
      written = outcome.written
      outcome.outcomes.forEach((result, k) => {
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
