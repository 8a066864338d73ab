/**
 * The contact book: what every store implementation (Redis, MongoDB) offers.
 * One contract test suite (test/helpers/contact-store-contract.ts) runs
 * against each implementation, so they cannot drift apart.
 */
import { MESSENGERS, type Messenger } from '../messengers/messenger.js'

/** A messenger id as the user gave it; absent when the contact has none there. */
export type ContactAddresses = Partial<Record<Messenger, string>>

export interface Contact extends ContactAddresses {
  name: string
  /** Labels to pick contacts by (a dispatch to a tag); absent when none. */
  tags?: string[]
  /** IANA time zone of the person, e.g. `Europe/Moscow`; absent when unknown. */
  timezone?: string
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

export interface ContactStore {
  /**
   * The legacy write: creates the contact, or replaces the messenger ids of the
   * one with that name (keeping its tags and time zone, which legacy clients
   * do not know of). Returns whether it was new.
   */
  upsert (user: string, contact: Contact): Promise<{ created: boolean }>
  /** Creates the contact; false (and nothing written) when the name is taken. */
  create (user: string, contact: Contact): Promise<boolean>
  get (user: string, name: string): Promise<Contact | undefined>
  /** Replaces the whole contact; false (and nothing written) when there is no contact of that name. */
  replace (user: string, contact: Contact): Promise<boolean>
  /** Applies a partial change; undefined when there is no contact of that name. */
  patch (user: string, name: string, changes: ContactPatch): Promise<Contact | undefined>
  /** Removes the contact; false when the user had no contact of that name. */
  remove (user: string, name: string): Promise<boolean>
  /** Every contact of the user, by name. */
  list (user: string): Promise<Contact[]>
  /**
   * One page of the book in name order (see `byName`), after the name `after`,
   * optionally only contacts matching `tags`. Keyset pagination: a contact that
   * exists for the whole walk is listed exactly once, whatever is added meanwhile.
   */
  page (user: string, options: { after?: string, limit: number, tags?: TagFilter }): Promise<ContactPage>
  /** The contacts among `names` that exist, each once (in no particular order). */
  findByNames (user: string, names: readonly string[]): Promise<Contact[]>
  /** Every contact matching the tag filter (both parts, when both are given), in no particular order. */
  findByTags (user: string, tags: TagFilter): Promise<Contact[]>
}

/** Drops empty ids, so that "" and absent mean the same everywhere ("no id on that messenger"). */
export function compactContact (contact: Contact): Contact {
  const out: Contact = { name: contact.name }
  for (const messenger of MESSENGERS) {
    const id = contact[messenger]
    if (id !== undefined && id !== '') out[messenger] = id
  }
  return out
}

/** The one order both stores list a book in (so their answers match to the byte). */
export function byName (a: Contact, b: Contact): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
