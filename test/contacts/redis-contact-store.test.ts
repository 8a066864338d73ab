/**
 * The contact store contract (test/helpers/contact-store-contract.ts) against
 * the Redis store, on the test Redis: every subtest on its own key prefix,
 * whose keys are deleted when it ends; then what only the Redis store has to
 * get right (books stored before its indexes existed, scripts shared by stores).
 */
import t from 'tap'
import { createRedisContactStore } from '../../src/contacts/redis-contact-store.js'
import { redisKeys } from '../../src/redis-keys.js'
import { contactStoreContract } from '../helpers/contact-store-contract.js'
import { DEFAULT_TARGET, freshPrefix, testRedis } from '../helpers/redis.js'

const OPTIONS = { maxContacts: 100_000 }

// The store's connection is opened as the service opens it (auto-pipelined), so the contract meets its batching too.
contactStoreContract(t, async (t, options = OPTIONS) => {
  const prefix = freshPrefix()
  return createRedisContactStore(testRedis(t, prefix, DEFAULT_TARGET, 'commands'), redisKeys(prefix), options)
})

t.test('a book written before tags and the name index existed reads, pages and changes as any other', async (t) => {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  // What the previous version stored: the hash alone, JSON with only ids.
  await redis.hset(keys.contacts('u'), 'Artem', '{"telegram":"ArtemZaitsev","whatsapp":"+799200828615"}', 'Lera', '{"viber":"lera-viber-id"}', 'Bare', '{}')
  const store = createRedisContactStore(redis, keys, OPTIONS)

  const artem = { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615' }
  t.strictSame(await store.get('u', 'Artem'), artem, 'no tags, no time zone: absent, not undefined')
  t.strictSame(Object.keys(await store.get('u', 'Bare') ?? {}), ['name'])
  t.strictSame(await store.page('u', { limit: 2 }), { contacts: [artem, { name: 'Bare' }], next: 'Bare' }, 'paged though it had no name index')
  t.strictSame(await store.page('u', { limit: 2, after: 'Bare' }), { contacts: [{ name: 'Lera', viber: 'lera-viber-id' }] })

  t.strictSame(await store.patch('u', 'Lera', { tags: ['friends'] }), { name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] })
  t.equal(await store.create('u', { name: 'Zoe' }), true)
  t.strictSame((await store.page('u', { limit: 10 })).contacts.map((c) => c.name), ['Artem', 'Bare', 'Lera', 'Zoe'],
    'a write indexes the old names with the new one')
  t.strictSame(await store.findByTags('u', { any: ['friends'] }), [{ name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] }])
})

t.test('the scripts are defined once per client, whatever the number of stores', async (t) => {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const first = createRedisContactStore(redis, redisKeys(prefix), OPTIONS)
  const second = createRedisContactStore(redis, redisKeys(prefix), OPTIONS)
  t.equal(await first.create('u', { name: 'A', tags: ['x'] }), true)
  t.equal(await second.create('u', { name: 'A' }), false, 'both stores write through the same scripts')
  t.strictSame(await second.findByTags('u', { any: ['x'] }), [{ name: 'A', tags: ['x'] }])
})

t.test('a page comes from Redis as one JSON text: names with quotes, backslashes, slashes and any script survive it', async (t) => {
  const prefix = freshPrefix()
  const store = createRedisContactStore(testRedis(t, prefix), redisKeys(prefix), OPTIONS)
  const names = ['say "hi"', 'back\\slash', 'a/b', 'Зоя', '😀 party', 'tab-free ]},[{']
  for (const name of names) t.equal(await store.create('u', { name, telegram: '1001', tags: ['x'] }), true)
  const listed = (await store.page('u', { limit: 10 })).contacts
  t.strictSame(listed.map((c) => c.name).sort(), [...names].sort())
  t.ok(listed.every((c) => c.telegram === '1001' && c.tags?.[0] === 'x'))
  t.strictSame((await store.findByTags('u', { any: ['x'] })).map((c) => c.name).sort(), [...names].sort())
})
