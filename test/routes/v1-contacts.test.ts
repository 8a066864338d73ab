/**
 * /v1/contacts through the real app (real Redis): what a client sees for each
 * route's success and each of its errors, books kept per user, bad input
 * refused with the field named and nothing written, pages and tag filters.
 */
import t from 'tap'
import { byName, type Contact } from '../../src/contacts/contact-store.js'
import { addContacts, client, listAll, listPages, type Method } from '../helpers/api.js'
import { build } from '../helpers/app.js'
import { keysMatching } from '../helpers/redis.js'
import { redisKeys } from '../../src/redis-keys.js'

const path = (name: string): string => `/v1/contacts/${encodeURIComponent(name)}`
const keysOf = (value: object): string[] => Object.keys(value).sort()
/** A contact as GET /v1/contacts/{name} answers it: with the health of each address (none marked dead in these tests). */
const withHealth = <C extends { name: string, telegram?: string, whatsapp?: string, viber?: string }>(contact: C) => ({
  ...contact,
  health: Object.fromEntries((['telegram', 'whatsapp', 'viber'] as const).filter((m) => contact[m] !== undefined).map((m) => [m, { reachable: true }]))
})

t.test('a contact is created, read, replaced, patched and removed', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const artem = {
    name: 'Artem',
    telegram: 'ArtemZaitsev',
    whatsapp: '+799200828615',
    viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==',
    tags: ['family', 'team:core'],
    timezone: 'Europe/Moscow'
  }

  let res = await req('POST', '/v1/contacts', artem)
  t.equal(res.statusCode, 201)
  t.strictSame(res.json(), artem, 'the answer is the contact as stored')
  t.equal(res.headers.location, '/v1/contacts/Artem', 'Location names the new contact')

  res = await req('GET', res.headers.location as string)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), withHealth(artem), 'the Location URL reads it back, with its addresses\' health')

  res = await req('PUT', '/v1/contacts/Artem', { viber: 'new-viber-id', tags: ['work'] })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { name: 'Artem', viber: 'new-viber-id', tags: ['work'] }, 'PUT replaces the whole contact')
  t.strictSame((await req('GET', '/v1/contacts/Artem')).json(), withHealth({ name: 'Artem', viber: 'new-viber-id', tags: ['work'] }),
    'fields left out of a PUT are gone')

  res = await req('PUT', '/v1/contacts/Artem', { name: 'Artem', telegram: '123456789' })
  t.equal(res.statusCode, 200, 'a PUT body may repeat the name of the path')
  t.strictSame(res.json(), { name: 'Artem', telegram: '123456789' })

  res = await req('PATCH', '/v1/contacts/Artem', { whatsapp: '+15551234567', tags: ['a', 'b'], timezone: 'Asia/Tokyo' })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { name: 'Artem', telegram: '123456789', whatsapp: '+15551234567', tags: ['a', 'b'], timezone: 'Asia/Tokyo' },
    'PATCH sets the fields given and keeps the rest')

  res = await req('PATCH', '/v1/contacts/Artem', { telegram: null, tags: ['c'], timezone: null })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { name: 'Artem', whatsapp: '+15551234567', tags: ['c'] }, 'null removes a field; tags are replaced')
  t.strictSame(keysOf(res.json()), ['name', 'tags', 'whatsapp'], 'removed fields are absent, not null')

  res = await req('PATCH', '/v1/contacts/Artem', { name: 'Artem' })
  t.equal(res.statusCode, 200, 'a PATCH with only the same name changes nothing')
  t.strictSame(res.json(), { name: 'Artem', whatsapp: '+15551234567', tags: ['c'] })
  res = await req('PATCH', '/v1/contacts/Artem', {})
  t.strictSame(res.json(), { name: 'Artem', whatsapp: '+15551234567', tags: ['c'] }, 'an empty PATCH answers the contact')

  res = await req('DELETE', '/v1/contacts/Artem')
  t.equal(res.statusCode, 204)
  t.equal(res.body, '', 'no body')
  res = await req('GET', '/v1/contacts/Artem')
  t.equal(res.statusCode, 404)
  t.strictSame((await req('GET', '/v1/contacts')).json(), { contacts: [] }, 'the book is empty again')
})

