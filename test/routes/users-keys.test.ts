/**
 * Users and API keys through the API: the administrator creates users, a key
 * is shown once and stored only as a hash, keys are listed without secrets,
 * rotated and revoked (taking effect on the very next request), and the
 * limits on names and keys answer clear 4xx errors.
 */
import t from 'tap'
import { client, listAll } from '../helpers/api.js'
import { AUTH_ENV, build } from '../helpers/app.js'
import { keysMatching } from '../helpers/redis.js'
import { ADMIN, basic, bearer, createUser, issueKey } from '../helpers/auth.js'
import { MAX_ACTIVE_KEYS } from '../../src/users/user-store.js'

type Json = Record<string, any>

t.test('a user and its first key: created by the administrator, the key shown once and kept only as a hash', async (t) => {
  const { app, redis, prefix } = await build(t, { env: AUTH_ENV })

  const res = await app.inject({ method: 'POST', url: '/v1/admin/users', headers: ADMIN, payload: { name: 'alice', label: 'laptop' } })
  t.equal(res.statusCode, 201)
  const created = res.json()
  t.match(created, { user: { name: 'alice', active_keys: 1 }, key: { id: /^[0-9a-f]{16}$/, key: /^fo_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, label: 'laptop' } })
  const key = created.key.key as string
  t.ok(key.startsWith(`fo_${created.key.id as string}_`), 'the key carries its id')
  const secret = key.slice(20)

  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(key) })).statusCode, 200, 'the key works at once')

  const listed = await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(key) })
  t.same(listed.json(), { keys: [{ id: created.key.id, label: 'laptop', created_at: created.key.created_at }] }, 'listed without its secret')
  const detail = await app.inject({ method: 'GET', url: '/v1/admin/users/alice', headers: ADMIN })
  t.same(detail.json(), { ...created.user, keys: [{ id: created.key.id, label: 'laptop', created_at: created.key.created_at }] })
  t.notOk(listed.body.includes(secret) || detail.body.includes(secret), 'no listing shows the secret')

  // Nothing in Redis holds the key or its secret: only a SHA-256 of the secret.
  const everything: string[] = []
  for (const name of await keysMatching(redis, `${prefix}:*`)) {
    const type = await redis.type(name)
    if (type === 'hash') everything.push(name, ...Object.entries(await redis.hgetall(name)).flat())
    else if (type === 'zset') everything.push(name, ...await redis.zrange(name, '0', '-1'))
    else if (type === 'string') everything.push(name, await redis.get(name) ?? '')
    else if (type === 'list') everything.push(name, ...await redis.lrange(name, 0, -1))
    else if (type === 'set') everything.push(name, ...await redis.smembers(name))
    else if (type === 'stream') everything.push(name, ...(await redis.xrange(name, '-', '+')).flatMap(([id, fields]) => [id, ...fields]))
    // Gone since the scan listed it (the maintenance queue's next repeat job replaced it): it holds nothing now.
    else if (type === 'none') continue
    else t.fail(`${name}: a ${type}, which this scan cannot read`)
  }
  t.notOk(everything.some((value) => value.includes(secret)), 'the secret is stored nowhere')
  t.ok(everything.includes((await import('node:crypto')).createHash('sha256').update(secret).digest('hex')), 'its hash is')

  const again = await app.inject({ method: 'POST', url: '/v1/admin/users', headers: ADMIN, payload: { name: 'alice' } })
  t.equal(again.statusCode, 409)
  t.equal(again.json().error.code, 'USER_EXISTS')
  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(key) })).statusCode, 200, 'and the first key still works')

  for (const [payload, field] of [[{}, 'name'], [{ name: 'a:b' }, 'name'], [{ name: 'x'.repeat(65) }, 'name'], [{ name: 'bob', label: '' }, 'label'], [{ name: 'bob', admin: true }, 'body']] as const) {
    const bad = await app.inject({ method: 'POST', url: '/v1/admin/users', headers: ADMIN, payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
    t.equal(bad.json().error.details[0].field, field)
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users/bob', headers: ADMIN })).statusCode, 404, 'no user was made of the bad requests')
})

t.test('the administrator lists users in pages; a lost key is replaced by the administrator', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  for (const name of ['carol', 'alice', 'bob', 'dave']) await createUser(app, name)

  const users = await listAll<Json>(client(app, { headers: ADMIN }), '/v1/admin/users', 'users', 3)
  t.same(users.map((u) => u.name), ['alice', 'bob', 'carol', 'dave'], 'every user once, in name order')

  const issued = await app.inject({ method: 'POST', url: '/v1/admin/users/bob/keys', headers: ADMIN, payload: { label: 'replacement' } })
  t.equal(issued.statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(issued.json().key) })).json().keys.length, 2, 'bob now holds two keys')
  t.equal((await app.inject({ method: 'POST', url: '/v1/admin/users/nobody/keys', headers: ADMIN })).statusCode, 404, 'no key for a user that does not exist')
  const revoked = await app.inject({ method: 'DELETE', url: `/v1/admin/users/bob/keys/${issued.json().id as string}`, headers: ADMIN })
  t.match(revoked.json(), { id: issued.json().id, revoked_at: /Z$/ })
  t.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(issued.json().key) })).statusCode, 401, 'revoked by the administrator: refused')
  const erin = await createUser(app, 'erin')
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/admin/users/bob/keys/${erin.keyId}`, headers: ADMIN })).statusCode, 404,
    'a key of another user is not bob\'s to revoke')
  t.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(erin.key) })).statusCode, 200, 'and still works')
})

t.test('a user rotates and revokes its keys; each change holds from the next request on', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  const ci = await issueKey(app, alice.key, 'ci')

  const rotated = await app.inject({ method: 'POST', url: `/v1/keys/${ci.id}/rotate`, headers: bearer(alice.key) })
  t.equal(rotated.statusCode, 201)
  t.match(rotated.json(), { label: 'ci', key: /^fo_/ }, 'the new key keeps the label')
  t.not(rotated.json().id, ci.id)
  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts', headers: bearer(ci.key) })).statusCode, 401, 'the old key: refused at once')
  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts', headers: basic('alice', rotated.json().key) })).statusCode, 200, 'the new one works, Basic too')
  const twice = await app.inject({ method: 'POST', url: `/v1/keys/${ci.id}/rotate`, headers: bearer(alice.key) })
  t.equal(twice.statusCode, 409, 'a revoked key cannot be rotated again (that would mint keys from a dead one)')
  t.equal(twice.json().error.code, 'KEY_REVOKED')

  const keys = (await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(alice.key) })).json().keys as Json[]
  t.same(keys.map((k) => [k.label, k.revoked_at !== undefined]), [[undefined, false], ['ci', true], ['ci', false]], 'oldest first, the revoked one marked')

  const self = await app.inject({ method: 'DELETE', url: `/v1/keys/${alice.keyId}`, headers: bearer(alice.key) })
  t.equal(self.statusCode, 200, 'a key may revoke itself')
  t.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(alice.key) })).statusCode, 401, 'and is refused next time')
  // A moment later, so that a second revoke that overwrote the time would show a different one.
  await new Promise((resolve) => setTimeout(resolve, 5))
  const again = await app.inject({ method: 'DELETE', url: `/v1/keys/${alice.keyId}`, headers: bearer(rotated.json().key) })
  t.equal(again.json().revoked_at, self.json().revoked_at, 'revoking twice keeps the first time')
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/keys/0123456789abcdef', headers: bearer(rotated.json().key) })).statusCode, 404)
  const badId = await app.inject({ method: 'DELETE', url: '/v1/keys/not-a-key-id', headers: bearer(rotated.json().key) })
  t.equal(badId.statusCode, 400)
  t.equal(badId.json().error.details[0].field, 'params.id')
})

t.test('keys made in one millisecond are listed in the order they were made', async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  // The clock held still: every key below is made in the same millisecond, as fast clients can make them.
  const realNow = Date.now
  const frozen = realNow()
  Date.now = () => frozen
  t.teardown(() => { Date.now = realNow })
  for (let i = 0; i < 8; i++) await app.users.issue('alice', `k${i}`)
  Date.now = realNow
  const keys = (await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(alice.key) })).json().keys as Json[]
  t.same(keys.map((k) => k.label), [undefined, 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'], 'oldest first, however close together')
  t.ok(keys.slice(1).every((k) => k.created_at === new Date(frozen).toISOString()), 'each keeps its real creation time')
})

t.test(`a user holds at most ${MAX_ACTIVE_KEYS} keys that are not revoked`, async (t) => {
  const { app } = await build(t, { env: AUTH_ENV })
  const alice = await createUser(app, 'alice')
  const issued = await Promise.all(Array.from({ length: MAX_ACTIVE_KEYS + 5 }, async () =>
    await app.inject({ method: 'POST', url: '/v1/keys', headers: bearer(alice.key) })))
  t.equal(issued.filter((r) => r.statusCode === 201).length, MAX_ACTIVE_KEYS - 1, 'concurrent requests cannot pass the limit')
  const refused = issued.find((r) => r.statusCode === 409)
  t.equal(refused?.json().error.code, 'TOO_MANY_KEYS')
  const oneId = issued.find((r) => r.statusCode === 201)?.json().id as string
  await app.inject({ method: 'DELETE', url: `/v1/keys/${oneId}`, headers: bearer(alice.key) })
  t.equal((await app.inject({ method: 'POST', url: '/v1/keys', headers: bearer(alice.key) })).statusCode, 201, 'room again after a revoke')
})

t.test('with AUTH=off, /v1/admin still takes only the administrator key', async (t) => {
  const off = await build(t)
  const res = await off.app.inject({ method: 'GET', url: '/v1/admin/users', headers: { 'x-user-name': 'alice' } })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /Bearer/)
  const guessed = await off.app.inject({ method: 'GET', url: '/v1/admin/users', headers: bearer('x'.repeat(40)) })
  t.equal(guessed.statusCode, 401)
  t.match(guessed.json().error.message, /no administrator key is configured/)
  t.equal((await off.app.inject({ method: 'GET', url: '/v1/keys', headers: { 'x-user-name': 'alice' } })).json().keys.length, 0,
    'the key routes act for the header\'s user')
  t.equal((await off.app.inject({ method: 'POST', url: '/v1/keys', headers: { 'x-user-name': 'alice' } })).statusCode, 404,
    'a user the administrator never created gets no key')
})
