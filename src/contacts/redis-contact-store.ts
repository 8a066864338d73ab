/**
 * Contacts in Redis (the default: the service then needs nothing but Redis).
 * Per user (keys in src/redis-keys.ts): a hash of name -> JSON of the other
 * fields ({telegram?, whatsapp?, viber?, tags?, timezone?}), a zset of every
 * name (score 0: a lex range is a keyset page in byte = byName order) and a
 * zset per tag of the names having it.
 *
 * The hash is the truth; the zsets are indexes of it. Every write is one Lua
 * script that reads the stored contacts and changes the hash and every index
 * together: lua/write-2.lua for one contact, lua/write-batch-2.lua for many.
 */
import type { RedisClient } from '../redis-connection.js'
import type { RedisKeys } from '../redis-keys.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { MESSENGERS } from '../model/messenger.js'
import { sourcePath } from '../source-path.js'
import {
  byName, checkDistinctNames, compactContact, compactFilter, compactPatch, compactTags,
  contactBookFull, type BatchOutcome, type Contact, type ContactStore, type ContactStoreOptions
} from './contact-store.js'

/** Names per HMGET when reading many contacts. */
const NAMES_PER_READ = 1000

type WriteOp = 'create' | 'replace' | 'upsert' | 'patch' | 'remove'
type WriteResult = [0] | [1] | [3] | [1 | 2, string]

/** The letters of write-batch-2.lua's outcomes. */
const OUTCOMES: Record<string, BatchOutcome> = { c: 'created', u: 'updated', '=': 'unchanged', t: 'taken', f: 'full' }

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'contact')

/** The commands (keys first, then arguments; see each script's header). */
type ScriptedRedis = RedisClient & {
  contactWrite (hash: string, names: string, prefix: string, user: string, op: WriteOp, name: string, payload: string, maxContacts: number): Promise<WriteResult>
  /** One array (ioredis flattens it): a batch has more arguments than a call can spread. */
  contactWriteBatch (keysAndArgs: Array<string | number>): Promise<[0 | 1, string]>
  contactPage (numKeys: number, ...keysAndArgs: Array<string | number>): Promise<string>
  contactFindByTags (numKeys: number, ...keysAndArgs: Array<string | number>): Promise<string>
}

type Stored = Omit<Contact, 'name'>

/** A stored value, parsed, back into a contact; a value from before tags and time zones existed reads as ids only. */
function fromStored (name: string, { telegram, whatsapp, viber, tags, timezone, operator }: Stored): Contact {
  // An empty Lua table encodes as `{}`, not `[]`: only an array is a list of tags.
  return compactContact({ name, telegram, whatsapp, viber, tags: Array.isArray(tags) ? tags : undefined, timezone, operator })
}

function toContact (name: string, json: string): Contact {
  return fromStored(name, JSON.parse(json) as Stored)
}

/** What the hash stores of a contact: its other fields, compacted, in compactContact's order. */
function storedOf (contact: Contact): Stored {
  const stored: Stored = {}
  for (const messenger of MESSENGERS) {
    const id = contact[messenger]
    if (id !== undefined && id !== '') stored[messenger] = id
  }
  const tags = compactTags(contact.tags)
  if (tags !== undefined) stored.tags = tags
  if (contact.timezone !== undefined && contact.timezone !== '') stored.timezone = contact.timezone
  if (contact.operator !== undefined && contact.operator !== '') stored.operator = contact.operator
  return stored
}

function toJson (contact: Contact): string {
  return JSON.stringify(storedOf(contact))
}

/** A script's read() into contacts. */
function toContacts (json: string): Contact[] {
  return (JSON.parse(json) as Array<[string, Stored]>).map(([name, stored]) => fromStored(name, stored))
}

