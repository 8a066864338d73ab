/**
 * The contract every ContactStore keeps, as one set of subtests. Each store's
 * test file (test/contacts/*-contact-store.test.ts) runs it against its
 * implementation, so the Redis and MongoDB stores cannot drift apart.
 *
 * Every subtest gets its own store from `makeStore(t)` (its own key prefix or
 * collection), which the store's test file cleans up in `t.teardown`.
 *
 * This file lives under test/helpers/ (excluded in package.json "tap"), so tap
 * never runs it on its own.
 */
import type { Test } from 'tap'
import fc from 'fast-check'
import {
  byName, compactContact, sameContact, type BatchOptions, type BatchOutcome, type BatchResult,
  type Contact, type ContactStore, type ContactStoreOptions, type TagFilter
} from '../../src/contacts/contact-store.js'

/** A store of its own for the subtest; `options` default to a limit no subtest reaches. */
export type MakeStore = (t: Test, options?: ContactStoreOptions) => Promise<ContactStore>

/** The property names of a contact, sorted: shows an absent id is really absent (not `undefined`, not ''). */
const keysOf = (contact: Contact | undefined): string[] => Object.keys(contact ?? {}).sort()
const sorted = (contacts: readonly Contact[]): Contact[] => [...contacts].sort(byName)
const names = (contacts: readonly Contact[]): string[] => contacts.map((c) => c.name)

/**
 * Every page of a walk through the book, following `next` until it is absent.
 * Checks on the way what every page must hold: at most `limit` contacts, in
 * byName order, each after the previous page's last, and a `next` that is the
 * last name shown.
 */
async function walk (store: ContactStore, user: string, limit: number, tags?: TagFilter,
  between?: (page: number) => Promise<void>): Promise<Contact[][]> {
  const pages: Contact[][] = []
  let after: string | undefined
  for (;;) {
    const page = await store.page(user, { limit, ...(after !== undefined && { after }), ...(tags && { tags }) })
    if (page.contacts.length > limit) throw new Error(`a page of ${page.contacts.length} contacts, limit ${limit}`)
    const shown = after === undefined ? page.contacts : [{ name: after }, ...page.contacts]
    if (names(shown).join('\u0000') !== names(sorted(shown)).join('\u0000') || new Set(names(shown)).size !== shown.length) {
      throw new Error(`a page out of byName order or repeating the cursor: ${JSON.stringify(names(shown))}`)
    }
    pages.push(page.contacts)
    if (page.next === undefined) return pages
    if (page.next !== page.contacts[page.contacts.length - 1]?.name) throw new Error(`next ${page.next} is not the last name shown`)
    if (pages.length > 10_000) throw new Error('a walk that does not end')
    after = page.next
    await between?.(pages.length)
  }
}

/**
 * What writeBatch must do, written plainly: each contact in turn against the
 * book as it stands, new names while there is room; all or nothing undoes the
 * lot when one is refused. Returns the result and the book after it.
 */
function modelBatch (book: ReadonlyMap<string, Contact>, contacts: readonly Contact[], { mode, allOrNothing }: BatchOptions,
  maxContacts: number): BatchResult & { book: Map<string, Contact> } {
  const after = new Map(book)
  const outcomes = contacts.map((contact): BatchOutcome => {
    const old = after.get(contact.name)
    if (old !== undefined && mode === 'create') return 'taken'
    if (old === undefined && after.size >= maxContacts) return 'full'
    after.set(contact.name, compactContact(contact))
    return old === undefined ? 'created' : sameContact(old, contact) ? 'unchanged' : 'updated'
  })
  const refused = outcomes.some((o) => o === 'taken' || o === 'full')
  return allOrNothing && refused ? { written: false, outcomes, book: new Map(book) } : { written: true, outcomes, book: after }
}

