/**
 * A user's own settings (/v1/settings), each left unset until the user sets
 * it, and then the deployment's default no longer applies to that user. So
 * far one: whether a send that does not say `skip_unreachable` skips the
 * addresses marked dead (the deployment's SKIP_UNREACHABLE_DEFAULT otherwise).
 * Kept in Redis beside the user's other data (one hash, in the user's slot),
 * whichever store holds the contacts.
 */
import type { RedisClient } from '../redis-connection.js'
import type { RedisKeys } from '../redis-keys.js'

export interface UserSettings {
  /** Unset: the deployment's default. */
  skipUnreachable?: boolean
}

/** A change: a value sets a setting, null unsets it, left out leaves it. */
export interface UserSettingsChange {
  skipUnreachable?: boolean | null
}

export interface UserSettingsStore {
  get: (user: string) => Promise<UserSettings>
  /** Applies the change and answers the settings as they are after it. */
  change: (user: string, change: UserSettingsChange) => Promise<UserSettings>
}

const FIELDS = { skipUnreachable: 'skip_unreachable' } as const

function parse (stored: Record<string, string>): UserSettings {
  const skip = stored[FIELDS.skipUnreachable]
  return skip === undefined ? {} : { skipUnreachable: skip === '1' }
}

export function createUserSettingsStore (redis: RedisClient, keys: RedisKeys): UserSettingsStore {
  const get = async (user: string) => parse(await redis.hgetall(keys.userSettings(user)))
  return {
    get,
    async change (user, change) {
      const key = keys.userSettings(user)
      if (change.skipUnreachable === null) await redis.hdel(key, FIELDS.skipUnreachable)
      else if (change.skipUnreachable !== undefined) await redis.hset(key, FIELDS.skipUnreachable, change.skipUnreachable ? '1' : '0')
      return await get(user)
    }
  }
}