export function createRedisContactStore (redis: RedisClient, keys: RedisKeys, { maxContacts }: ContactStoreOptions): ContactStore {
  defineScripts(redis, SCRIPTS)
  const scripted = redis as ScriptedRedis

  async function write (user: string, op: WriteOp, name: string, payload: string): Promise<WriteResult> {
    const result = await scripted.contactWrite(keys.contacts(user), keys.contactNames(user), keys.prefix, user, op, name, payload, maxContacts)
    if (result[0] === 3) throw contactBookFull(maxContacts)
    return result
  }

  return {
    async upsert (user, contact) {
      const { name, telegram, whatsapp, viber } = contact
      const [status] = await write(user, 'upsert', name, toJson({ name, telegram, whatsapp, viber }))
      return { created: status === 2 }
    },

    async create (user, contact) {
      const [status] = await write(user, 'create', contact.name, toJson(contact))
      return status === 2
    },

    async get (user, name) {
      const json = await redis.hget(keys.contacts(user), name)
      return json === null ? undefined : toContact(name, json)
    },

    async replace (user, contact) {
      const [status] = await write(user, 'replace', contact.name, toJson(contact))
      return status !== 0
    },

    async patch (user, name, changes) {
      const result = await write(user, 'patch', name, JSON.stringify(compactPatch(changes)))
      return result[0] === 0 ? undefined : toContact(name, result[1] ?? '{}')
    },

    async remove (user, name) {
      const [status] = await write(user, 'remove', name, '')
      return status === 1
    },

    async writeBatch (user, contacts, { mode, allOrNothing }) {
      checkDistinctNames(contacts)
      if (contacts.length === 0) return { written: true, outcomes: [] }
      const args: Array<string | number> = [keys.contacts(user), keys.contactNames(user), keys.prefix, user, mode, allOrNothing ? 1 : 0, maxContacts]
      for (const contact of contacts) {
        const stored = storedOf(contact)
        args.push(contact.name, JSON.stringify(stored), stored.tags?.join(',') ?? '')
      }
      const [written, letters] = await scripted.contactWriteBatch(args)
      return { written: written === 1, outcomes: [...letters].map((letter) => OUTCOMES[letter]!) }
    },

    async count (user) {
      return await redis.hlen(keys.contacts(user))
    },

    async list (user) {
      const book = await redis.hgetall(keys.contacts(user))
      return Object.entries(book)
        .map(([name, json]) => toContact(name, json))
        .sort(byName)
    },

    async page (user, { after, limit, tags }) {
      const filter = compactFilter(tags)
      const tagKeys = [...filter.any, ...filter.all].map((tag) => keys.contactTag(user, tag))
      const json = await scripted.contactPage(
        2 + tagKeys.length, keys.contacts(user), keys.contactNames(user), ...tagKeys,
        after === undefined ? '-' : `(${after}`, limit + 1, filter.any.length
      )
      const contacts = toContacts(json)
      if (contacts.length <= limit) return { contacts }
      const shown = contacts.slice(0, limit)
      return { contacts: shown, next: shown[shown.length - 1]?.name }
    },

    async findByNames (user, names) {
      const unique = [...new Set(names)]
      if (unique.length === 0) return []
      // A slice per HMGET: a dispatch may name 100,000 contacts, more arguments than one call can spread.
      const slices: string[][] = []
      for (let i = 0; i < unique.length; i += NAMES_PER_READ) slices.push(unique.slice(i, i + NAMES_PER_READ))
      const values = (await Promise.all(slices.map(async (slice) => await redis.hmget(keys.contacts(user), ...slice)))).flat()
      const found: Contact[] = []
      unique.forEach((name, i) => {
        const json = values[i]
        if (json != null) found.push(toContact(name, json))
      })
      return found
    },

    async findByTags (user, tags) {
      const filter = compactFilter(tags)
      if (filter.any.length === 0 && filter.all.length === 0) return []
      const tagKeys = [...filter.any, ...filter.all].map((tag) => keys.contactTag(user, tag))
      return toContacts(await scripted.contactFindByTags(1 + tagKeys.length, keys.contacts(user), ...tagKeys, filter.any.length))
    }
  }
}
