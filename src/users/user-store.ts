/**
 * Users and their API keys, in Redis (keys in src/redis-keys.ts): a record
 * per user, an index of user names, per user an index of its key ids in the
 * order they were made, and a record per key (user, SHA-256 of the secret,
 * created_at, label?, revoked_at?).
 *
 * A key is `fo_<id>_<secret>`: the id (16 hex digits) finds its record in one
 * read, the secret (32 random bytes, base64url) is never stored, only its
 * hash. A fast hash is enough: the secret is random and long, so there is
 * nothing to guess a word at a time (a slow hash protects passwords people
 * choose). The hashes are compared in constant time.
 *
 * Every write is one Lua script (lua/), so a user and their first key appear
 * together, a rotation revokes and issues in one step, and the limit on
 * active keys holds under concurrent requests.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { RedisClient } from '../redis-connection.js'
import { slotOfId, slotOfUser, type RedisKeys } from '../redis-keys.js'
import { defineScripts, loadScripts } from '../redis-scripts.js'
import { sourcePath } from '../source-path.js'

/** Active (unrevoked) keys a user may hold at once; each creation past it is refused. */
export const MAX_ACTIVE_KEYS = 20

export interface KeyInfo {
  id: string
  label?: string
  createdAt: number
  revokedAt?: number
}

/** A key as issued: the only time its secret is known to anyone but its holder. */
export interface IssuedKey extends KeyInfo {
  key: string
}

export interface UserInfo {
  name: string
  createdAt: number
  /** Every key of the user, revoked ones too, oldest first. */
  keys: KeyInfo[]
}

/** Why a key write did nothing. */
export type KeyRefusal = 'no-user' | 'no-key' | 'revoked' | 'too-many-keys'

export interface UserStore {
  /** Creates the user with a first key; undefined when the name is taken. */
  create (name: string, label?: string): Promise<{ user: UserInfo, key: IssuedKey } | undefined>
  get (name: string): Promise<UserInfo | undefined>
  /** Users in name order (byte order), after `after`. */
  page (options: { after?: string, limit: number }): Promise<{ users: UserInfo[], next?: string }>
  keys (user: string): Promise<KeyInfo[]>
  issue (user: string, label?: string): Promise<IssuedKey | KeyRefusal>
  /** Revokes the key (at once: the next request with it is refused); revoking twice keeps the first time. */
  revoke (user: string, keyId: string): Promise<KeyInfo | 'no-key'>
  /** Issues a new key with the old one's label and revokes the old one, in one step. */
  rotate (user: string, keyId: string): Promise<IssuedKey | KeyRefusal>
  /** The user and key id a key string belongs to; undefined for anything else (unknown, revoked, malformed). */
  verify (key: string): Promise<{ user: string, keyId: string } | undefined>
}

const KEY_PATTERN = /^fo_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

export function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** A new key for `user`: its id ends with the user's slot, so its record is found in the user's slot from the id alone. */
function newKey (user: string): { id: string, key: string, hash: string } {
  const id = randomBytes(6).toString('hex') + slotOfUser(user)
  const secret = randomBytes(32).toString('base64url')
  return { id, key: `fo_${id}_${secret}`, hash: sha256(secret).toString('hex') }
}

const SCRIPTS = loadScripts(sourcePath(import.meta.url, 'lua'), 'user', {
  'key-limits': `local MAX_ACTIVE_KEYS = ${MAX_ACTIVE_KEYS}`
})

/** The commands (keys first, then arguments; see each script's header). */
type ScriptedRedis = RedisClient & {
  userCreate (...args: Array<string | number>): Promise<0 | 1>
  userKeyWrite (...args: Array<string | number>): Promise<[string, string]>
}

function keyInfo (id: string, record: Record<string, string>): KeyInfo {
  return {
    id,
    ...(record.label !== undefined && { label: record.label }),
    createdAt: Number(record.created_at),
    ...(record.revoked_at !== undefined && { revokedAt: Number(record.revoked_at) })
  }
}

