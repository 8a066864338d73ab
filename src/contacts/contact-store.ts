/**
 * The contact book: what every store implementation (Redis, MongoDB) offers.
 * One contract test suite (test/helpers/contact-store-contract.ts) runs
 * against each implementation, so they cannot drift apart.
 */
import { unprocessable } from '../errors.js'
import { MESSENGERS, type Messenger } from '../model/messenger.js'

/** A messenger id as the user gave it; absent when the contact has none there. */
export type ContactAddresses = Partial<Record<Messenger, string>>

export interface Contact extends ContactAddresses {
  name: string
  /** Labels to pick contacts by (a dispatch to a tag); absent when none. */
  tags?: string[]
  /** IANA time zone of the person, e.g. `Europe/Moscow`; absent when unknown. */
  timezone?: string
  /** Mobile operator code (src/contacts/operator.ts), e.g. `RU-Beeline`; absent when unknown. */
  operator?: string
}

/** A partial change: a field set to null is removed; tags, when given, replace the old ones. */
export type ContactPatch = {
  [K in Exclude<keyof Contact, 'name'>]?: Contact[K] | null
}

/** Which contacts a dispatch (or a listing) picks by tag. */
export interface TagFilter {
  /** Contacts with at least one of these tags. */
  any?: readonly string[]
  /** Contacts with every one of these tags. */
  all?: readonly string[]
}

export interface ContactPage {
  contacts: Contact[]
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string
}

export interface ContactStoreOptions {
  /** A book holds at most this many contacts (MAX_CONTACTS_PER_USER): a create past it is refused. */
  maxContacts: number
}

/** What a create (or a legacy upsert of a new name) into a full book throws: a 422 naming the limit. */
export function contactBookFull (maxContacts: number): Error {
  return unprocessable('CONTACT_LIMIT_REACHED', `the contact book is full: a user has at most ${maxContacts} contacts; delete some first`)
}

/**
 * How a batch treats a name the book has: `upsert` replaces that contact by
 * the one given (as PUT does: a field left out is removed), `create` leaves it
 * and reports it `taken`.
 */
export type BatchMode = 'upsert' | 'create'

/**
 * What became of one contact of a batch: `created`, `updated` (replaced by a
 * different one), `unchanged` (the book held the very same contact), or not
 * written: `taken` (mode `create`, the name is in the book) or `full` (a new
 * name, and the book is at its limit).
 */
export type BatchOutcome = 'created' | 'updated' | 'unchanged' | 'taken' | 'full'

export interface BatchOptions {
  mode: BatchMode
  /** When any contact would be `taken` or `full`, none is written (the outcomes say what would have become of each). */
  allOrNothing: boolean
}

export interface BatchResult {
  /** False only with `allOrNothing`, when a contact was `taken` or `full`: then nothing at all was written. */
  written: boolean
  /** One per contact, in the order given. */
  outcomes: BatchOutcome[]
}

/** What a batch may not hold: the same name twice (which of the two would the book keep?). */
export function checkDistinctNames (contacts: readonly Contact[]): void {
  const names = new Set(contacts.map((contact) => contact.name))
  if (names.size !== contacts.length) throw new Error('a batch of contacts names each contact once')
}

/** Whether two contacts are the same contact: the same fields once compacted, tags in the same order. */
export function sameContact (a: Contact, b: Contact): boolean {
  return JSON.stringify(compactContact(a)) === JSON.stringify(compactContact(b))
}

/** Outcomes that leave the contact unwritten. */
export function isRefused (outcome: BatchOutcome): boolean {
  return outcome === 'taken' || outcome === 'full'
}

