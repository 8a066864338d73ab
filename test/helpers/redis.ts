/**
 * The Redis every test talks to: one server per test run, started by
 * scripts/test.sh, whose URL arrives in TEST_REDIS_URL. Each test takes a
 * fresh key prefix and removes its keys when it ends.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? ''
if (REDIS_URL === '') {
  throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test`, which starts a Redis for them')
}

export function freshPrefix (): string {
  return `t${randomBytes(6).toString('hex')}`
}

/** A Redis client for the test, closed (after deleting the prefix's keys) when the test ends. */
export function testRedis (t: Test, prefix?: string): Redis {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 })
  t.teardown(async () => {
    if (prefix !== undefined) await deleteKeys(redis, prefix)
    await redis.quit()
  })
  return redis
}

export async function deleteKeys (redis: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await redis.unlink(...keys)
  } while (cursor !== '0')
}
