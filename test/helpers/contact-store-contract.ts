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
import { byName, type Contact, type ContactStore } from '../../src/contacts/contact-store.js'

export type MakeStore = (t: Test) => Promise<ContactStore>

/** The property names of a contact, sorted: shows an absent id is really absent (not `undefined`, not ''). */
const keysOf = (contact: Contact | undefined): string[] => Object.keys(contact ?? {}).sort()
const sorted = (contacts: readonly Contact[]): Contact[] => [...contacts].sort(byName)
const names = (contacts: readonly Contact[]): string[] => contacts.map((c) => c.name)

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

  t.test('list returns every contact, sorted by name (UTF-16 code units, as byName)', async (t) => {
    const store = await makeStore(t)

    // Inserted in an order that is not the sorted one (a Redis hash this small keeps insertion order).
    const inputs = ['zed', 'ﬀ', 'Лера', 'alice', '😀x', 'Bob', 'a b', 'лера', 'Émile', 'Alice', 'ab', 'Ёж', 'bob', 'Zed', 'a']
    // By hand: ASCII upper case before lower case; 'a' < 'a b' < 'ab' (space is 0x20); Latin-1 before
    // Cyrillic; and '😀x' (surrogate 0xD83D) before 'ﬀ' (0xFB00), though U+1F600 > U+FB00 by code point.
    const expectedNames = ['Alice', 'Bob', 'Zed', 'a', 'a b', 'ab', 'alice', 'bob', 'zed', 'Émile', 'Ёж', 'Лера', 'лера', '😀x', 'ﬀ']

    // The hand-written order is the one that tells byName apart from the other obvious sorts.
    const byLocale = [...inputs].sort((a, b) => a.localeCompare(b, 'en'))
    const byCodePoint = [...inputs].sort((a, b) => {
      const x = [...a].map((c) => c.codePointAt(0) ?? 0)
      const y = [...b].map((c) => c.codePointAt(0) ?? 0)
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0)
      return x.length - y.length
    })
    t.notSame(byLocale, expectedNames, 'sanity: a locale sort would order these differently')
    t.notSame(byCodePoint, expectedNames, 'sanity: a code point sort would order these differently')

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
}