t.test('ids are stored as given (trimmed), a Telegram username without its @ included; absent fields stay absent', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  let res = await req('POST', '/v1/contacts', { name: 'Trim', telegram: ' ArtemZaitsev ', whatsapp: '\t+15551234567', tags: ['x', 'y', 'x'] })
  t.equal(res.statusCode, 201)
  t.strictSame(res.json(), { name: 'Trim', telegram: 'ArtemZaitsev', whatsapp: '+15551234567', tags: ['x', 'y'] },
    'trimmed, no @ added; a repeated tag kept once')
  res = await req('POST', '/v1/contacts', { name: 'At', telegram: '@ArtemZaitsev', tags: [] })
  t.strictSame(res.json(), { name: 'At', telegram: '@ArtemZaitsev' }, 'with the @ as given; an empty tag list is no tags')
  res = await req('POST', '/v1/contacts', { name: 'Bare' })
  t.strictSame(res.json(), { name: 'Bare' }, 'a contact with nothing but a name')
  t.strictSame((await req('GET', '/v1/contacts/Bare')).json(), { name: 'Bare', health: {} })
  t.strictSame((await req('GET', '/v1/contacts')).json().contacts.map(keysOf),
    [['name', 'telegram'], ['name'], ['name', 'tags', 'telegram', 'whatsapp']], 'the listing has no empty or null fields either')
})

t.test('a taken name is a 409 CONTACT_EXISTS, and the contact is unchanged', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  await req('POST', '/v1/contacts', { name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] })

  const res = await req('POST', '/v1/contacts', { name: 'Lera', telegram: '123456789', tags: ['other'] })
  t.equal(res.statusCode, 409)
  t.match(res.headers['content-type'], /application\/json/)
  t.equal(res.json().error.code, 'CONTACT_EXISTS')
  t.match(res.json().error.message, /Lera/, 'the message names the contact')
  t.equal(res.json().success, undefined, 'the /v1 error shape has no `success`')
  t.strictSame((await req('GET', '/v1/contacts/Lera')).json(), withHealth({ name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] }))
  t.strictSame((await req('GET', '/v1/contacts?tags_any=other')).json(), { contacts: [] }, 'the refused tags index nothing')
})

t.test('concurrent POSTs of one name: one 201, the rest 409', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await req('POST', '/v1/contacts', { name: 'Racer', telegram: `${400000 + i}` })))
  const statuses = answers.map((r) => r.statusCode).sort()
  t.strictSame(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409])
  const winner = answers.find((r) => r.statusCode === 201)?.json()
  t.strictSame((await req('GET', '/v1/contacts')).json(), { contacts: [winner] }, 'one contact, the winner\'s')
})

t.test('a missing contact is a 404 on GET, PUT, PATCH and DELETE, and nothing is created', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  for (const [method, payload] of [['GET', undefined], ['PUT', { telegram: '123456789' }], ['PATCH', { telegram: '123456789' }], ['DELETE', undefined]] as const) {
    const res = await req(method, '/v1/contacts/Ghost', payload)
    t.equal(res.statusCode, 404, `${method}: 404`)
    t.equal(res.json().error.code, 'NOT_FOUND', `${method}: NOT_FOUND`)
    t.match(res.json().error.message, /Ghost/, `${method}: names the contact`)
  }
  t.strictSame((await req('GET', '/v1/contacts')).json(), { contacts: [] }, 'PUT and PATCH did not create it')
})

t.test('the X-User-Name header is required and checked on every route', async (t) => {
  const { app } = await build(t)
  await client(app, { user: 'alice' })('POST', '/v1/contacts', { name: 'Artem' })
  const routes: Array<[Method, string, object | undefined]> = [
    ['POST', '/v1/contacts', { name: 'X' }],
    ['GET', '/v1/contacts', undefined],
    ['GET', '/v1/contacts/Artem', undefined],
    ['PUT', '/v1/contacts/Artem', {}],
    ['PATCH', '/v1/contacts/Artem', {}],
    ['DELETE', '/v1/contacts/Artem', undefined]
  ]
  for (const [method, url, payload] of routes) {
    for (const [what, user] of [['missing', undefined], ['empty', ''], ['with a key separator', 'a:b'], ['too long', 'u'.repeat(65)]] as const) {
      const res = await client(app, { user })(method, url, payload)
      t.equal(res.statusCode, 400, `${method} ${url}, header ${what}: 400`)
      t.equal(res.json().error.code, 'INVALID_FIELD')
      t.equal(res.json().error.details?.[0]?.field, 'x-user-name', `${method} ${url}, header ${what}: names x-user-name`)
    }
  }
  t.strictSame((await client(app, { user: 'alice' })('GET', '/v1/contacts')).json(), { contacts: [{ name: 'Artem' }] }, 'nothing was changed')
})

