/**
 * Contacts in MongoDB (when MONGODB_URL is set): one document per contact,
 * unique on (user, name), so a book is one indexed query; (user, tags) picks
 * contacts by tag. Names compare as MongoDB compares strings without a
 * collation (UTF-8 bytes), the order of `byName` and of the Redis store.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type Filter, type UpdateFilter } from 'mongodb'
import {
  byName, checkDistinctNames, compactContact, compactFilter, compactPatch, contactBookFull, isRefused, sameContact,
  type BatchOptions, type BatchOutcome, type BatchResult, type Contact, type ContactStore, type ContactStoreOptions, type TagFilter
} from './contact-store.js'
import { MESSENGERS } from '../model/messenger.js'

interface ContactDocument {
  user: string
  name: string
  telegram?: string
  whatsapp?: string
  viber?: string
  tags?: string[]
  timezone?: string
  operator?: string
}

const DUPLICATE_KEY = 11000
/** Names per `$in` when reading many contacts. */
const NAMES_PER_READ = 1000

function isDuplicateKey (err: unknown): boolean {
  return (err as { code?: number }).code === DUPLICATE_KEY
}

function toContact ({ name, telegram, whatsapp, viber, tags, timezone, operator }: ContactDocument): Contact {
  return compactContact({ name, telegram, whatsapp, viber, tags, timezone, operator })
}

/** The document of a contact: absent fields are absent (never null, never "", never `tags: []`). */
function toDocument (user: string, contact: Contact): ContactDocument {
  return { user, ...compactContact(contact) }
}

/** The query part of a tag filter; undefined when it has no condition. */
function tagQuery (tags: TagFilter | undefined): Filter<ContactDocument>['tags'] | undefined {
  const { any, all } = compactFilter(tags)
  if (any.length === 0 && all.length === 0) return undefined
  return { ...(any.length > 0 && { $in: any }), ...(all.length > 0 && { $all: all }) }
}

