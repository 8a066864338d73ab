/**
 * Contacts in Redis (the default: the service then needs nothing but Redis).
 * One hash per user, field = contact name, value = the contact's ids as JSON,
 * so replacing a contact is one HSET and reading a book is one HGETALL.
 */
import type { Redis } from 'ioredis'
import type { RedisKeys } from '../redis-keys.js'
import { byName, compactContact, type Contact, type ContactAddresses, type ContactStore } from './contact-store.js'

export function createRedisContactStore (redis: Redis, keys: RedisKeys): ContactStore {
  const toContact = (name: string, json: string): Contact => ({ ...JSON.parse(json) as ContactAddresses, name })
  const toJson = (contact: Contact): string => {
    const { name: _name, ...addresses } = compactContact(contact)
    return JSON.stringify(addresses)
  }

  return {
    async upsert (user, contact) {
      const added = await redis.hset(keys.contacts(user), contact.name, toJson(contact))
      return { created: added === 1 }
    },

    async remove (user, name) {
      return await redis.hdel(keys.contacts(user), name) === 1
    },

    async list (user) {
      const book = await redis.hgetall(keys.contacts(user))
      return Object.entries(book)
        .map(([name, json]) => toContact(name, json))
        .sort(byName)
    },

    async findByNames (user, names) {
      const unique = [...new Set(names)]
      if (unique.length === 0) return []
      const values = await redis.hmget(keys.contacts(user), ...unique)
      const found: Contact[] = []
      unique.forEach((name, i) => {
        const json = values[i]
        if (json != null) found.push(toContact(name, json))
      })
      return found
    }
  }
}