t.test('books are per user: another user\'s contact is a 404 and stays untouched', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  const bob = client(app, { user: 'bob' })
  await alice('POST', '/v1/contacts', { name: 'Artem', telegram: 'ArtemZaitsev', tags: ['family'] })

  t.equal((await bob('GET', '/v1/contacts/Artem')).statusCode, 404, 'bob cannot read it')
  t.equal((await bob('PUT', '/v1/contacts/Artem', { viber: 'bob' })).statusCode, 404, 'nor replace it')
  t.equal((await bob('PATCH', '/v1/contacts/Artem', { viber: 'bob' })).statusCode, 404, 'nor patch it')
  t.equal((await bob('DELETE', '/v1/contacts/Artem')).statusCode, 404, 'nor remove it')
  t.strictSame((await bob('GET', '/v1/contacts')).json(), { contacts: [] }, 'nor list it')
  t.strictSame((await bob('GET', '/v1/contacts?tags_any=family')).json(), { contacts: [] }, 'nor find it by tag')
  t.strictSame((await alice('GET', '/v1/contacts/Artem')).json(), withHealth({ name: 'Artem', telegram: 'ArtemZaitsev', tags: ['family'] }), 'alice\'s is untouched')

  const res = await bob('POST', '/v1/contacts', { name: 'Artem', viber: 'bob-artem' })
  t.equal(res.statusCode, 201, 'the same name in bob\'s book is free')
  t.strictSame((await bob('GET', '/v1/contacts')).json(), { contacts: [{ name: 'Artem', viber: 'bob-artem' }] })
  t.strictSame((await alice('GET', '/v1/contacts')).json(), { contacts: [{ name: 'Artem', telegram: 'ArtemZaitsev', tags: ['family'] }] })

  // A cursor is only a position: alice's cursor in bob's book shows bob's contacts after that name.
  await alice('POST', '/v1/contacts', { name: 'Zed' })
  const cursor = (await alice('GET', '/v1/contacts?limit=1')).json().next_cursor
  t.strictSame((await bob('GET', `/v1/contacts?cursor=${cursor}`)).json(), { contacts: [] }, 'alice\'s cursor shows bob nothing of alice\'s')
})

t.test('names with spaces, slashes and non-ASCII letters work in the path and in Location', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  for (const name of ['Anna Maria', 'a/b', 'Лера', '山田 太郎', '100%', 'a?b#c', '😀', 'ж'.repeat(100), '😀'.repeat(50)]) {
    const res = await req('POST', '/v1/contacts', { name, viber: 'v' })
    t.equal(res.statusCode, 201, `${name}: created`)
    const location = res.headers.location as string
    t.equal(location, path(name), `${name}: Location is the encoded name`)
    t.strictSame((await req('GET', location)).json(), withHealth({ name, viber: 'v' }), `${name}: read back through Location`)
    t.equal((await req('DELETE', location)).statusCode, 204, `${name}: removed through Location`)
  }
})

t.test('a name longer than any contact can have, in the path, is a 400 naming it', async (t) => {
  const { app } = await build(t)
  for (const name of ['x'.repeat(101), 'é'.repeat(101)]) {
    const res = await client(app, { user: 'alice' })('GET', path(name))
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /application\/json/)
    t.equal(res.json().error.details[0].field, 'params.name')
  }
})