/** Creates the collection's indexes (idempotent) and returns the store. */
export async function createMongoContactStore (db: Db, collectionName: string, { maxContacts }: ContactStoreOptions): Promise<ContactStore> {
  const collection: Collection<ContactDocument> = db.collection<ContactDocument>(collectionName)
  await collection.createIndex({ user: 1, name: 1 }, { unique: true, name: 'user_name_unique' })
  await collection.createIndex({ user: 1, tags: 1 }, { name: 'user_tags' })
  const projection = { _id: 0, user: 1, name: 1, telegram: 1, whatsapp: 1, viber: 1, tags: 1, timezone: 1, operator: 1 } as const

  /**
   * Throws `contactBookFull` when the book has no room for `name` (an existing name always has room).
   * A count then a write, not one atomic step as in Redis: writers racing at the limit may pass it by a few.
   */
  async function checkRoom (user: string, name: string): Promise<void> {
    if (await collection.countDocuments({ user }, { limit: maxContacts }) < maxContacts) return
    if (await collection.countDocuments({ user, name }, { limit: 1 }) === 0) throw contactBookFull(maxContacts)
  }

  /** The legacy write: the ids are set or unset, tags, timezone and operator are left as they are. */
  async function upsertIds (user: string, contact: Contact) {
    const ids = compactContact({ name: contact.name, telegram: contact.telegram, whatsapp: contact.whatsapp, viber: contact.viber })
    const $set: Partial<ContactDocument> = {}
    const $unset: Partial<Record<keyof ContactDocument, ''>> = {}
    for (const messenger of MESSENGERS) {
      const id = ids[messenger]
      if (id === undefined) $unset[messenger] = ''
      else $set[messenger] = id
    }
    // Every messenger is in one of the two, so the update is never empty.
    const update: UpdateFilter<ContactDocument> = {
      ...(Object.keys($set).length > 0 && { $set }),
      ...(Object.keys($unset).length > 0 && { $unset })
    }
    return await collection.updateOne({ user, name: contact.name }, update, { upsert: true })
  }

  /** The stored contacts among `names`, by name. */
  async function storedAmong (user: string, names: readonly string[]): Promise<Map<string, Contact>> {
    const stored = new Map<string, Contact>()
    for (let i = 0; i < names.length; i += NAMES_PER_READ) {
      const docs = await collection.find({ user, name: { $in: names.slice(i, i + NAMES_PER_READ) } }, { projection }).toArray()
      for (const doc of docs) stored.set(doc.name, toContact(doc))
    }
    return stored
  }

  /** The batches still running, per user: the next one waits for them (ContactStore.writeBatch keeps the order of calls). */
  const batchesOf = new Map<string, Promise<unknown>>()
  function inTurn<T> (user: string, work: () => Promise<T>): Promise<T> {
    const result = (batchesOf.get(user) ?? Promise.resolve()).then(work)
    const settled = result.then(() => {}, () => {})
    batchesOf.set(user, settled)
    void settled.then(() => { if (batchesOf.get(user) === settled) batchesOf.delete(user) })
    return result
  }

  /** The indexes of the operations the unique index refused: a writer racing the batch made that name first. */
  function refusedByUniqueIndex (err: unknown): number[] | undefined {
    if (!(err instanceof MongoBulkWriteError)) return undefined
    const errors = [err.writeErrors].flat()
    return errors.every((e) => e.code === DUPLICATE_KEY) ? errors.map((e) => e.index) : undefined
  }

  /**
   * Reads the stored contacts of the batch and the book's size, decides each
   * outcome, then writes in one unordered bulkWrite. Not one atomic step as
   * in Redis: a writer racing the batch may make one of its new names first
   * (that contact is then `taken` in mode create, and in mode upsert the
   * replace is run again), and racing writers at the limit may pass it by a
   * few, as `create` may. With all or nothing, a race that refuses a contact
   * after the check takes back what the batch inserted.
   */
  async function writeBatchNow (user: string, contacts: readonly Contact[], { mode, allOrNothing }: BatchOptions): Promise<BatchResult> {
    if (contacts.length === 0) return { written: true, outcomes: [] }
    const stored = await storedAmong(user, contacts.map((contact) => contact.name))
    let size = await collection.countDocuments({ user })
    const outcomes = contacts.map((contact): BatchOutcome => {
      const old = stored.get(contact.name)
      if (old !== undefined) return mode === 'create' ? 'taken' : sameContact(old, contact) ? 'unchanged' : 'updated'
      if (size >= maxContacts) return 'full'
      size++
      return 'created'
    })
    if (allOrNothing && outcomes.some(isRefused)) return { written: false, outcomes }

    const written: number[] = []
    const operations: Array<AnyBulkWriteOperation<ContactDocument>> = []
    contacts.forEach((contact, i) => {
      const outcome = outcomes[i]
      if (outcome !== 'created' && outcome !== 'updated') return
      written.push(i)
      const document = toDocument(user, contact)
      operations.push(mode === 'create'
        ? { insertOne: { document } }
        : { replaceOne: { filter: { user, name: contact.name }, replacement: document, upsert: true } })
    })
    if (operations.length === 0) return { written: true, outcomes }
    try {
      await collection.bulkWrite(operations, { ordered: false })
    } catch (err) {
      const refused = refusedByUniqueIndex(err)
      if (refused === undefined) throw err
      if (mode === 'upsert') {
        // Two upserts of one new name racing: the loser's replace finds the winner's document the second time.
        await collection.bulkWrite(refused.map((index) => operations[index]!), { ordered: false })
      } else {
        for (const index of refused) outcomes[written[index]!] = 'taken'
        if (allOrNothing) {
          const inserted = written.filter((_, index) => !refused.includes(index)).map((i) => contacts[i]!.name)
          await collection.deleteMany({ user, name: { $in: inserted } })
          return { written: false, outcomes }
        }
      }
    }
    return { written: true, outcomes }
  }

  return {
    async upsert (user, contact) {
      await checkRoom(user, contact.name)
      try {
        return { created: (await upsertIds(user, contact)).upsertedCount === 1 }
      } catch (err) {
        // Two upserts of a new name racing: the loser hits the unique index and updates instead.
        if (!isDuplicateKey(err)) throw err
        return { created: (await upsertIds(user, contact)).upsertedCount === 1 }
      }
    },

    async create (user, contact) {
      await checkRoom(user, contact.name)
      try {
        await collection.insertOne(toDocument(user, contact))
        return true
      } catch (err) {
        if (isDuplicateKey(err)) return false
        throw err
      }
    },

    /** One batch at a time per user, in the order asked (see writeBatchNow). */
    async writeBatch (user, contacts, options) {
      checkDistinctNames(contacts)
      return await inTurn(user, async () => await writeBatchNow(user, contacts, options))
    },

    async count (user) {
      return await collection.countDocuments({ user })
    },

    async get (user, name) {
      const doc = await collection.findOne({ user, name }, { projection })
      return doc === null ? undefined : toContact(doc)
    },

    async replace (user, contact) {
      return (await collection.replaceOne({ user, name: contact.name }, toDocument(user, contact))).matchedCount === 1
    },

    async patch (user, name, changes) {
      const { set, unset } = compactPatch(changes)
      const update: UpdateFilter<ContactDocument> = {
        ...(Object.keys(set).length > 0 && { $set: set }),
        ...(unset.length > 0 && { $unset: Object.fromEntries(unset.map((field) => [field, ''])) })
      }
      // Nothing to change: an empty update is an error to MongoDB, and the answer is the contact as it is.
      const doc = Object.keys(update).length === 0
        ? await collection.findOne({ user, name }, { projection })
        : await collection.findOneAndUpdate({ user, name }, update, { projection, returnDocument: 'after' })
      return doc === null ? undefined : toContact(doc)
    },

    async remove (user, name) {
      return (await collection.deleteOne({ user, name })).deletedCount === 1
    },

    async list (user) {
      const docs = await collection.find({ user }, { projection }).toArray()
      return docs.map(toContact).sort(byName)
    },

    async page (user, { after, limit, tags }) {
      const tagged = tagQuery(tags)
      const filter: Filter<ContactDocument> = {
        user,
        ...(after !== undefined && { name: { $gt: after } }),
        ...(tagged !== undefined && { tags: tagged })
      }
      const docs = await collection.find(filter, { projection }).sort({ name: 1 }).limit(limit + 1).toArray()
      const contacts = docs.map(toContact)
      if (contacts.length <= limit) return { contacts }
      const shown = contacts.slice(0, limit)
      return { contacts: shown, next: shown[shown.length - 1]?.name }
    },

    async findByNames (user, names) {
      if (names.length === 0) return []
      const docs = await collection.find({ user, name: { $in: [...names] } }, { projection }).toArray()
      return docs.map(toContact)
    },

    async findByTags (user, tags) {
      const tagged = tagQuery(tags)
      if (tagged === undefined) return []
      const docs = await collection.find({ user, tags: tagged }, { projection }).toArray()
      return docs.map(toContact)
    }
  }
}
