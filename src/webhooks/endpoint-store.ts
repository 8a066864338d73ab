/**
 * Status webhook endpoints (the user's own URLs that hear of their deliveries'
 * changes), their attempts and their messages, in Redis (keys in
 * src/redis-keys.ts, all in the user's slot): a hash per endpoint, the user's
 * zset of endpoint ids (whose existence tells the delivery scripts to record
 * events), the user's event stream, the bodies of messages sent and each
 * endpoint's attempts, both kept for the history retention.
 *
 * An endpoint's fields are written one at a time (HSET of a field), so the
 * worker noting a failure and a PATCH of the URL never overwrite each other.
 */
import { randomBytes } from 'node:crypto'
import { ulid } from 'ulid'
import type { RedisClient } from '../redis-connection.js'
import type { RedisKeys } from '../redis-keys.js'
import { isStatusEvent, type MessageType, type StatusEvent } from '../model/status-event.js'
import { newSigningSecret, type SecretBox } from './secret-box.js'

export interface Endpoint {
  id: string
  user: string
  url: string
  events: StatusEvent[]
  enabled: boolean
  createdAt: number
  updatedAt: number
  /** Since when every attempt has failed (none succeeded since); absent while it answers. */
  failingSince?: number
  disabledAt?: number
  disabledReason?: string
}

export interface Attempt {
  id: string
  /** The message's webhook-id (the same for every attempt of one message). */
  messageId: string
  type: MessageType
  at: number
  /** The HTTP status answered; absent when none came (refused, timed out). */
  status?: number
  ok: boolean
  durationMs: number
  error?: string
  /** Which try of the message this was (1 = the first). */
  attempt: number
}

/** A state change the delivery scripts appended to the user's event stream. */
export interface StoredEvent {
  streamId: string
  type: StatusEvent
  /** The delivery's id, the dispatch's for dispatch.finished, the contact's name for contact.connected. */
  id: string
  at: number
  /** The message's data as JSON, for events that carry it (contact.connected): there is no record to read later. */
  data?: string
}

export type EndpointPatch = Partial<Pick<Endpoint, 'url' | 'events' | 'enabled'>>

export interface EndpointStore {
  create (user: string, fields: Pick<Endpoint, 'url' | 'events' | 'enabled'>, now?: number): Promise<{ endpoint: Endpoint, secret: string }>
  list (user: string): Promise<Endpoint[]>
  get (user: string, id: string): Promise<Endpoint | undefined>
  /** The endpoint changed; re-enabling clears why it was disabled. Undefined when there is no such endpoint. */
  update (user: string, id: string, patch: EndpointPatch, now?: number): Promise<Endpoint | undefined>
  remove (user: string, id: string): Promise<boolean>
  /** A new secret; the old one keeps signing (beside it) for `overlapMs`. Undefined when there is no such endpoint. */
  rotate (user: string, id: string, overlapMs: number, now?: number): Promise<string | undefined>
  /** The secrets that sign now: the current one, and the previous one within its overlap. */
  signingSecrets (user: string, id: string, now?: number): Promise<string[]>
  /** Notes an answer: clears failingSince. */
  succeeded (user: string, id: string): Promise<void>
  /** Notes a failure; disables the endpoint once it has failed for `disableAfterMs`, and says so. */
  failed (user: string, id: string, disableAfterMs: number, now?: number): Promise<boolean>
  recordAttempt (user: string, endpointId: string, attempt: Attempt, retentionSeconds: number): Promise<void>
  /** The endpoint's attempts, newest first. */
  attempts (user: string, endpointId: string, limit: number): Promise<Attempt[]>
  attempt (user: string, endpointId: string, attemptId: string): Promise<Attempt | undefined>
  saveMessage (user: string, messageId: string, body: string, retentionSeconds: number): Promise<void>
  message (user: string, messageId: string): Promise<string | undefined>
  /** Users who have (or had) endpoints. */
  users (): Promise<string[]>
  /** Forgets a user with no endpoints and no events left (again listed if one came meanwhile). */
  forgetIfIdle (user: string): Promise<boolean>
  /** The oldest events of the user's stream, and the stream ids read (unreadable entries too, to be dropped). */
  readEvents (user: string, count: number): Promise<{ events: StoredEvent[], streamIds: string[] }>
  /** Drops relayed events (XDEL: several relays may drop the same ones). */
  dropEvents (user: string, streamIds: string[]): Promise<void>
}

