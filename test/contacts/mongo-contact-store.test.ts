/**
 * The contact store contract (test/helpers/contact-store-contract.ts) against
 * the MongoDB store, when MONGODB_URL names a MongoDB to test against: every
 * subtest on its own collection, dropped when it ends. Without MONGODB_URL the
 * whole file is reported as skipped, with the reason.
 */
import t from 'tap'
import { MongoClient } from 'mongodb'
import { createMongoContactStore } from '../../src/contacts/mongo-contact-store.js'
import { loadConfig } from '../../src/config.js'
import { contactStoreContract } from '../helpers/contact-store-contract.js'
import { freshPrefix } from '../helpers/redis.js'

const MONGODB_URL = process.env.MONGODB_URL ?? ''
const TITLE = 'the contact store contract against MongoDB'

if (MONGODB_URL === '') {
  t.test(TITLE, { skip: 'MONGODB_URL is not set: no MongoDB to run the contact store contract against' }, () => {})
} else {
  t.test(TITLE, async (t) => {
    // The database the app would choose for this URL, from the app's own configuration.
    const database = loadConfig({ MONGODB_URL }).mongodb?.database
    const client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 })
    t.teardown(async () => { await client.close() })
    await client.connect()
    const db = client.db(database)

    contactStoreContract(t, async (t, options = { maxContacts: 100_000 }) => {
      const collectionName = `${freshPrefix()}_contacts`
      t.teardown(async () => { await db.collection(collectionName).drop() })
      return await createMongoContactStore(db, collectionName, options)
    })
  })
}
