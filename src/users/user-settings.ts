/**
 * A user's own settings (/v1/settings), each left unset until the user sets
 * it; until then, and after it is set back to null, the deployment's default
 * applies. So far one: whether a send that does not say `skip_unreachable`
 * skips the addresses marked dead (SKIP_UNREACHABLE_DEFAULT). The store
 * answers the settings as they apply, so the precedence is decided here only.
 * Kept in Redis beside the user's other data (one hash, in the user's slot),
 * whichever store holds the contacts.
 */
import type { RedisClient } from '../redis-connection.js'
import type { RedisKeys } from '../redis-keys.js'

export interface UserSettings {
  skipUnreachable: boolean
}

/** A change: a value sets a setting, null unsets it (the default applies again), left out leaves it. */
export interface UserSettingsChange {
  skipUnreachable?: boolean | null
}

export interface UserSettingsStore {
  /** The deployment's defaults: what applies where a user has set nothing. */
  defaults: UserSettings
  /** The user's settings as they apply: their own where set, else the defaults. */
  get: (user: string) => Promise<UserSettings>
  /** Applies the change and answers the settings as they apply after it. */
  change: (user: string, change: UserSettingsChange) => Promise<UserSettings>
}

const FIELDS = { skipUnreachable: 'skip_unreachable' } as const

export function createUserSettingsStore (redis: RedisClient, keys: RedisKeys, defaults: UserSettings): UserSettingsStore {
  const get = async (user: string): Promise<UserSettings> => {
    const skip = await redis.hget(keys.userSettings(user), FIELDS.skipUnreachable)
    return { skipUnreachable: skip === null ? defaults.skipUnreachable : skip === '1' }
  }
  return {
    defaults,
    get,
    async change (user, change) {
      const key = keys.userSettings(user)
      if (change.skipUnreachable === null) await redis.hdel(key, FIELDS.skipUnreachable)
      else if (change.skipUnreachable !== undefined) await redis.hset(key, FIELDS.skipUnreachable, change.skipUnreachable ? '1' : '0')
      return await get(user)
    }
  }
}