function toEndpoint (user: string, id: string, h: Record<string, string>): Endpoint | undefined {
  if (h.url === undefined) return undefined
  return {
    id,
    user,
    url: h.url,
    events: (h.events ?? '').split(',').filter(isStatusEvent),
    enabled: h.enabled === '1',
    createdAt: Number(h.created_at),
    updatedAt: Number(h.updated_at ?? h.created_at),
    ...(h.failing_since !== undefined && { failingSince: Number(h.failing_since) }),
    ...(h.disabled_at !== undefined && { disabledAt: Number(h.disabled_at) }),
    ...(h.disabled_reason !== undefined && { disabledReason: h.disabled_reason })
  }
}

const DAY_MS = 24 * 3600_000

export function createEndpointStore (redis: RedisClient, keys: RedisKeys, box: SecretBox): EndpointStore {
  const endpointKey = (user: string, id: string) => keys.webhookEndpoint(user, id)

  const store: EndpointStore = {
    async create (user, fields, now = Date.now()) {
      const id = `ep_${randomBytes(8).toString('hex')}`
      const secret = newSigningSecret()
      await redis.multi()
        .hset(endpointKey(user, id), {
          url: fields.url,
          events: fields.events.join(','),
          enabled: fields.enabled ? '1' : '0',
          created_at: now,
          updated_at: now,
          secret: box.seal(secret)
        })
        .zadd(keys.webhookEndpoints(user), now, id)
        .exec()
      // After the endpoint: a relay that forgets an idle user looks again for endpoints after it.
      await redis.sadd(keys.webhookUsers, user)
      return { endpoint: (await store.get(user, id))!, secret }
    },

    async list (user) {
      const ids = await redis.zrange(keys.webhookEndpoints(user), '0', '-1')
      const hashes = await Promise.all(ids.map(async (id) => await redis.hgetall(endpointKey(user, id))))
      return ids.flatMap((id, i) => toEndpoint(user, id, hashes[i]!) ?? [])
    },

    async get (user, id) {
      return toEndpoint(user, id, await redis.hgetall(endpointKey(user, id)))
    },

    async update (user, id, patch, now = Date.now()) {
      if (await store.get(user, id) === undefined) return undefined
      const set: Record<string, string | number> = { updated_at: now }
      if (patch.url !== undefined) set.url = patch.url
      if (patch.events !== undefined) set.events = patch.events.join(',')
      const multi = redis.multi()
      if (patch.enabled !== undefined) {
        set.enabled = patch.enabled ? '1' : '0'
        if (patch.enabled) multi.hdel(endpointKey(user, id), 'disabled_at', 'disabled_reason', 'failing_since')
      }
      await multi.hset(endpointKey(user, id), set).exec()
      return await store.get(user, id)
    },

    async remove (user, id) {
      const [[, removed] = []] = await redis.multi()
        .zrem(keys.webhookEndpoints(user), id)
        .del(endpointKey(user, id), keys.webhookAttempts(user, id), keys.webhookAttemptData(user, id))
        .exec() ?? []
      return removed === 1
    },

    async rotate (user, id, overlapMs, now = Date.now()) {
      const current = await redis.hget(endpointKey(user, id), 'secret')
      if (current === null) return undefined
      const secret = newSigningSecret()
      await redis.hset(endpointKey(user, id), { secret: box.seal(secret), previous_secret: current, previous_until: now + overlapMs, updated_at: now })
      return secret
    },

    async signingSecrets (user, id, now = Date.now()) {
      const [secret, previous, until] = await redis.hmget(endpointKey(user, id), 'secret', 'previous_secret', 'previous_until')
      if (secret == null) return []
      const secrets = [box.open(secret)]
      if (previous != null && Number(until) > now) secrets.push(box.open(previous))
      return secrets
    },

    async succeeded (user, id) {
      await redis.hdel(endpointKey(user, id), 'failing_since')
    },

    async failed (user, id, disableAfterMs, now = Date.now()) {
      const key = endpointKey(user, id)
      const replies = await redis.multi().hsetnx(key, 'failing_since', String(now)).hget(key, 'failing_since').hget(key, 'enabled').exec()
      const [since, enabled] = [replies?.[1]?.[1], replies?.[2]?.[1]] as Array<string | null | undefined>
      if (enabled !== '1' || since == null || now - Number(since) < disableAfterMs) return false
      const days = Math.round((now - Number(since)) / DAY_MS * 10) / 10
      await redis.hset(key, {
        enabled: '0',
        disabled_at: now,
        disabled_reason: `every attempt failed since ${new Date(Number(since)).toISOString()} (${days} days): re-enable it (PATCH enabled: true) once it answers`
      })
      return true
    },

    async recordAttempt (user, endpointId, attempt, retentionSeconds) {
      const cutoff = attempt.at - retentionSeconds * 1000
      const ids = keys.webhookAttempts(user, endpointId)
      const data = keys.webhookAttemptData(user, endpointId)
      const old = await redis.zrangebyscore(ids, '-inf', `(${cutoff}`)
      // Trimmed as attempts come, and gone a retention after the last one (an endpoint no longer tried keeps none).
      const multi = redis.multi().zadd(ids, attempt.at, attempt.id).hset(data, attempt.id, JSON.stringify(attempt))
        .expire(ids, retentionSeconds).expire(data, retentionSeconds)
      if (old.length > 0) multi.zrem(ids, ...old).hdel(data, ...old)
      await multi.exec()
    },

    async attempts (user, endpointId, limit) {
      const ids = await redis.zrevrange(keys.webhookAttempts(user, endpointId), 0, limit - 1)
      if (ids.length === 0) return []
      const values = await redis.hmget(keys.webhookAttemptData(user, endpointId), ...ids)
      return values.flatMap((v) => v === null ? [] : [JSON.parse(v) as Attempt])
    },

    async attempt (user, endpointId, attemptId) {
      const value = await redis.hget(keys.webhookAttemptData(user, endpointId), attemptId)
      return value === null ? undefined : JSON.parse(value) as Attempt
    },

    async saveMessage (user, messageId, body, retentionSeconds) {
      await redis.set(keys.webhookMessage(user, messageId), body, 'EX', retentionSeconds, 'NX')
    },

    async message (user, messageId) {
      return await redis.get(keys.webhookMessage(user, messageId)) ?? undefined
    },

    async users () {
      return await redis.smembers(keys.webhookUsers)
    },

    async forgetIfIdle (user) {
      const [endpoints, events] = await Promise.all([redis.exists(keys.webhookEndpoints(user)), redis.xlen(keys.webhookEvents(user))])
      if (endpoints === 1 || events > 0) return false
      await redis.srem(keys.webhookUsers, user)
      // An endpoint made meanwhile: its creator's SADD may have come before this SREM.
      if (await redis.exists(keys.webhookEndpoints(user)) === 1) await redis.sadd(keys.webhookUsers, user)
      return true
    },

    async readEvents (user, count) {
      const entries = await redis.xrange(keys.webhookEvents(user), '-', '+', 'COUNT', count)
      const events = entries.flatMap(([streamId, flat]) => {
        const f: Record<string, string> = {}
        for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!
        return f.type !== undefined && isStatusEvent(f.type) && f.id !== undefined
          ? [{ streamId, type: f.type, id: f.id, at: Number(f.at), ...(f.data !== undefined && { data: f.data }) }]
          : []
      })
      return { events, streamIds: entries.map(([streamId]) => streamId) }
    },

    async dropEvents (user, streamIds) {
      if (streamIds.length > 0) await redis.xdel(keys.webhookEvents(user), ...streamIds)
    }
  }
  return store
}

/** A new attempt's id: a ULID, so ids sort by time. */
export function newAttemptId (): string {
  return ulid()
}