export function contactStoreContract (t: Test, makeStore: MakeStore): void {
  t.test('upsert creates a new contact, then replaces (not merges) its ids', async (t) => {
    const store = await makeStore(t)

    t.strictSame(
      await store.upsert('u', { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615' }),
      { created: true },
      'a new name is created'
    )
    t.strictSame(await store.list('u'), [{ name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615' }])

    t.strictSame(
      await store.upsert('u', { name: 'Artem', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' }),
      { created: false },
      'an existing name is not created again'
    )
    const listed = await store.list('u')
    t.strictSame(listed, [{ name: 'Artem', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' }], 'the ids are replaced')
    t.strictSame(keysOf(listed[0]), ['name', 'viber'], 'telegram and whatsapp are gone, not merged in')
    const found = await store.findByNames('u', ['Artem'])
    t.strictSame(found, [{ name: 'Artem', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' }], 'findByNames sees the replacement too')
    t.strictSame(keysOf(found[0]), ['name', 'viber'])

    t.strictSame(
      await store.upsert('u', { name: 'Artem', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' }),
      { created: false },
      'an identical upsert is not a creation either'
    )
    t.strictSame(await store.upsert('u', { name: 'Artem' }), { created: false })
    t.strictSame(await store.list('u'), [{ name: 'Artem' }], 'a contact can be replaced by one with no ids at all')
    t.strictSame(keysOf((await store.list('u'))[0]), ['name'])
  })

  t.test('empty ids are treated as absent and never come back as ""', async (t) => {
    const store = await makeStore(t)

    await store.upsert('u', { name: 'Some', telegram: '', whatsapp: '+15551234567', viber: '' })
    await store.upsert('u', { name: 'None', telegram: '', whatsapp: '', viber: '' })
    await store.upsert('u', { name: 'Undef', telegram: undefined, viber: 'v-1' })

    const expected: Contact[] = [{ name: 'None' }, { name: 'Some', whatsapp: '+15551234567' }, { name: 'Undef', viber: 'v-1' }]
    const listed = await store.list('u')
    t.strictSame(listed, expected)
    t.strictSame(listed.map(keysOf), [['name'], ['name', 'whatsapp'], ['name', 'viber']], 'list: no "" and no undefined ids')
    const found = sorted(await store.findByNames('u', ['Some', 'None', 'Undef']))
    t.strictSame(found, expected)
    t.strictSame(found.map(keysOf), [['name'], ['name', 'whatsapp'], ['name', 'viber']], 'findByNames: no "" and no undefined ids')

    // Replacing an id with "" removes it.
    t.strictSame(await store.upsert('u', { name: 'Some', telegram: '123456789', whatsapp: '' }), { created: false })
    const [some] = await store.findByNames('u', ['Some'])
    t.strictSame(some, { name: 'Some', telegram: '123456789' })
    t.strictSame(keysOf(some), ['name', 'telegram'])
  })

  t.test('list and page return every contact sorted by name, in UTF-8 byte order (as byName)', async (t) => {
    const store = await makeStore(t)

    // Inserted in an order that is not the sorted one (a Redis hash this small keeps insertion order).
    const inputs = ['zed', 'ﬀ', 'Лера', 'alice', '😀x', 'Bob', 'a b', 'лера', 'Émile', 'Alice', 'ab', 'Ёж', 'bob', 'Zed', 'a']
    // By hand: ASCII upper case before lower case; 'a' < 'a b' < 'ab' (space is 0x20); Latin-1 before
    // Cyrillic; and 'ﬀ' (U+FB00, EF AC 80) before '😀x' (U+1F600, F0 9F 98 80), though JS's `<`
    // compares UTF-16 code units and puts '😀x' (surrogate 0xD83D) first.
    const expectedNames = ['Alice', 'Bob', 'Zed', 'a', 'a b', 'ab', 'alice', 'bob', 'zed', 'Émile', 'Ёж', 'Лера', 'лера', 'ﬀ', '😀x']

    // The hand-written order is the one that tells byName apart from the other obvious sorts.
    const byLocale = [...inputs].sort((a, b) => a.localeCompare(b, 'en'))
    const byUtf16 = [...inputs].sort()
    t.notSame(byLocale, expectedNames, 'sanity: a locale sort would order these differently')
    t.notSame(byUtf16, expectedNames, 'sanity: a UTF-16 code unit sort (JS\'s default) would order these differently')

    const contactOf = (name: string, i: number): Contact => ({ name, telegram: `${100000 + i}` })
    for (const [i, name] of inputs.entries()) {
      t.strictSame(await store.upsert('u', contactOf(name, i)), { created: true }, `${name} is new`)
    }
    const expected = inputs.map(contactOf).sort(byName)

    const listed = await store.list('u')
    t.strictSame(names(expected), expectedNames, 'sanity: byName agrees with the hand-written order')
    t.strictSame(names(listed), expectedNames, 'the names, in the hand-written order')
    t.strictSame(listed, expected, 'every contact with its ids, in byName order')
    t.equal(listed.length, inputs.length, 'no contact is lost or doubled')

    for (const limit of [1, 2, 4, 15, 100]) {
      const pages = await walk(store, 'u', limit)
      t.strictSame(pages.flat(), expected, `page, ${limit} at a time, walks the book in byName order`)
    }
    const [first] = await walk(store, 'u', 3, { any: ['none-has-it'] })
    t.strictSame(first, [], 'sanity: a filter nobody matches gives one empty page')
  })

  t.test('list of a user without contacts is []', async (t) => {
    const store = await makeStore(t)
    t.strictSame(await store.list('nobody'), [])
    await store.upsert('somebody', { name: 'X', viber: 'v' })
    t.strictSame(await store.list('nobody'), [], 'still [] when other users have contacts')
  })

  t.test('remove returns true, then false', async (t) => {
    const store = await makeStore(t)
    await store.upsert('u', { name: 'Artem', telegram: 'ArtemZaitsev' })
    await store.upsert('u', { name: 'Lera', viber: 'lera-viber-id' })

    t.equal(await store.remove('u', 'Artem'), true, 'an existing contact is removed')
    t.equal(await store.remove('u', 'Artem'), false, 'the second remove finds nothing')
    t.strictSame(await store.list('u'), [{ name: 'Lera', viber: 'lera-viber-id' }], 'only that contact went')
    t.strictSame(await store.findByNames('u', ['Artem']), [])
    t.equal(await store.remove('u', 'Never'), false, 'a name never added')
    t.equal(await store.remove('nobody', 'Artem'), false, 'a user without contacts')

    t.strictSame(await store.upsert('u', { name: 'Artem', whatsapp: '+15551234567' }), { created: true }, 'a removed name is new again')
    t.strictSame(await store.findByNames('u', ['Artem']), [{ name: 'Artem', whatsapp: '+15551234567' }], 'with only its new ids')

    t.equal(await store.remove('u', 'Artem'), true)
    t.equal(await store.remove('u', 'Lera'), true)
    t.strictSame(await store.list('u'), [], 'removing the last contact leaves an empty book')
  })

  t.test('findByNames returns the existing contacts among the names', async (t) => {
    const store = await makeStore(t)
    const A: Contact = { name: 'A', telegram: '111111' }
    const B: Contact = { name: 'B', whatsapp: '+15550000001' }
    const C: Contact = { name: 'C', viber: 'c-viber' }
    for (const c of [A, B, C]) await store.upsert('u', c)

    t.strictSame(sorted(await store.findByNames('u', ['A', 'C'])), [A, C], 'only the ones asked for')
    t.strictSame(sorted(await store.findByNames('u', ['C', 'Nobody', 'A', 'Vasya'])), [A, C], 'unknown names are ignored')
    t.strictSame(await store.findByNames('u', ['Nobody', 'Vasya']), [], 'only unknown names: []')
    t.strictSame(await store.findByNames('u', []), [], 'no names: []')
    t.strictSame(await store.findByNames('nobody', ['A', 'B']), [], 'a user without contacts: []')
    t.strictSame(await store.findByNames('u', ['a', 'A ', ' A']), [], 'names match exactly (no case folding, no trimming)')
  })

  t.test('findByNames with repeated names returns each contact once', async (t) => {
    // The contract is "the contacts among `names` that exist": a set of contacts, so a name
    // asked for twice is still one contact (the dispatcher de-duplicates too, but the stores must agree).
    const store = await makeStore(t)
    const A: Contact = { name: 'A', telegram: '111111' }
    const B: Contact = { name: 'B', whatsapp: '+15550000001' }
    await store.upsert('u', A)
    await store.upsert('u', B)

    const found = await store.findByNames('u', ['A', 'A', 'Nobody', 'B', 'A', 'Nobody'])
    t.strictSame(sorted(found), [A, B], 'A and B, once each')
    t.equal(found.length, 2, `exactly two contacts, got ${JSON.stringify(names(found))}`)
  })

  t.test('findByNames with 1,000 names', async (t) => {
    const store = await makeStore(t)
    const pad = (i: number): string => String(i).padStart(4, '0')
    // 600 contacts exist; the 1,000 names asked for are 500 of them and 500 unknown, interleaved.
    const existing: Contact[] = Array.from({ length: 600 }, (_, i) => ({ name: `c${pad(i)}`, telegram: `${1000000 + i}` }))
    const created = await Promise.all(existing.map(async (c) => await store.upsert('u', c)))
    t.equal(created.filter((r) => r.created).length, 600, 'all 600 created')

    const asked = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `c${pad(i / 2)}` : `unknown-${pad(i)}`))
    t.equal(asked.length, 1000)
    t.equal(new Set(asked).size, 1000, 'sanity: 1,000 distinct names')
    const expected = existing.slice(0, 500)

    const found = await store.findByNames('u', asked)
    t.equal(found.length, 500, 'the 500 that exist')
    t.strictSame(sorted(found), expected, 'each with its ids')
    t.equal((await store.list('u')).length, 600)
  })

  t.test('users are isolated from each other', async (t) => {
    const store = await makeStore(t)
    t.strictSame(await store.upsert('alice', { name: 'Artem', telegram: 'ArtemZaitsev' }), { created: true })
    t.strictSame(await store.upsert('bob', { name: 'Artem', viber: 'bob-artem' }), { created: true }, 'the same name under another user is new')
    t.strictSame(await store.upsert('alice2', { name: 'Artem', whatsapp: '+15550000002' }), { created: true }, 'a user whose name extends another is separate')

    t.strictSame(await store.list('alice'), [{ name: 'Artem', telegram: 'ArtemZaitsev' }])
    t.strictSame(await store.list('bob'), [{ name: 'Artem', viber: 'bob-artem' }], "bob's Artem did not replace alice's, nor the other way")
    t.strictSame(await store.findByNames('bob', ['Artem']), [{ name: 'Artem', viber: 'bob-artem' }])

    t.strictSame(await store.upsert('bob', { name: 'Lera', viber: 'lera' }), { created: true })
    t.strictSame(await store.findByNames('alice', ['Lera']), [], "bob's contacts are not found for alice")

    t.equal(await store.remove('alice', 'Artem'), true)
    t.strictSame(await store.list('alice'), [])
    t.strictSame(await store.list('bob'), [{ name: 'Artem', viber: 'bob-artem' }, { name: 'Lera', viber: 'lera' }], "removing alice's Artem leaves bob's")
    t.strictSame(await store.list('alice2'), [{ name: 'Artem', whatsapp: '+15550000002' }])
    t.equal(await store.remove('alice', 'Lera'), false, "alice cannot remove bob's contact")
    t.strictSame(await store.findByNames('bob', ['Lera']), [{ name: 'Lera', viber: 'lera' }])
  })

  t.test('many users\' books read at once: each read gets its own user\'s book', async (t) => {
    // On a Redis Cluster the users' books live on different nodes, and reads asked in one tick
    // are pipelined together by the client: a read must still reach its own user's node.
    const store = await makeStore(t)
    const users = Array.from({ length: 24 }, (_, i) => `reader-${i}`)
    await Promise.all(users.map(async (user) => await store.create(user, { name: `${user}-friend`, telegram: '1001', tags: ['x'] })))
    const pages = await Promise.all(users.map(async (user) => await store.page(user, { limit: 10 })))
    t.strictSame(pages.map((page) => page.contacts.map((c) => c.name)), users.map((user) => [`${user}-friend`]), 'pages')
    const tagged = await Promise.all(users.map(async (user) => await store.findByTags(user, { any: ['x'] })))
    t.strictSame(tagged.map((found) => found.map((c) => c.name)), users.map((user) => [`${user}-friend`]), 'tag lookups')
    const filtered = await Promise.all(users.map(async (user) => await store.page(user, { limit: 10, tags: { any: ['x'], all: [] } })))
    t.strictSame(filtered.map((page) => page.contacts.length), users.map(() => 1), 'pages by tag')
  })

  t.test('names with spaces, dots, colons, unicode and up to 100 characters round-trip exactly', async (t) => {
    const store = await makeStore(t)
    const odd = [
      'Anna Maria', ' padded ', 'two  spaces', 'Dr. Who', 'a.b.c', '.', 'x:y:z', ':', 'u:contacts:x',
      '*', 'a?b[c]', '$name', '{"json":1}', '__proto__', 'constructor', 'tab\there', 'line\nbreak',
      'Лера', 'Łukasz', '山田太郎', '😀 party', 'é', 'e\u0301', // precomposed and combining: two different names
      'x'.repeat(100), 'ж'.repeat(100), '😀'.repeat(50) // 100 UTF-16 code units in the last one
    ]
    t.equal(new Set(odd).size, odd.length, 'sanity: all distinct')
    const contactOf = (name: string, i: number): Contact => ({ name, viber: `v${i}` })

    for (const [i, name] of odd.entries()) {
      t.strictSame(await store.upsert('u', contactOf(name, i)), { created: true }, `${JSON.stringify(name)} is new`)
    }
    const expected = odd.map(contactOf).sort(byName)
    t.strictSame(await store.list('u'), expected, 'list gives every name back exactly')
    t.strictSame(sorted(await store.findByNames('u', odd)), expected, 'findByNames finds every name exactly')
    for (const [i, name] of odd.entries()) {
      t.strictSame(await store.findByNames('u', [name]), [contactOf(name, i)], `${JSON.stringify(name)} alone`)
    }
    for (const name of odd) {
      t.equal(await store.remove('u', name), true, `${JSON.stringify(name)} is removed`)
    }
    t.strictSame(await store.list('u'), [], 'nothing left')
  })

  t.test('concurrent upserts of the same new name create it exactly once', async (t) => {
    const store = await makeStore(t)
    const ids = Array.from({ length: 20 }, (_, i) => `${200000 + i}`)
    const results = await Promise.all(ids.map(async (telegram) => await store.upsert('u', { name: 'Racer', telegram })))

    t.equal(results.filter((r) => r.created).length, 1, `exactly one created: true, got ${JSON.stringify(results)}`)
    t.equal(results.filter((r) => !r.created).length, 19)
    const listed = await store.list('u')
    t.equal(listed.length, 1, 'exactly one contact')
    t.equal(listed[0]?.name, 'Racer')
    t.ok(ids.includes(listed[0]?.telegram ?? ''), 'with the ids of one of the writers')
    t.strictSame(keysOf(listed[0]), ['name', 'telegram'])
    t.strictSame(await store.findByNames('u', ['Racer']), listed)
  })

  t.test('create writes a new contact with every field; a taken name is false and changes nothing', async (t) => {
    const store = await makeStore(t)
    const artem: Contact = {
      name: 'Artem',
      telegram: 'ArtemZaitsev',
      whatsapp: '+799200828615',
      viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==',
      tags: ['family', 'team:core'],
      timezone: 'Europe/Moscow',
      operator: 'RU-Beeline'
    }
    t.equal(await store.create('u', artem), true, 'a new name is created')
    t.strictSame(await store.get('u', 'Artem'), artem, 'get gives every field back')
    t.strictSame(await store.list('u'), [artem])
    t.strictSame(await store.findByNames('u', ['Artem']), [artem])

    const other: Contact = { name: 'Artem', viber: 'other-viber', tags: ['intruder'], timezone: 'Asia/Tokyo' }
    t.equal(await store.create('u', other), false, 'a taken name is not created again')
    t.strictSame(await store.get('u', 'Artem'), artem, 'the existing contact is unchanged')
    t.strictSame(await store.list('u'), [artem], 'still one contact')
    t.strictSame(await store.findByTags('u', { any: ['intruder'] }), [], 'the refused contact\'s tag indexes nothing')
    t.strictSame(await store.findByTags('u', { all: ['family', 'team:core'] }), [artem], 'the existing tags still find it')

    t.equal(await store.create('bob', other), true, 'the same name in another user\'s book is free')
    t.strictSame(await store.get('u', 'Artem'), artem)
  })

  t.test('the operator code: kept, patched and removed like the other fields; a legacy upsert keeps it; a batch compares it', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Op', whatsapp: '+79031234567', operator: 'RU-Beeline' })
    t.strictSame(await store.patch('u', 'Op', { operator: '250-99' }), { name: 'Op', whatsapp: '+79031234567', operator: '250-99' })
    t.strictSame(await store.upsert('u', { name: 'Op', telegram: '42' }), { created: false })
    t.strictSame(await store.get('u', 'Op'), { name: 'Op', telegram: '42', operator: '250-99' }, 'the legacy write sets ids only')
    t.strictSame(await store.writeBatch('u', [{ name: 'Op', telegram: '42', operator: '250-99' }], { mode: 'upsert', allOrNothing: false }),
      { written: true, outcomes: ['unchanged'] })
    t.strictSame(await store.writeBatch('u', [{ name: 'Op', telegram: '42', operator: '250-01' }], { mode: 'upsert', allOrNothing: false }),
      { written: true, outcomes: ['updated'] }, 'another operator is another contact')
    t.strictSame(await store.patch('u', 'Op', { operator: null }), { name: 'Op', telegram: '42' })
    t.equal(await store.replace('u', { name: 'Op', operator: '' }), true)
    t.strictSame(await store.get('u', 'Op'), { name: 'Op' }, '"" is none')
  })

  t.test('absent fields are absent: no "", no undefined, no empty tag list; tags are kept once each', async (t) => {
    const store = await makeStore(t)
    t.equal(await store.create('u', { name: 'Bare', telegram: '', tags: [], timezone: '' }), true)
    t.equal(await store.create('u', { name: 'Undef', viber: 'v-1', tags: undefined, timezone: undefined }), true)
    t.equal(await store.create('u', { name: 'Dup', tags: ['b', 'a', 'b', 'a', 'c'] }), true)

    const expected: Contact[] = [{ name: 'Bare' }, { name: 'Dup', tags: ['b', 'a', 'c'] }, { name: 'Undef', viber: 'v-1' }]
    const listed = await store.list('u')
    t.strictSame(listed, expected, 'repeated tags are kept once, in the order first given')
    t.strictSame(listed.map(keysOf), [['name'], ['name', 'tags'], ['name', 'viber']], 'list: nothing empty or undefined')
    t.strictSame(keysOf(await store.get('u', 'Bare')), ['name'], 'get: the same')
    t.strictSame(sorted(await store.findByNames('u', ['Bare', 'Undef', 'Dup'])).map(keysOf), [['name'], ['name', 'tags'], ['name', 'viber']])
    t.strictSame((await store.page('u', { limit: 10 })).contacts.map(keysOf), [['name'], ['name', 'tags'], ['name', 'viber']], 'page: the same')
    t.strictSame(await store.findByTags('u', { any: ['a'] }), [{ name: 'Dup', tags: ['b', 'a', 'c'] }], 'findByTags: the same contact')

    t.equal(await store.replace('u', { name: 'Dup', tags: [], timezone: '' }), true)
    t.strictSame(keysOf(await store.get('u', 'Dup')), ['name'], 'replaced with an empty tag list: no tags at all')
    t.strictSame(await store.findByTags('u', { any: ['a', 'b', 'c'] }), [], 'and no tag finds it')
  })

  t.test('concurrent creates of one name: exactly one is true, and only its fields and tags are kept', async (t) => {
    const store = await makeStore(t)
    const racers: Contact[] = Array.from({ length: 20 }, (_, i) => ({ name: 'Racer', telegram: `${300000 + i}`, tags: [`racer-${i}`, 'all'] }))
    const results = await Promise.all(racers.map(async (c) => await store.create('u', c)))

    t.equal(results.filter((created) => created).length, 1, `exactly one true, got ${JSON.stringify(results)}`)
    const winner = racers[results.indexOf(true)]
    t.strictSame(await store.get('u', 'Racer'), winner, 'the contact is the winner\'s, whole')
    t.strictSame(await store.list('u'), [winner], 'exactly one contact')
    t.strictSame(await store.findByTags('u', { any: racers.flatMap((c) => c.tags ?? []) }), [winner], 'one contact under all the tags')
    for (const [i, racer] of racers.entries()) {
      const found = await store.findByTags('u', { any: [`racer-${i}`] })
      t.strictSame(found, racer === winner ? [winner] : [], `racer-${i} indexes ${racer === winner ? 'the winner' : 'nothing'}`)
    }
  })

  t.test('get gives the contact, or undefined', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] })
    t.strictSame(await store.get('u', 'Lera'), { name: 'Lera', viber: 'lera-viber-id', tags: ['friends'] })
    t.equal(await store.get('u', 'Nobody'), undefined, 'a name never added')
    t.equal(await store.get('u', 'lera'), undefined, 'names match exactly')
    t.equal(await store.get('other', 'Lera'), undefined, 'another user\'s book')
    await store.remove('u', 'Lera')
    t.equal(await store.get('u', 'Lera'), undefined, 'a removed contact')
  })

  t.test('replace swaps the whole contact and its tags; false (nothing written) when there is none', async (t) => {
    const store = await makeStore(t)
    t.equal(await store.replace('u', { name: 'Ghost', telegram: '123456789', tags: ['ghosts'] }), false, 'no contact of that name')
    t.equal(await store.get('u', 'Ghost'), undefined, 'and none was created')
    t.strictSame(await store.list('u'), [])
    t.strictSame(await store.findByTags('u', { any: ['ghosts'] }), [], 'nor indexed')
    t.strictSame((await store.page('u', { limit: 10 })).contacts, [], 'nor paged')

    await store.create('u', { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+15551234567', tags: ['old', 'kept'], timezone: 'Europe/Moscow' })
    const next: Contact = { name: 'Artem', viber: 'new-viber', tags: ['kept', 'new'] }
    t.equal(await store.replace('u', next), true)
    t.strictSame(await store.get('u', 'Artem'), next, 'every field is the new one; the rest are gone, not merged')
    t.strictSame(keysOf(await store.get('u', 'Artem')), ['name', 'tags', 'viber'])
    t.strictSame(await store.findByTags('u', { any: ['old'] }), [], 'a dropped tag no longer finds it')
    t.strictSame(await store.findByTags('u', { all: ['kept', 'new'] }), [next], 'the new tags do')
    t.strictSame(await store.findByTags('u', { any: ['new'] }), [next])

    t.equal(await store.replace('u', { name: 'Artem' }), true, 'replaced by a contact with nothing but its name')
    t.strictSame(await store.get('u', 'Artem'), { name: 'Artem' })
    t.strictSame(await store.findByTags('u', { any: ['kept', 'new', 'old'] }), [])
    t.equal(await store.replace('other', { name: 'Artem' }), false, 'another user has no Artem')
  })

  t.test('patch sets fields, removes them with null, replaces tags; undefined when there is no contact', async (t) => {
    const store = await makeStore(t)
    t.equal(await store.patch('u', 'Ghost', { telegram: '123456789', tags: ['ghosts'] }), undefined, 'no contact of that name')
    t.equal(await store.get('u', 'Ghost'), undefined, 'and none was created')
    t.strictSame(await store.findByTags('u', { any: ['ghosts'] }), [], 'nor indexed')

    await store.create('u', { name: 'Artem', telegram: 'ArtemZaitsev', tags: ['a', 'b'], timezone: 'Europe/Moscow' })

    let patched = await store.patch('u', 'Artem', { whatsapp: '+15551234567' })
    let expected: Contact = { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+15551234567', tags: ['a', 'b'], timezone: 'Europe/Moscow' }
    t.strictSame(patched, expected, 'a field is added, the others kept')
    t.strictSame(await store.get('u', 'Artem'), expected, 'and stored')

    patched = await store.patch('u', 'Artem', { telegram: null, timezone: null, viber: undefined })
    expected = { name: 'Artem', whatsapp: '+15551234567', tags: ['a', 'b'] }
    t.strictSame(patched, expected, 'null removes a field; undefined leaves it alone')
    t.strictSame(keysOf(await store.get('u', 'Artem')), ['name', 'tags', 'whatsapp'], 'removed fields are absent')

    patched = await store.patch('u', 'Artem', { tags: ['c', 'b', 'c'] })
    expected = { name: 'Artem', whatsapp: '+15551234567', tags: ['c', 'b'] }
    t.strictSame(patched, expected, 'tags are replaced, not merged (and kept once each)')
    t.strictSame(await store.findByTags('u', { any: ['a'] }), [], 'the dropped tag no longer finds it')
    t.strictSame(await store.findByTags('u', { all: ['b', 'c'] }), [expected], 'the new ones do')

    t.strictSame(await store.patch('u', 'Artem', {}), expected, 'an empty patch answers the contact as it is')
    t.strictSame(await store.get('u', 'Artem'), expected)

    patched = await store.patch('u', 'Artem', { tags: [], whatsapp: '', timezone: 'Asia/Tokyo' })
    expected = { name: 'Artem', timezone: 'Asia/Tokyo' }
    t.strictSame(patched, expected, 'an empty tag list and "" remove too')
    t.strictSame(keysOf(await store.get('u', 'Artem')), ['name', 'timezone'])
    t.strictSame(await store.findByTags('u', { any: ['a', 'b', 'c'] }), [], 'no tag finds it')

    patched = await store.patch('u', 'Artem', { tags: ['d'] })
    t.strictSame(patched, { name: 'Artem', timezone: 'Asia/Tokyo', tags: ['d'] }, 'tags can come back')
    t.strictSame(await store.patch('u', 'Artem', { tags: null }), { name: 'Artem', timezone: 'Asia/Tokyo' }, 'null removes the tags')
    t.strictSame(await store.findByTags('u', { any: ['d'] }), [])
    t.equal(await store.patch('other', 'Artem', { viber: 'x' }), undefined, 'another user has no Artem')
    t.strictSame(await store.list('u'), [{ name: 'Artem', timezone: 'Asia/Tokyo' }])
  })

  t.test('concurrent patches of different fields all land', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Busy' })
    await Promise.all([
      store.patch('u', 'Busy', { telegram: '111111' }),
      store.patch('u', 'Busy', { whatsapp: '+15550000001' }),
      store.patch('u', 'Busy', { viber: 'busy-viber' }),
      store.patch('u', 'Busy', { timezone: 'UTC' }),
      store.patch('u', 'Busy', { tags: ['x'] })
    ])
    t.strictSame(await store.get('u', 'Busy'), {
      name: 'Busy', telegram: '111111', whatsapp: '+15550000001', viber: 'busy-viber', tags: ['x'], timezone: 'UTC'
    }, 'no patch undid another')
    t.strictSame(await store.findByTags('u', { any: ['x'] }), [await store.get('u', 'Busy')])
  })

  t.test('remove clears the tag indexes: a removed contact never shows up under its tags', async (t) => {
    const store = await makeStore(t)
    const tagged: Contact = { name: 'Tagged', telegram: '123456789', tags: ['t1', 't2'] }
    const keep: Contact = { name: 'Keep', tags: ['t1'] }
    await store.create('u', tagged)
    await store.create('u', keep)

    t.equal(await store.remove('u', 'Tagged'), true)
    t.strictSame(await store.findByTags('u', { any: ['t1', 't2'] }), [keep], 'any: only the contact still there')
    t.strictSame(await store.findByTags('u', { all: ['t2'] }), [], 'all: nothing')
    t.strictSame(await walk(store, 'u', 1, { any: ['t1', 't2'] }), [[keep]], 'a filtered page: only the contact still there')
    t.strictSame(await walk(store, 'u', 1, { all: ['t1', 't2'] }), [[]])

    t.equal(await store.create('u', { name: 'Tagged', viber: 'v' }), true, 'the name comes back without tags')
    t.strictSame(await store.findByTags('u', { any: ['t2'] }), [], 'and its old tags do not find it')
    t.strictSame(sorted(await store.findByTags('u', { any: ['t1'] })), [keep])
  })

  t.test('legacy upsert replaces the ids but keeps the tags and time zone', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Artem', telegram: 'ArtemZaitsev', tags: ['family'], timezone: 'Europe/Moscow' })

    t.strictSame(await store.upsert('u', { name: 'Artem', whatsapp: '+15551234567' }), { created: false })
    const expected: Contact = { name: 'Artem', whatsapp: '+15551234567', tags: ['family'], timezone: 'Europe/Moscow' }
    t.strictSame(await store.get('u', 'Artem'), expected, 'ids replaced; tags and time zone kept')
    t.strictSame(await store.findByTags('u', { any: ['family'] }), [expected], 'still found by its tag')

    // A legacy client knows nothing of tags: whatever it sends, they stay.
    t.strictSame(await store.upsert('u', { name: 'Artem', viber: 'v', tags: ['ignored'], timezone: 'Asia/Tokyo' }), { created: false })
    t.strictSame(await store.get('u', 'Artem'), { name: 'Artem', viber: 'v', tags: ['family'], timezone: 'Europe/Moscow' })
    t.strictSame(await store.findByTags('u', { any: ['ignored'] }), [])

    // Tags in any script, and a time zone with a `/`, come through a rewrite of the stored value unchanged.
    await store.create('u', { name: 'Лера', tags: ['семья', '家族', 'team:core'], timezone: 'America/Argentina/Buenos_Aires' })
    t.strictSame(await store.upsert('u', { name: 'Лера', viber: 'lera' }), { created: false })
    t.strictSame(await store.patch('u', 'Лера', { telegram: '123456789' }),
      { name: 'Лера', telegram: '123456789', viber: 'lera', tags: ['семья', '家族', 'team:core'], timezone: 'America/Argentina/Buenos_Aires' })
    t.strictSame(names(await store.findByTags('u', { all: ['семья', '家族'] })), ['Лера'])
    t.equal(await store.remove('u', 'Лера'), true)

    t.strictSame(await store.upsert('u', { name: 'New', telegram: '123456789' }), { created: true })
    t.strictSame(await store.get('u', 'New'), { name: 'New', telegram: '123456789' }, 'a new contact has no tags or time zone')
    t.strictSame(names((await store.page('u', { limit: 10 })).contacts), ['Artem', 'New'], 'an upserted contact is paged')
  })

  t.test('page walks the whole book exactly once, whatever the limit', async (t) => {
    const store = await makeStore(t)
    const book: Contact[] = Array.from({ length: 57 }, (_, i) => ({ name: `c${String(i).padStart(2, '0')}`, viber: `v${i}` }))
    // Created in a shuffled order, so the walk cannot lean on insertion order.
    for (const i of book.keys()) await store.create('u', book[(i * 23) % 57] as Contact)

    for (const limit of [1, 5, 10, 19, 56, 57, 58, 1000]) {
      const pages = await walk(store, 'u', limit)
      t.strictSame(pages.flat(), book, `limit ${limit}: every contact once, in order`)
      t.equal(pages.length, Math.max(1, Math.ceil(57 / limit)), `limit ${limit}: ${Math.ceil(57 / limit)} pages, no empty last page`)
    }
    t.strictSame(await store.page('u', { limit: 5, after: 'c56' }), { contacts: [] }, 'after the last name: an empty last page')
    t.strictSame(await store.page('u', { limit: 2, after: 'c10x' }), { contacts: [book[11], book[12]], next: 'c12' },
      'after a name that is not in the book: from the next one')
    t.strictSame(await store.page('u', { limit: 2, after: '' }), { contacts: [book[0], book[1]], next: 'c01' }, 'after "": from the start')
    t.strictSame(await store.page('nobody', { limit: 10 }), { contacts: [] }, 'an empty book: one empty page')
  })

  t.test('page stays stable while contacts are added and removed during the walk', async (t) => {
    const store = await makeStore(t)
    const original = Array.from({ length: 40 }, (_, i) => `m${String(i * 2 + 10).padStart(3, '0')}`)
    for (const name of original) await store.create('u', { name, tags: ['walk'] })

    for (const tags of [undefined, { any: ['walk'] }, { all: ['walk'] }]) {
      let added = 0
      const pages = await walk(store, 'u', 7, tags, async (page) => {
        // New contacts before the cursor, after it, between two existing names, and at the very end.
        for (const name of [`a${page}-${added}`, `m${String(page * 11).padStart(3, '0')}x`, `m${String(60 + page).padStart(3, '0')}~`, `z${page}`]) {
          if (await store.create('u', { name, tags: ['walk'] })) added++
        }
      })
      const seen = names(pages.flat())
      t.equal(new Set(seen).size, seen.length, `${JSON.stringify(tags)}: no contact is seen twice`)
      for (const name of original) {
        if (seen.filter((n) => n === name).length !== 1) t.fail(`${name} is seen ${seen.filter((n) => n === name).length} times`)
      }
      t.ok(original.every((name) => seen.includes(name)), `${JSON.stringify(tags)}: every contact there from the start is seen exactly once`)
      t.ok(added > 0, 'sanity: contacts were added during the walk')
      for (const name of await store.list('u').then(names)) {
        if (!original.includes(name)) await store.remove('u', name)
      }
    }
    t.strictSame(names(await store.list('u')), original, 'sanity: the book is back to the original')
  })

  t.test('page filtered by tags: any, all, both', async (t) => {
    const store = await makeStore(t)
    const book: Contact[] = [
      { name: 'Ann', tags: ['x'] },
      { name: 'Bea', tags: ['x', 'y'] },
      { name: 'Cid', tags: ['y'] },
      { name: 'Dan', tags: ['y', 'z', 'x'] },
      { name: 'Eve' },
      { name: 'Fay', tags: ['z'] },
      { name: 'Gus', tags: ['x', 'z'] },
      { name: 'Hal', tags: ['y', 'x'] },
      { name: 'Ivy', tags: ['w'] }
    ]
    for (const c of [...book].reverse()) await store.create('u', c)
    await store.create('other', { name: 'Bea', tags: ['x', 'y', 'z'] })

    const cases: Array<[TagFilter, string[]]> = [
      [{}, ['Ann', 'Bea', 'Cid', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal', 'Ivy']],
      [{ any: [], all: [] }, ['Ann', 'Bea', 'Cid', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal', 'Ivy']],
      [{ any: ['x'] }, ['Ann', 'Bea', 'Dan', 'Gus', 'Hal']],
      [{ any: ['z', 'w'] }, ['Dan', 'Fay', 'Gus', 'Ivy']],
      [{ any: ['x', 'y', 'x'] }, ['Ann', 'Bea', 'Cid', 'Dan', 'Gus', 'Hal']],
      [{ all: ['x', 'y'] }, ['Bea', 'Dan', 'Hal']],
      [{ all: ['y', 'x', 'z'] }, ['Dan']],
      [{ any: ['z', 'y'], all: ['x'] }, ['Bea', 'Dan', 'Gus', 'Hal']],
      [{ any: ['w'], all: ['x'] }, []],
      [{ any: ['nope'] }, []],
      [{ all: ['x', 'nope'] }, []]
    ]
    for (const [filter, expected] of cases) {
      const want = book.filter((c) => expected.includes(c.name))
      for (const limit of [1, 2, 3, 100]) {
        const pages = await walk(store, 'u', limit, filter)
        t.strictSame(pages.flat(), want, `${JSON.stringify(filter)}, ${limit} a page`)
      }
    }
  })

  t.test('findByTags: any, all, both; no tags picks nobody', async (t) => {
    const store = await makeStore(t)
    const book: Contact[] = [
      { name: 'Ann', telegram: '111111', tags: ['x'] },
      { name: 'Bea', tags: ['x', 'y'] },
      { name: 'Cid', tags: ['y'] },
      { name: 'Dan', tags: ['y', 'z', 'x'] },
      { name: 'Eve', viber: 'eve' }
    ]
    for (const c of book) await store.create('u', c)
    await store.create('other', { name: 'Zed', tags: ['x', 'y', 'z'] })
    const pick = (...picked: string[]): Contact[] => book.filter((c) => picked.includes(c.name))

    t.strictSame(sorted(await store.findByTags('u', { any: ['x'] })), pick('Ann', 'Bea', 'Dan'), 'any: one tag')
    t.strictSame(sorted(await store.findByTags('u', { any: ['x', 'y'] })), pick('Ann', 'Bea', 'Cid', 'Dan'), 'any: either tag, each contact once')
    t.strictSame(sorted(await store.findByTags('u', { all: ['x', 'y'] })), pick('Bea', 'Dan'), 'all: both tags')
    t.strictSame(sorted(await store.findByTags('u', { all: ['z'] })), pick('Dan'))
    t.strictSame(sorted(await store.findByTags('u', { any: ['z', 'y'], all: ['x'] })), pick('Bea', 'Dan'), 'both parts at once')
    t.strictSame(sorted(await store.findByTags('u', { any: ['nope'], all: ['x'] })), [], 'both: the any part must match too')
    t.strictSame(sorted(await store.findByTags('u', { any: ['x', 'x'], all: ['y', 'y'] })), pick('Bea', 'Dan'), 'repeated tags change nothing')
    t.strictSame(await store.findByTags('u', { any: ['nope'] }), [], 'an unknown tag: nobody')
    t.strictSame(await store.findByTags('u', { all: ['x', 'nope'] }), [], 'all with an unknown tag: nobody')
    t.strictSame(await store.findByTags('u', {}), [], 'no tags at all: nobody, not the whole book')
    t.strictSame(await store.findByTags('u', { any: [], all: [] }), [], 'empty lists: nobody')
    t.strictSame(await store.findByTags('nobody', { any: ['x'] }), [], 'another user\'s tags are not shared')
    t.strictSame(await store.findByTags('other', { all: ['x', 'y', 'z'] }), [{ name: 'Zed', tags: ['x', 'y', 'z'] }])

    const many: Contact[] = Array.from({ length: 1200 }, (_, i) => ({ name: `bulk${String(i).padStart(4, '0')}`, tags: ['bulk', ...(i % 3 === 0 ? ['third'] : [])] }))
    await Promise.all(many.map(async (c) => await store.create('u', c)))
    t.equal((await store.findByTags('u', { any: ['bulk'] })).length, 1200, '1,200 contacts under one tag')
    t.strictSame(sorted(await store.findByTags('u', { all: ['bulk', 'third'] })), many.filter((_, i) => i % 3 === 0), 'and 400 under two')
  })

  t.test('a full book refuses new names, and only new names', async (t) => {
    const store = await makeStore(t, { maxContacts: 3 })
    for (const name of ['A', 'B', 'C']) t.equal(await store.create('u', { name }), true)
    const full = { code: 'CONTACT_LIMIT_REACHED', statusCode: 422, message: /at most 3 contacts/ }
    await t.rejects(store.create('u', { name: 'D' }), full, 'create of a fourth name')
    await t.rejects(store.upsert('u', { name: 'D', telegram: '1' }), full, 'legacy upsert of a fourth name')
    t.strictSame((await store.list('u')).map((c) => c.name), ['A', 'B', 'C'], 'nothing of D was written')
    t.equal(await store.create('u', { name: 'A' }), false, 'a taken name is still just taken')
    t.strictSame(await store.upsert('u', { name: 'A', telegram: '42' }), { created: false }, 'an existing name can be upserted')
    t.equal(await store.replace('u', { name: 'B', viber: 'b' }), true, 'and replaced')
    t.strictSame(await store.patch('u', 'C', { tags: ['t'] }), { name: 'C', tags: ['t'] }, 'and patched')
    t.equal(await store.create('other', { name: 'D' }), true, 'the limit is per user')
    t.equal(await store.remove('u', 'A'), true)
    t.equal(await store.create('u', { name: 'D' }), true, 'room again after a delete')
  })

  t.test('writeBatch creates new names, replaces the known ones whole, leaves the same ones alone, and keeps the indexes in step', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Ann', telegram: '111111', tags: ['x', 'y'], timezone: 'Europe/Moscow' })
    await store.create('u', { name: 'Bea', viber: 'bea', tags: ['x'] })
    await store.create('u', { name: 'Cid', whatsapp: '+15550000003', tags: ['y', 'z'] })
    await store.create('other', { name: 'Ann', tags: ['x'] })

    const batch: Contact[] = [
      { name: 'Dan', telegram: '444444', tags: ['z', 'w'], timezone: 'Asia/Tokyo' },
      { name: 'Ann', whatsapp: '+15550000001', tags: ['y'] },
      { name: 'Bea', viber: 'bea', tags: ['x'], telegram: '' },
      { name: 'Cid', whatsapp: '+15550000003', tags: ['z', 'y'] },
      { name: 'Eve' }
    ]
    t.strictSame(await store.writeBatch('u', batch, { mode: 'upsert', allOrNothing: false }),
      { written: true, outcomes: ['created', 'updated', 'unchanged', 'updated', 'created'] },
      'Bea is the same contact ("" is no id); Cid\'s tags in another order are a change')
    const expected: Contact[] = [
      { name: 'Ann', whatsapp: '+15550000001', tags: ['y'] },
      { name: 'Bea', viber: 'bea', tags: ['x'] },
      { name: 'Cid', whatsapp: '+15550000003', tags: ['z', 'y'] },
      { name: 'Dan', telegram: '444444', tags: ['z', 'w'], timezone: 'Asia/Tokyo' },
      { name: 'Eve' }
    ]
    t.strictSame(await store.list('u'), expected, 'a replaced contact lost the fields its new one lacks')
    t.strictSame(keysOf(await store.get('u', 'Ann')), ['name', 'tags', 'whatsapp'], 'Ann\'s telegram and time zone are gone, not merged in')
    t.strictSame((await walk(store, 'u', 2)).flat(), expected, 'the name index has the new names')
    t.strictSame(names(sorted(await store.findByTags('u', { any: ['x'] }))), ['Bea'], 'Ann left tag x')
    t.strictSame(names(sorted(await store.findByTags('u', { any: ['y'] }))), ['Ann', 'Cid'])
    t.strictSame(names(sorted(await store.findByTags('u', { all: ['z', 'w'] }))), ['Dan'], 'a new contact\'s tags index it')
    t.strictSame(names((await walk(store, 'u', 1, { any: ['z'] })).flat()), ['Cid', 'Dan'], 'and pages find it')
    t.strictSame(await store.list('other'), [{ name: 'Ann', tags: ['x'] }], 'another user\'s book is untouched')
    t.equal(await store.count('u'), 5)

    t.strictSame(await store.writeBatch('u', expected, { mode: 'upsert', allOrNothing: false }),
      { written: true, outcomes: ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'] }, 'the book written again changes nothing')
    t.strictSame(await store.list('u'), expected)
  })

  t.test('writeBatch in mode create refuses the names the book has and writes the others', async (t) => {
    const store = await makeStore(t)
    await store.create('u', { name: 'Ann', telegram: '111111', tags: ['x'] })
    const result = await store.writeBatch('u', [
      { name: 'Bea', tags: ['x'] },
      { name: 'Ann', viber: 'intruder', tags: ['intruder'] },
      { name: 'Cid' }
    ], { mode: 'create', allOrNothing: false })
    t.strictSame(result, { written: true, outcomes: ['created', 'taken', 'created'] })
    t.strictSame(await store.get('u', 'Ann'), { name: 'Ann', telegram: '111111', tags: ['x'] }, 'the taken name kept its contact')
    t.strictSame(await store.findByTags('u', { any: ['intruder'] }), [], 'and the refused contact\'s tags index nothing')
    t.strictSame(names(await store.list('u')), ['Ann', 'Bea', 'Cid'])
    t.strictSame(await store.writeBatch('u', [{ name: 'Ann', telegram: '111111', tags: ['x'] }], { mode: 'create', allOrNothing: false }),
      { written: true, outcomes: ['taken'] }, 'the very same contact is taken too: create never replaces')
  })

  t.test('writeBatch fills a book to its limit in the order given, and still replaces known names', async (t) => {
    const store = await makeStore(t, { maxContacts: 4 })
    await store.create('u', { name: 'A' })
    await store.create('u', { name: 'B' })
    const result = await store.writeBatch('u', [
      { name: 'N1' }, { name: 'A', telegram: '1' }, { name: 'N2' }, { name: 'N3' }, { name: 'B', viber: 'b' }, { name: 'N4' }
    ], { mode: 'upsert', allOrNothing: false })
    t.strictSame(result, { written: true, outcomes: ['created', 'updated', 'created', 'full', 'updated', 'full'] }, 'the first new names take the room')
    t.strictSame(await store.list('u'), [{ name: 'A', telegram: '1' }, { name: 'B', viber: 'b' }, { name: 'N1' }, { name: 'N2' }])
    t.equal(await store.count('u'), 4)
    await t.rejects(store.create('u', { name: 'N5' }), { code: 'CONTACT_LIMIT_REACHED' }, 'the book is full for every other write too')
  })

  t.test('writeBatch: batches asked for at once are applied in the order asked', async (t) => {
    const store = await makeStore(t, { maxContacts: 5 })
    const results = await Promise.all([1, 2, 3].map(async (b) =>
      await store.writeBatch('u', [{ name: `b${b}-1`, tags: ['t'] }, { name: `b${b}-2` }], { mode: 'upsert', allOrNothing: false })))
    t.strictSame(results.map((r) => r.outcomes), [['created', 'created'], ['created', 'created'], ['created', 'full']],
      'the first batches asked for took the room')
    t.strictSame(names(await store.list('u')), ['b1-1', 'b1-2', 'b2-1', 'b2-2', 'b3-1'])
  })

  t.test('writeBatch all or nothing: one refused contact and none is written; none refused and all are', async (t) => {
    const store = await makeStore(t, { maxContacts: 3 })
    await store.create('u', { name: 'A', tags: ['x'] })
    const before = await store.list('u')

    const taken = await store.writeBatch('u', [{ name: 'B', tags: ['x'] }, { name: 'A', viber: 'a' }], { mode: 'create', allOrNothing: true })
    t.strictSame(taken, { written: false, outcomes: ['created', 'taken'] }, 'what would have become of each')
    const full = await store.writeBatch('u', [{ name: 'A', viber: 'a' }, { name: 'B' }, { name: 'C' }, { name: 'D' }], { mode: 'upsert', allOrNothing: true })
    t.strictSame(full, { written: false, outcomes: ['updated', 'created', 'created', 'full'] })
    t.strictSame(await store.list('u'), before, 'nothing of either batch was written')
    t.strictSame(names(await store.findByTags('u', { any: ['x'] })), ['A'], 'nor indexed')

    t.strictSame(await store.writeBatch('u', [{ name: 'A', viber: 'a' }, { name: 'B' }, { name: 'C' }], { mode: 'upsert', allOrNothing: true }),
      { written: true, outcomes: ['updated', 'created', 'created'] })
    t.strictSame(await store.list('u'), [{ name: 'A', viber: 'a' }, { name: 'B' }, { name: 'C' }])
  })

  t.test('writeBatch: a name twice is refused whole; an empty batch does nothing', async (t) => {
    const store = await makeStore(t)
    await t.rejects(store.writeBatch('u', [{ name: 'A' }, { name: 'B' }, { name: 'A', telegram: '1' }], { mode: 'upsert', allOrNothing: false }),
      /names each contact once/)
    t.strictSame(await store.list('u'), [], 'nothing was written')
    t.strictSame(await store.writeBatch('u', [], { mode: 'create', allOrNothing: true }), { written: true, outcomes: [] })
    t.equal(await store.count('u'), 0)
  })

  t.test('writeBatch of 5,000 contacts in one step, names of any script', async (t) => {
    const store = await makeStore(t)
    const many: Contact[] = Array.from({ length: 5000 }, (_, i) => ({
      name: `${['Лера', '山田', 'a"b', 'x'][i % 4]} ${i}`,
      telegram: String(1_000_000 + i),
      tags: ['all', `mod${i % 7}`]
    }))
    const result = await store.writeBatch('u', many, { mode: 'create', allOrNothing: true })
    t.equal(result.written, true)
    t.ok(result.outcomes.length === 5000 && result.outcomes.every((o) => o === 'created'), 'all 5,000 created')
    t.equal(await store.count('u'), 5000)
    t.strictSame(await store.list('u'), sorted(many), 'each as given')
    t.equal((await store.findByTags('u', { any: ['all'] })).length, 5000)
    t.strictSame(sorted(await store.findByTags('u', { all: ['all', 'mod3'] })), sorted(many.filter((_, i) => i % 7 === 3)))
    const retagged = many.map((c, i) => ({ ...c, tags: i % 2 === 0 ? ['all'] : ['odd'] }))
    const again = await store.writeBatch('u', retagged, { mode: 'upsert', allOrNothing: false })
    t.ok(again.outcomes.every((o) => o === 'updated'), 'all 5,000 updated')
    t.equal((await store.findByTags('u', { any: ['all'] })).length, 2500, 'the tags that went are unindexed')
    t.equal((await store.findByTags('u', { any: ['mod3'] })).length, 0)
    t.equal((await store.findByTags('u', { any: ['odd'] })).length, 2500)
  })

  t.test('writeBatch, property: any book, any batch, any mode and limit: the outcomes and the book are the plain model\'s', async (t) => {
    const store = await makeStore(t)
    const maxContacts = 6
    const limited = await makeStore(t, { maxContacts })
    const contact = fc.record({
      name: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'),
      telegram: fc.option(fc.constantFrom('1001', '1002'), { nil: undefined }),
      viber: fc.option(fc.constantFrom('', 'v1'), { nil: undefined }),
      tags: fc.option(fc.subarray(['x', 'y', 'z']).chain((tags) => fc.shuffledSubarray(tags, { minLength: tags.length })), { nil: undefined }),
      timezone: fc.option(fc.constantFrom('Europe/Moscow', 'Asia/Tokyo'), { nil: undefined })
    }, { requiredKeys: ['name'] })
    const distinct = fc.uniqueArray(contact, { selector: (c) => c.name, maxLength: 8 })
    let run = 0
    await fc.assert(fc.asyncProperty(distinct, fc.array(distinct, { minLength: 1, maxLength: 3 }), fc.boolean(),
      fc.array(fc.record({ mode: fc.constantFrom('upsert' as const, 'create' as const), allOrNothing: fc.boolean() }), { minLength: 3, maxLength: 3 }),
      async (initial, batches, useLimit, options) => {
        const user = `p${run++}`
        const target = useLimit ? limited : store
        const max = useLimit ? maxContacts : Number.POSITIVE_INFINITY
        let book = new Map<string, Contact>()
        for (const c of initial.slice(0, useLimit ? maxContacts : undefined)) {
          await target.create(user, c)
          book.set(c.name, compactContact(c))
        }
        for (const [i, batch] of batches.entries()) {
          const option = options[i]!
          const model = modelBatch(book, batch, option, max)
          const result = await target.writeBatch(user, batch, option)
          if (JSON.stringify(result) !== JSON.stringify({ written: model.written, outcomes: model.outcomes })) {
            throw new Error(`batch ${i} (${JSON.stringify(option)}): ${JSON.stringify(result)}, the model says ${JSON.stringify(model)}`)
          }
          book = model.book
        }
        const want = [...book.values()].sort(byName)
        const listed = await target.list(user)
        if (JSON.stringify(listed) !== JSON.stringify(want)) throw new Error(`the book ${JSON.stringify(listed)}, the model's ${JSON.stringify(want)}`)
        const paged = (await walk(target, user, 3)).flat()
        if (JSON.stringify(paged) !== JSON.stringify(want)) throw new Error(`the pages ${JSON.stringify(paged)}`)
        for (const tag of ['x', 'y', 'z']) {
          const found = names(sorted(await target.findByTags(user, { any: [tag] })))
          const tagged = names(want.filter((c) => c.tags?.includes(tag)))
          if (found.join() !== tagged.join()) throw new Error(`tag ${tag}: ${found.join()}, the model's ${tagged.join()}`)
        }
        if (await target.count(user) !== want.length) throw new Error('count')
      }), { numRuns: 40 })
    t.pass('40 runs of up to three batches agree with the model')
  })

  t.test('count: the contacts of one user\'s book', async (t) => {
    const store = await makeStore(t)
    t.equal(await store.count('u'), 0, 'an empty book')
    for (const name of ['A', 'B', 'C']) await store.create('u', { name })
    await store.create('other', { name: 'A' })
    t.equal(await store.count('u'), 3)
    await store.remove('u', 'B')
    t.equal(await store.count('u'), 2, 'a removed contact is not counted')
  })
}