export function createUserStore (redis: RedisClient, keys: RedisKeys): UserStore {
  defineScripts(redis, SCRIPTS)
  const scripted = redis as ScriptedRedis
  const { prefix } = keys
  /** The keys every user script names: the user's record and key index. */
  const scriptKeys = (user: string) => [keys.user(user), keys.userKeys(user)]

  async function keyRecords (user: string): Promise<KeyInfo[]> {
    const ids = await redis.zrange(keys.userKeys(user), '0', '-1')
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.hgetall(keys.apiKey(id))
    const records = (await pipeline.exec()) ?? []
    return ids.map((id, i) => keyInfo(id, records[i]?.[1] as Record<string, string>))
  }

  async function get (name: string): Promise<UserInfo | undefined> {
    const [createdAt, userKeys] = await Promise.all([redis.hget(keys.user(name), 'created_at'), keyRecords(name)])
    return createdAt === null ? undefined : { name, createdAt: Number(createdAt), keys: userKeys }
  }

  /**
   * A key id outside the user's slot is another user's (ids end with their user's slot): refused here, since
   * the key script may touch only the user's slot (Redis Cluster).
   */
  async function notTheirs (user: string, keyId: string): Promise<KeyRefusal | undefined> {
    if (slotOfId(keyId) === slotOfUser(user)) return undefined
    return await redis.exists(keys.user(user)) === 1 ? 'no-key' : 'no-user'
  }

  /** Issues a new key (op `issue`) or replaces `oldId` with one (op `rotate`), in the key script. */
  async function issueKey (user: string, op: 'issue' | 'rotate', oldId: string, label = ''): Promise<IssuedKey | KeyRefusal> {
    const refused = op === 'rotate' ? await notTheirs(user, oldId) : undefined
    if (refused !== undefined) return refused
    const now = Date.now()
    const fresh = newKey(user)
    const [status, kept] = await scripted.userKeyWrite(...scriptKeys(user), prefix, user, now, op, oldId, fresh.id, fresh.hash, label)
    if (status !== 'ok') return status as KeyRefusal
    return { id: fresh.id, key: fresh.key, createdAt: now, ...(kept !== '' && { label: kept }) }
  }

  return {
    async create (name, label = '') {
      const now = Date.now()
      const fresh = newKey(name)
      // The index of names is in a slot of its own (Redis Cluster): written first, it may name a user the
      // script then does not create (the name was taken: it is listed already), never miss one.
      await redis.zadd(keys.userNames, 0, name)
      if (await scripted.userCreate(...scriptKeys(name), prefix, name, now, fresh.id, fresh.hash, label) === 0) return undefined
      const key: KeyInfo = { id: fresh.id, createdAt: now, ...(label !== '' && { label }) }
      return { user: { name, createdAt: now, keys: [key] }, key: { ...key, key: fresh.key } }
    },

    get,

    async page ({ after, limit }) {
      const names = await redis.zrangebylex(keys.userNames, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit + 1)
      const shown = names.slice(0, limit)
      const users = (await Promise.all(shown.map(get))).filter((u): u is UserInfo => u !== undefined)
      return { users, ...(names.length > limit && { next: shown[shown.length - 1] }) }
    },

    keys: keyRecords,

    issue: async (user, label) => await issueKey(user, 'issue', '', label),

    async revoke (user, keyId) {
      if (await notTheirs(user, keyId) !== undefined) return 'no-key'
      // Issues nothing, so no new key is made for it.
      const [status] = await scripted.userKeyWrite(...scriptKeys(user), prefix, user, Date.now(), 'revoke', keyId, '', '', '')
      if (status !== 'ok') return 'no-key'
      return keyInfo(keyId, await redis.hgetall(keys.apiKey(keyId)))
    },

    rotate: async (user, keyId) => await issueKey(user, 'rotate', keyId),

    async verify (key) {
      const match = KEY_PATTERN.exec(key)
      if (match === null) return undefined
      const [, keyId, secret] = match as unknown as [string, string, string]
      const [user, hash, revokedAt] = await redis.hmget(keys.apiKey(keyId), 'user', 'hash', 'revoked_at')
      if (user == null || hash == null || revokedAt != null) return undefined
      const stored = Buffer.from(hash, 'hex')
      const given = sha256(secret)
      return stored.length === given.length && timingSafeEqual(stored, given) ? { user, keyId } : undefined
    }
  }
}