t.test('bad input gets a 400 naming the field, and nothing is written', async (t) => {
  const { app, redis, prefix } = await build(t)
  const req = client(app, { user: 'alice' })
  const artem = { name: 'Artem', telegram: 'ArtemZaitsev', tags: ['family'], timezone: 'Europe/Moscow' }
  await req('POST', '/v1/contacts', artem)
  const snapshot = async () => {
    // Everything but BullMQ's own bookkeeping, which moves on its own.
    const keys = (await keysMatching(redis, `${prefix}:*`)).filter((k) => !/:q:|:stalled-check$|:marker$/.test(k)).sort()
    return { keys, contacts: await redis.hgetall(redisKeys(prefix).contacts('alice')), listed: (await req('GET', '/v1/contacts')).json() }
  }
  const before = await snapshot()

  const cases: Array<{ what: string, method: Method, url?: string, body?: object, raw?: string, contentType?: string, status?: number, code?: string, field?: string }> = [
    { what: 'no name', method: 'POST', body: { telegram: '123456789' }, field: 'name' },
    { what: 'empty name', method: 'POST', body: { name: '' }, field: 'name' },
    { what: 'name of 101 characters', method: 'POST', body: { name: 'x'.repeat(101) }, field: 'name' },
    { what: 'name with a control character', method: 'POST', body: { name: 'a\u0007b' }, field: 'name' },
    { what: 'name that is a number', method: 'POST', body: { name: 42 }, field: 'name' },
    { what: 'Telegram username too short', method: 'POST', body: { name: 'X', telegram: 'abc' }, field: 'telegram' },
    { what: 'Telegram chat id beyond 2^53', method: 'POST', body: { name: 'X', telegram: '99999999999999999' }, field: 'telegram' },
    { what: 'Telegram id that is a number', method: 'POST', body: { name: 'X', telegram: 123456789 }, field: 'telegram' },
    { what: 'empty Telegram id', method: 'POST', body: { name: 'X', telegram: '' }, field: 'telegram' },
    { what: 'WhatsApp number without +', method: 'POST', body: { name: 'X', whatsapp: '15551234567' }, field: 'whatsapp' },
    { what: 'WhatsApp spelt whatsApp', method: 'POST', body: { name: 'X', whatsApp: '+15551234567' }, field: 'body' },
    { what: 'Viber id with a space', method: 'POST', body: { name: 'X', viber: 'a b' }, field: 'viber' },
    { what: 'Viber id of 65 characters', method: 'POST', body: { name: 'X', viber: 'v'.repeat(65) }, field: 'viber' },
    { what: 'tags that are a string', method: 'POST', body: { name: 'X', tags: 'family' }, field: 'tags' },
    { what: 'a tag with a space', method: 'POST', body: { name: 'X', tags: ['ok', 'not ok'] }, field: 'tags[1]' },
    { what: 'an empty tag', method: 'POST', body: { name: 'X', tags: [''] }, field: 'tags[0]' },
    { what: 'a tag of 65 characters', method: 'POST', body: { name: 'X', tags: ['t'.repeat(65)] }, field: 'tags[0]' },
    { what: 'a tag that is a number', method: 'POST', body: { name: 'X', tags: [1] }, field: 'tags[0]' },
    { what: '33 tags', method: 'POST', body: { name: 'X', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, field: 'tags' },
    { what: 'an unknown time zone', method: 'POST', body: { name: 'X', timezone: 'Mars/Olympus' }, field: 'timezone' },
    { what: 'a UTC offset for a time zone', method: 'POST', body: { name: 'X', timezone: 'GMT+25' }, field: 'timezone' },
    { what: 'an empty time zone', method: 'POST', body: { name: 'X', timezone: '' }, field: 'timezone' },
    { what: 'an unknown field', method: 'POST', body: { name: 'X', email: 'x@example.com' }, field: 'body' },
    { what: 'null for a POST field', method: 'POST', body: { name: 'X', viber: null }, field: 'viber' },
    { what: 'a body that is an array', method: 'POST', body: [{ name: 'X' }], field: 'body' },
    { what: 'not JSON', method: 'POST', raw: '{"name": ', code: 'INVALID_JSON' },
    { what: 'a form instead of JSON', method: 'POST', raw: 'name=X', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { what: 'PUT renaming the contact', method: 'PUT', url: '/v1/contacts/Artem', body: { name: 'Other' }, field: 'name' },
    { what: 'PUT with a bad WhatsApp number', method: 'PUT', url: '/v1/contacts/Artem', body: { whatsapp: '8-800-555' }, field: 'whatsapp' },
    { what: 'PUT with a bad time zone', method: 'PUT', url: '/v1/contacts/Artem', body: { timezone: 'Nowhere' }, field: 'timezone' },
    { what: 'PUT with an unknown field', method: 'PUT', url: '/v1/contacts/Artem', body: { phone: '+15551234567' }, field: 'body' },
    { what: 'PUT without a body', method: 'PUT', url: '/v1/contacts/Artem', field: 'body' },
    { what: 'PATCH renaming the contact', method: 'PATCH', url: '/v1/contacts/Artem', body: { name: 'Other' }, field: 'name' },
    { what: 'PATCH with a bad Telegram id', method: 'PATCH', url: '/v1/contacts/Artem', body: { telegram: '@no' }, field: 'telegram' },
    { what: 'PATCH with a number for an id', method: 'PATCH', url: '/v1/contacts/Artem', body: { viber: 5 }, field: 'viber' },
    { what: 'PATCH with a bad tag', method: 'PATCH', url: '/v1/contacts/Artem', body: { tags: ['a/b'] }, field: 'tags[0]' },
    { what: 'PATCH with a bad time zone', method: 'PATCH', url: '/v1/contacts/Artem', body: { timezone: 'Europe/Atlantis' }, field: 'timezone' },
    { what: 'PATCH with null for the name', method: 'PATCH', url: '/v1/contacts/Artem', body: { name: null }, field: 'name' },
    { what: 'PATCH with an unknown field', method: 'PATCH', url: '/v1/contacts/Artem', body: { tag: ['x'] }, field: 'body' },
    { what: 'PATCH with one good and one bad field', method: 'PATCH', url: '/v1/contacts/Artem', body: { viber: 'fine', whatsapp: 'bad' }, field: 'whatsapp' },
    { what: 'a control character in the path', method: 'DELETE', url: '/v1/contacts/a%07b', field: 'params.name' },
    { what: 'limit 0', method: 'GET', url: '/v1/contacts?limit=0', field: 'query.limit' },
    { what: 'limit 1001', method: 'GET', url: '/v1/contacts?limit=1001', field: 'query.limit' },
    { what: 'limit that is not a number', method: 'GET', url: '/v1/contacts?limit=ten', field: 'query.limit' },
    { what: 'a cursor with characters base64url has not', method: 'GET', url: '/v1/contacts?cursor=!!!', field: 'query.cursor' },
    { what: 'a cursor that is not UTF-8', method: 'GET', url: '/v1/contacts?cursor=_w', field: 'query.cursor' },
    { what: 'a cursor in padded base64', method: 'GET', url: '/v1/contacts?cursor=QXJ0ZW0%3D', field: 'query.cursor' },
    { what: 'an empty cursor', method: 'GET', url: '/v1/contacts?cursor=', field: 'query.cursor' },
    { what: 'a bad tag in tags_any', method: 'GET', url: '/v1/contacts?tags_any=ok,not%20ok', field: 'query.tags_any' },
    { what: 'a bad tag in tags_all', method: 'GET', url: '/v1/contacts?tags_all=a%2Fb', field: 'query.tags_all' },
    { what: '33 tags in tags_all', method: 'GET', url: `/v1/contacts?tags_all=${Array.from({ length: 33 }, (_, i) => `t${i}`).join(',')}`, field: 'query.tags_all' },
    { what: 'a misspelt filter', method: 'GET', url: '/v1/contacts?tags=family', field: 'query' }
  ]
  for (const c of cases) {
    const res = await req(c.method, c.url ?? '/v1/contacts', c.raw ?? c.body, c.raw !== undefined ? { headers: { 'content-type': c.contentType ?? 'application/json' } } : {})
    t.equal(res.statusCode, c.status ?? 400, `${c.what}: status`)
    t.match(res.headers['content-type'], /application\/json/, `${c.what}: JSON`)
    const body = res.json()
    t.equal(body.error?.code, c.code ?? 'INVALID_FIELD', `${c.what}: code`)
    t.type(body.error?.message, 'string', `${c.what}: message`)
    if (c.field !== undefined) {
      t.equal(body.error.details?.[0]?.field, c.field, `${c.what}: names ${c.field} (${body.error.message as string})`)
      t.ok((body.error.message as string).startsWith(c.field), `${c.what}: the message names the field too`)
    }
  }
  t.strictSame(await snapshot(), before, 'no bad request wrote anything')
})

t.test('a huge body gets 413, not a crash', async (t) => {
  const { app, config } = await build(t)
  const res = await client(app, { user: 'alice' })('POST', '/v1/contacts', JSON.stringify({ name: 'X', viber: 'x'.repeat(config.bodyLimit) }),
    { headers: { 'content-type': 'application/json' } })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error.code, 'BODY_TOO_LARGE')
  t.strictSame((await client(app, { user: 'alice' })('GET', '/v1/contacts')).json(), { contacts: [] })
})

t.test('the listing walks the whole book in pages, each contact once, in name order', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const names = ['zed', 'ﬀ', 'Лера', 'alice', '😀x', 'Bob', 'a b', 'лера', 'Émile', 'Alice', 'ab', 'Ёж', 'bob', 'Zed', 'a',
    ...Array.from({ length: 20 }, (_, i) => `n${String(i).padStart(2, '0')}`)]
  for (const name of names) t.equal((await req('POST', '/v1/contacts', { name, viber: 'v' })).statusCode, 201)
  const expected = names.map((name) => ({ name, viber: 'v' })).sort(byName)
  t.strictSame(expected.slice(-2).map((c) => c.name), ['ﬀ', '😀x'], 'sanity: UTF-8 byte order, not JS\'s UTF-16 order')

  for (const limit of [1, 7, 35, 1000]) {
    const pages = await listPages<Contact>(req, '/v1/contacts', 'contacts', limit)
    t.strictSame(pages.flat(), expected, `limit ${limit}: every contact once, in name order`)
    t.equal(pages.length, Math.ceil(names.length / limit), `limit ${limit}: no empty last page`)
  }

  const first = (await req('GET', '/v1/contacts?limit=7')).json()
  t.equal(first.contacts.length, 7)
  t.type(first.next_cursor, 'string', 'a page that is not the last has next_cursor')
  t.notOk((first.next_cursor as string).includes(first.contacts[6].name), 'the cursor does not spell the name out')
  const whole = (await req('GET', '/v1/contacts')).json()
  t.equal(whole.contacts.length, 35, 'the default page holds all 35')
  t.notOk('next_cursor' in whole, 'the last page has no next_cursor')

  await addContacts(req, Array.from({ length: 70 }, (_, i) => ({ name: `p${String(i).padStart(3, '0')}` })))
  const defaultPage = (await req('GET', '/v1/contacts')).json()
  t.equal(defaultPage.contacts.length, 100, 'limit defaults to 100')
  t.type(defaultPage.next_cursor, 'string')
  t.equal((await req('GET', `/v1/contacts?cursor=${defaultPage.next_cursor as string}`)).json().contacts.length, 5, 'the rest on the next page')
})

