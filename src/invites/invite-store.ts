/**
 * Invite tokens and the connections they made. A token is 24 random bytes,
 * base64url (32 characters of A-Z a-z 0-9 _ -, what Telegram's /start payload
 * allows), one per messenger of an invite; Redis keeps only its SHA-256, so a
 * copy of the data holds no usable link. It expires with the invite
 * (INVITE_TTL_SECONDS) and is taken by its one use with GETDEL on its own key:
 * atomic, and on a Redis Cluster it needs no other key, since the token's key
 * and the user's records are in different slots (src/redis-keys.ts).
 *
 * Each contact's open tokens are listed in its user's slot, so that deleting
 * the contact deletes them too, and its connections (newest first, the last
 * MAX_CONNECTIONS) are kept there as well: they are the contact's history,
 * whichever contact store (Redis or MongoDB) holds the contact itself.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Messenger } from '../model/messenger.js'
import type { RedisClient } from '../redis-connection.js'
import type { RedisKeys } from '../redis-keys.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { sourcePath } from '../source-path.js'

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'invite')

type ScriptedRedis = RedisClient & {
  inviteEvent (endpoints: string, stream: string, type: string, id: string, at: number, data: string): Promise<number>
}

/** A token as invites carry it: what a link may hold. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/
/** The connections kept per contact. */
export const MAX_CONNECTIONS = 50

/** One connection of a contact's address, made by invite. */
export interface Connection {
  messenger: Messenger
  /** The address connected. */
  id: string
  /** The address it replaced, when the contact had another one there. */
  previousId?: string
  /** Epoch ms. */
  at: number
  via: 'invite'
}

export interface IssuedInvite {
  /** The token of each messenger asked for. */
  tokens: Partial<Record<Messenger, string>>
  /** Epoch ms. */
  expiresAt: number
}

export interface InviteStore {
  /** New tokens, one per messenger, for the user's contact, usable once each for `ttlSeconds`. */
  issue (user: string, contact: string, messengers: readonly Messenger[], ttlSeconds: number, now?: number): Promise<IssuedInvite>
  /** Takes a token (it cannot be used again): whose contact it was for, or undefined (never issued, used, expired, another messenger's). */
  take (messenger: Messenger, token: string): Promise<{ user: string, contact: string } | undefined>
  /** Adds a connection to the contact's history. */
  addConnection (user: string, contact: string, connection: Connection): Promise<void>
  /** The contact's connections, newest first. */
  connections (user: string, contact: string): Promise<Connection[]>
  /** The contact is deleted: its open tokens and its history go too. */
  forgetContact (user: string, contact: string): Promise<void>
  /** Appends an event about a contact to the user's status webhook stream, if the user has an endpoint. */
  recordEvent (user: string, type: string, contact: string, at: number, data: unknown): Promise<boolean>
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex')

export function newToken (): string {
  return randomBytes(24).toString('base64url')
}

export function createInviteStore (redis: RedisClient, keys: RedisKeys): InviteStore {
  defineScripts(redis, SCRIPTS)
  const scripted = redis as ScriptedRedis
  return {
    async issue (user, contact, messengers, ttlSeconds, now = Date.now()) {
      const tokens: Partial<Record<Messenger, string>> = {}
      for (const messenger of messengers) tokens[messenger] = newToken()
      const entries = Object.entries(tokens) as Array<[Messenger, string]>
      const listed = keys.contactInvites(user, contact)
      // The contact's list first: a token never exists that deleting the contact would miss.
      if (entries.length > 0) {
        await redis.multi()
          .sadd(listed, ...entries.map(([messenger, token]) => `${messenger}:${hashOf(token)}`))
          .expire(listed, ttlSeconds)
          .exec()
      }
      const record = JSON.stringify({ user, contact, at: now })
      await Promise.all(entries.map(async ([messenger, token]) => {
        await redis.set(keys.invite(messenger, hashOf(token)), record, 'EX', ttlSeconds)
      }))
      return { tokens, expiresAt: now + ttlSeconds * 1000 }
    },

    async take (messenger, token) {
      if (!TOKEN_PATTERN.test(token)) return undefined
      const hash = hashOf(token)
      const raw = await redis.getdel(keys.invite(messenger, hash))
      if (raw === null) return undefined
      const { user, contact } = JSON.parse(raw) as { user: string, contact: string }
      await redis.srem(keys.contactInvites(user, contact), `${messenger}:${hash}`)
      return { user, contact }
    },

    async addConnection (user, contact, connection) {
      const key = keys.contactConnections(user, contact)
      await redis.multi().lpush(key, JSON.stringify(connection)).ltrim(key, 0, MAX_CONNECTIONS - 1).exec()
    },

    async connections (user, contact) {
      const raw = await redis.lrange(keys.contactConnections(user, contact), 0, -1)
      return raw.map((entry) => JSON.parse(entry) as Connection)
    },

    async forgetContact (user, contact) {
      const listed = keys.contactInvites(user, contact)
      const open = await redis.smembers(listed)
      // One key at a time: each token's key is in a slot of its own.
      await Promise.all(open.map(async (member) => {
        const [messenger = '', hash = ''] = member.split(':')
        await redis.del(keys.invite(messenger, hash))
      }))
      await redis.del(listed, keys.contactConnections(user, contact))
    },

    async recordEvent (user, type, contact, at, data) {
      const recorded = await scripted.inviteEvent(keys.webhookEndpoints(user), keys.webhookEvents(user), type, contact, at, JSON.stringify(data))
      return recorded === 1
    }
  }
}
