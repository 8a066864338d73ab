import { notFound } from '../../errors.js'

/**
 * The record, if it is the user's: another user's id answers exactly like one
 * that does not exist (a 404 naming `what`), so ids reveal nothing.
 */
export function ownedBy<T extends { user: string }> (user: string, record: T | undefined, what: string): T {
  if (record === undefined || record.user !== user) throw notFound(`no ${what}`)
  return record
}