t.test('a walk sees every contact that exists throughout exactly once, while others come and go', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const original = Array.from({ length: 30 }, (_, i) => `m${String(i * 3).padStart(3, '0')}`)
  await addContacts(req, original.map((name) => ({ name })))
  const seen: string[] = []
  await listPages<Contact>(req, '/v1/contacts', 'contacts', 4, {
    onPage: async (contacts, index) => {
      seen.push(...contacts.map((c) => c.name))
      const page = index + 1
      // Added before the cursor, right after it, between two names, at the end; one new one removed again.
      for (const name of [`a${page}`, `${seen[seen.length - 1] ?? ''}+`, `m${String(page * 3 + 1).padStart(3, '0')}`, `z${page}`]) {
        await req('POST', '/v1/contacts', { name })
      }
      await req('DELETE', path(`z${page}`))
    }
  })
  t.equal(new Set(seen).size, seen.length, 'nothing is seen twice')
  for (const name of original) t.equal(seen.filter((n) => n === name).length, 1, `${name} is seen once`)
  t.notOk(seen.some((name) => name.startsWith('a')), 'contacts added before the cursor are not seen')
})

t.test('the listing filters by tags: any, all, both; repeated and comma-separated', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const book: Contact[] = [
    { name: 'Ann', tags: ['x'] },
    { name: 'Bea', tags: ['x', 'y'] },
    { name: 'Cid', tags: ['y'] },
    { name: 'Dan', tags: ['y', 'z', 'x'] },
    { name: 'Eve' },
    { name: 'Fay', tags: ['z'] },
    { name: 'Gus', tags: ['x', 'z'] },
    { name: 'Hal', tags: ['y', 'x'] },
    { name: 'Ivy', tags: ['team:core', 'v1.2-beta'] }
  ]
  await addContacts(req, book)
  await client(app, { user: 'bob' })('POST', '/v1/contacts', { name: 'Bob', tags: ['x', 'y', 'z'] })

  const cases: Array<[string, string[]]> = [
    ['', ['Ann', 'Bea', 'Cid', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal', 'Ivy']],
    ['tags_any=x', ['Ann', 'Bea', 'Dan', 'Gus', 'Hal']],
    ['tags_any=z,team:core', ['Dan', 'Fay', 'Gus', 'Ivy']],
    ['tags_any=z&tags_any=team:core', ['Dan', 'Fay', 'Gus', 'Ivy']],
    ['tags_any=x, y&tags_any=x', ['Ann', 'Bea', 'Cid', 'Dan', 'Gus', 'Hal']],
    ['tags_all=x,y', ['Bea', 'Dan', 'Hal']],
    ['tags_all=y&tags_all=x&tags_all=z', ['Dan']],
    ['tags_any=z,y&tags_all=x', ['Bea', 'Dan', 'Gus', 'Hal']],
    ['tags_any=v1.2-beta', ['Ivy']],
    ['tags_any=nope', []],
    ['tags_all=x,nope', []],
    ['tags_any=', ['Ann', 'Bea', 'Cid', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal', 'Ivy']]
  ]
  for (const [query, names] of cases) {
    const expected = book.filter((c) => names.includes(c.name))
    for (const limit of [1, 2, 100]) {
      const contacts = await listAll<Contact>(req, query === '' ? '/v1/contacts' : `/v1/contacts?${query.replace(/ /g, '%20')}`, 'contacts', limit)
      t.strictSame(contacts, expected, `${query || 'no filter'}, ${limit} a page`)
    }
  }
})

t.test('tags changed by PUT, PATCH and DELETE change what the filters find', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'alice' })
  const byTag = async (tag: string) => (await req('GET', `/v1/contacts?tags_any=${tag}`)).json().contacts.map((c: Contact) => c.name)
  await req('POST', '/v1/contacts', { name: 'Artem', tags: ['a', 'b'] })
  t.strictSame(await byTag('a'), ['Artem'])
  await req('PUT', '/v1/contacts/Artem', { tags: ['b', 'c'] })
  t.strictSame(await byTag('a'), [], 'PUT dropped a')
  t.strictSame(await byTag('c'), ['Artem'], 'PUT added c')
  await req('PATCH', '/v1/contacts/Artem', { tags: ['d'] })
  t.strictSame([await byTag('b'), await byTag('c'), await byTag('d')], [[], [], ['Artem']], 'PATCH replaced them')
  await req('PATCH', '/v1/contacts/Artem', { tags: null })
  t.strictSame(await byTag('d'), [], 'PATCH null removed them')
  await req('PATCH', '/v1/contacts/Artem', { tags: ['e'] })
  await req('DELETE', '/v1/contacts/Artem')
  t.strictSame(await byTag('e'), [], 'a removed contact is not found by its tag')
  await req('POST', '/v1/contacts', { name: 'Artem' })
  t.strictSame(await byTag('e'), [], 'nor once its name is taken again')
})

t.test('the legacy API keeps the tags and time zone that /v1 gave a contact', async (t) => {
  const { app } = await build(t)
  const req = client(app, { user: 'test' })
  await req('POST', '/v1/contacts', { name: 'Artem', telegram: '123456789', tags: ['family'], timezone: 'Europe/Moscow' })
  const res = await app.inject({
    method: 'POST',
    url: '/api/contacts',
    payload: { user_name: 'test', contact: { name: 'Artem', messangers: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' } } }
  })
  t.strictSame(res.json(), { success: true })
  t.strictSame((await req('GET', '/v1/contacts/Artem')).json(),
    withHealth({ name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', tags: ['family'], timezone: 'Europe/Moscow' }))
  const legacy = await app.inject({ method: 'GET', url: '/api/contacts?user_name=test' })
  t.strictSame(legacy.json(), { contacts: { Artem: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' } } },
    'the legacy listing shows the ids only')
})
