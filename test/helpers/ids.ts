/** Ids as the service makes them, for tests that write records directly. */
import { ulid } from 'ulid'
import { slotOfUser } from '../../src/redis-keys.js'

/** A dispatch id of `user` made at `time`: a ULID and the user's slot (src/redis-keys.ts). */
export function dispatchIdOf (user: string, time = Date.now()): string {
  return ulid(time) + slotOfUser(user)
}
