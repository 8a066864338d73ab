/**
 * Contacts in MongoDB (when MONGODB_URL is set): one document per contact,
 * unique on (user, name), so a book is one indexed query.
 */
import type { Collection, Db } from 'mongodb'
import { byName, compactContact, type Contact, type ContactStore } from './contact-store.js'

interface ContactDocument {
  user: string
  name: string
  telegram?: string
  whatsapp?: string
  viber?: string
}

const DUPLICATE_KEY = 11000

function toContact ({ name, telegram, whatsapp, viber }: ContactDocument): Contact {
  return compactContact({ name, telegram, whatsapp, viber })
}

/** Creates the collection's unique index (idempotent) and returns the store. */
export async function createMongoContactStore (db: Db, collectionName: string): Promise<ContactStore> {
  const collection: Collection<ContactDocument> = db.collection<ContactDocument>(collectionName)
  await collection.createIndex({ user: 1, name: 1 }, { unique: true, name: 'user_name_unique' })
  const projection = { _id: 0, user: 1, name: 1, telegram: 1, whatsapp: 1, viber: 1 } as const

  async function replace (user: string, contact: Contact) {
    return await collection.replaceOne({ user, name: contact.name }, { user, ...compactContact(contact) }, { upsert: true })
  }

  return {
    async upsert (user, contact) {
      try {
        return { created: (await replace(user, contact)).upsertedCount === 1 }
      } catch (err) {
        // Two upserts of a new name racing: the loser hits the unique index and replaces instead.
        if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err
        return { created: (await replace(user, contact)).upsertedCount === 1 }
      }
    },

    async remove (user, name) {
      return (await collection.deleteOne({ user, name })).deletedCount === 1
    },

    async list (user) {
      const docs = await collection.find({ user }, { projection }).toArray()
      return docs.map(toContact).sort(byName)
    },

    async findByNames (user, names) {
      if (names.length === 0) return []
      const docs = await collection.find({ user, name: { $in: [...names] } }, { projection }).toArray()
      return docs.map(toContact)
    }
  }
}
