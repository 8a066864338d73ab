/**
 * The contact store contract (test/helpers/contact-store-contract.ts) against
 * the Redis store, on the test Redis: every subtest on its own key prefix,
 * whose keys are deleted when it ends.
 */
import t from 'tap'
import { createRedisContactStore } from '../../src/contacts/redis-contact-store.js'
import { redisKeys } from '../../src/redis-keys.js'
import { contactStoreContract } from '../helpers/contact-store-contract.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

contactStoreContract(t, async (t) => {
  const prefix = freshPrefix()
  return createRedisContactStore(testRedis(t, prefix), redisKeys(prefix))
})
