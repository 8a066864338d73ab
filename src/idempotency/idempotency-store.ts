/**
 * `Idempotency-Key` for POST requests: a client that retries after a lost
 * answer gets the first answer back instead of a second dispatch.
 *
 * The first request with a key claims it (SET NX) as in flight, briefly, so a
 * process that dies mid-request does not hold the key for a day; its answer
 * is then kept for 24 h with a fingerprint of the body. The same key with
 * another body is a client bug (422); with the first still in flight, 409. A
 * request that fails releases the key, so a retry can succeed.
 */
import { createHash } from 'node:crypto'
import type { RedisClient } from '../redis-connection.js'
import { conflict, unprocessable } from '../errors.js'
import type { RedisKeys } from '../redis-keys.js'

const KEEP_SECONDS = 24 * 3600
const IN_FLIGHT_SECONDS = 60

/** What is kept under a key: the body's fingerprint, and the answer once there is one. */
interface StoredAnswer {
  fingerprint: string
  status?: number
  body?: unknown
}

export interface Answer {
  status: number
  body: unknown
  /** True when this is the stored answer of an earlier request. */
  replayed: boolean
}

/** JSON with keys sorted, so that the same body always has the same fingerprint. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as { [k: string]: unknown })[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** What identifies a request body: the same JSON, whatever the order of its keys. */
export function requestFingerprint (body: unknown): string {
  return createHash('sha256').update(canonical(body)).digest('base64url')
}

export interface IdempotencyStore {
  /**
   * Runs the request under the user's `Idempotency-Key`, or answers the first
   * answer given under it (see above).
   */
  run (user: string, key: string, body: unknown, request: () => Promise<{ status: number, body: unknown }>): Promise<Answer>
}

export function createIdempotencyStore (redis: RedisClient, keys: RedisKeys): IdempotencyStore {
  return {
    async run (user, idempotencyKey, body, request) {
      const key = keys.idempotency(user, idempotencyKey)
      const fingerprint = requestFingerprint(body)
      // Two rounds: the key may be released by a failed first request between our SET and GET.
      for (let round = 0; round < 2; round++) {
        const claimed = await redis.set(key, JSON.stringify({ fingerprint }), 'EX', IN_FLIGHT_SECONDS, 'NX')
        if (claimed === 'OK') {
          let answer: { status: number, body: unknown }
          try {
            answer = await request()
          } catch (err) {
            await redis.del(key)
            throw err
          }
          await redis.set(key, JSON.stringify({ fingerprint, ...answer }), 'EX', KEEP_SECONDS)
          return { ...answer, replayed: false }
        }
        const stored = await redis.get(key)
        if (stored === null) continue
        const earlier = JSON.parse(stored) as StoredAnswer
        if (earlier.fingerprint !== fingerprint) {
          throw unprocessable('IDEMPOTENCY_KEY_REUSED', 'was used with another request body; use a new key for a new request', 'idempotency-key')
        }
        if (earlier.status === undefined) {
          throw conflict('REQUEST_IN_FLIGHT', 'The first request with this Idempotency-Key is still being processed; retry shortly')
        }
        return { status: earlier.status, body: earlier.body, replayed: true }
      }
      throw conflict('REQUEST_IN_FLIGHT', 'The request with this Idempotency-Key keeps changing hands; retry shortly')
    }
  }
}