export interface ContactStore {
  /**
   * The legacy write: creates the contact, or replaces the messenger ids of the
   * one with that name (keeping its tags and time zone, which legacy clients
   * do not know of). Returns whether it was new. A new name in a full book throws `contactBookFull`.
   */
  upsert (user: string, contact: Contact): Promise<{ created: boolean }>
  /** Creates the contact; false (and nothing written) when the name is taken; a full book throws `contactBookFull`. */
  create (user: string, contact: Contact): Promise<boolean>
  get (user: string, name: string): Promise<Contact | undefined>
  /** Replaces the whole contact; false (and nothing written) when there is no contact of that name. */
  replace (user: string, contact: Contact): Promise<boolean>
  /** Applies a partial change; undefined when there is no contact of that name. */
  patch (user: string, name: string, changes: ContactPatch): Promise<Contact | undefined>
  /** Removes the contact; false when the user had no contact of that name. */
  remove (user: string, name: string): Promise<boolean>
  /**
   * Writes many contacts in one step per store (an import's batch): each new
   * name is created while the book has room (in the order given), each known
   * one replaced or left (see `BatchMode`); the indexes change with them.
   * With `allOrNothing`, all are written or none. Names must be distinct (else
   * it throws, writing nothing). One process's calls for one user are applied
   * in the order they were made, however many are in flight.
   */
  writeBatch (user: string, contacts: readonly Contact[], options: BatchOptions): Promise<BatchResult>
  /** How many contacts the user's book holds. */
  count (user: string): Promise<number>
  /** Every contact of the user, by name. */
  list (user: string): Promise<Contact[]>
  /**
   * One page of the book in name order (see `byName`), after the name `after`,
   * optionally only contacts matching `tags` (an empty or absent part adds no
   * condition, as in findByTags; no tags at all is the whole book). Keyset
   * pagination: a contact that exists for the whole walk is listed exactly
   * once, whatever is added meanwhile.
   */
  page (user: string, options: { after?: string, limit: number, tags?: TagFilter }): Promise<ContactPage>
  /** The contacts among `names` that exist, each once (in no particular order). */
  findByNames (user: string, names: readonly string[]): Promise<Contact[]>
  /**
   * Every contact matching the tag filter (both parts, when both are given), in no particular order.
   * An empty or absent part adds no condition; a filter with no tags at all picks nobody (never the whole book).
   */
  findByTags (user: string, tags: TagFilter): Promise<Contact[]>
}

/** Tags as a store keeps them: each once, in the order first given, no ""; undefined when none are left. */
export function compactTags (tags: readonly string[] | null | undefined): string[] | undefined {
  if (tags == null) return undefined
  // A loop, not a Set: at most 32 tags, and an import compacts 100,000 lists.
  const kept: string[] = []
  for (const tag of tags) if (tag !== '' && !kept.includes(tag)) kept.push(tag)
  return kept.length > 0 ? kept : undefined
}

/**
 * The contact as a store keeps it: "" and absent mean the same everywhere (no
 * id on that messenger, no time zone), tags are compacted (an empty list is no
 * tags), and the fields come in one order (name, ids, tags, timezone, operator).
 */
export function compactContact (contact: Contact): Contact {
  const out: Contact = { name: contact.name }
  for (const messenger of MESSENGERS) {
    const id = contact[messenger]
    if (id !== undefined && id !== '') out[messenger] = id
  }
  const tags = compactTags(contact.tags)
  if (tags !== undefined) out.tags = tags
  if (contact.timezone !== undefined && contact.timezone !== '') out.timezone = contact.timezone
  if (contact.operator !== undefined && contact.operator !== '') out.operator = contact.operator
  return out
}

/** A patch as the stores apply it: the fields to set (compacted) and the fields to remove. */
export interface CompactPatch {
  set: Omit<Contact, 'name'>
  unset: Array<Exclude<keyof Contact, 'name'>>
}

/** Splits a patch; null, "" and an empty tag list all mean "remove the field". */
export function compactPatch (changes: ContactPatch): CompactPatch {
  const set: Omit<Contact, 'name'> = {}
  const unset: CompactPatch['unset'] = []
  for (const field of [...MESSENGERS, 'timezone', 'operator'] as const) {
    const value = changes[field]
    if (value === undefined) continue
    if (value === null || value === '') unset.push(field)
    else set[field] = value
  }
  if (changes.tags !== undefined) {
    const tags = compactTags(changes.tags)
    if (tags === undefined) unset.push('tags')
    else set.tags = tags
  }
  return { set, unset }
}

/** The tags a filter names, each once; an empty or absent part adds no condition. */
export function compactFilter (filter: TagFilter | undefined): { any: string[], all: string[] } {
  return { any: compactTags(filter?.any) ?? [], all: compactTags(filter?.all) ?? [] }
}

/**
 * The one order both stores list a book in (so their answers match to the
 * byte): UTF-8 byte order, which is what a Redis lex range and MongoDB's
 * default string comparison use, so a page cursor means the same in JS and in
 * the store. (It is code point order, not JS's UTF-16 `<`: they differ above U+FFFF.)
 */
export function byName (a: Contact, b: Contact): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))
}
