/**
 * POST /v1/contacts/import and GET /v1/contacts/export through the real app
 * (real Redis): what a client sees for good files, bad rows, bad files,
 * modes, all or nothing, a full book and Idempotency-Key; and that an export
 * imports back to the same book, as CSV and as NDJSON.
 */
import t from 'tap'
import { request } from 'undici'
import type { Contact } from '../../src/contacts/contact-store.js'
import { addContacts, client, listAll, type Client } from '../helpers/api.js'
import { build } from '../helpers/app.js'

/** A contact as GET /v1/contacts/{name} answers it: with the health of each address (none marked dead here). */
const withHealth = <C extends { name: string, telegram?: string, whatsapp?: string, viber?: string }>(contact: C) => ({
  ...contact,
  health: Object.fromEntries((['telegram', 'whatsapp', 'viber'] as const).filter((m) => contact[m] !== undefined).map((m) => [m, { reachable: true }]))
})

type Json = Record<string, any>

const CSV = { 'content-type': 'text/csv' }
const NDJSON = { 'content-type': 'application/x-ndjson' }

const importCsv = async (api: Client, csv: string, query = '', headers: Record<string, string> = {}) =>
  await api('POST', `/v1/contacts/import${query}`, csv, { headers: { ...CSV, ...headers } })
const book = async (api: Client): Promise<Contact[]> => await listAll<Contact>(api, '/v1/contacts', 'contacts', 1000)

t.test('a CSV file: columns in any order and case, quoted cells, tags in one cell; each row reported', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const csv = '\uFEFFName,TimeZone,Tags,WhatsApp,telegram\r\n' +
    'Artem,Europe/Moscow,family;team:core,+799200828615,ArtemZaitsev\r\n' +
    '"Lera, the boss",,team,,@lera_b\r\n' +
    '"say ""hi""",," a, b;c ",,123456789\r\n' +
    '\r\n' +
    ' padded , ,,+15551234567,\r\n'
  const res = await importCsv(api, csv)
  t.equal(res.statusCode, 200, res.body)
  t.strictSame(res.json(), {
    written: true,
    counts: { rows: 4, created: 4, updated: 0, unchanged: 0, failed: 0 },
    rows: { created: [[1, 4]], updated: [], unchanged: [], failed: [] },
    errors: []
  }, 'four rows (the blank line is none), all created')
  t.strictSame(await book(api), [
    { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', tags: ['family', 'team:core'], timezone: 'Europe/Moscow' },
    { name: 'Lera, the boss', telegram: '@lera_b', tags: ['team'] },
    { name: 'padded', whatsapp: '+15551234567' },
    { name: 'say "hi"', telegram: '123456789', tags: ['a', 'b', 'c'] }
  ], 'each contact as a POST would have stored it; unquoted cells are trimmed')

  const again = await importCsv(api, 'name,telegram\nArtem,ArtemZaitsev\nNew,42\nlera,\n"Lera, the boss",@lera_b\n')
  t.strictSame(again.json(), {
    written: true,
    counts: { rows: 4, created: 2, updated: 2, unchanged: 0, failed: 0 },
    rows: { created: [[2, 3]], updated: [[1, 1], [4, 4]], unchanged: [], failed: [] },
    errors: []
  }, 'a known name is replaced (mode upsert); names match exactly')
  t.strictSame((await api('GET', '/v1/contacts/Artem')).json(), withHealth({ name: 'Artem', telegram: 'ArtemZaitsev' }),
    'the row replaced the whole contact, as PUT does: its tags, WhatsApp and time zone are gone')
})

t.test('bad rows: each error names its row and field, the good rows are written', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const csv = [
    'name,telegram,whatsapp,viber,tags,timezone',
    'Good1,1001,,,,',
    'BadPhone,,12345,,,',
    'BadZone,,,,,Mars/Olympus',
    'BadTag,,,,"good bad!",',
    `${'x'.repeat(101)},1002,,,,`,
    ',1003,,,,',
    'Wide,1004,,,,,extra',
    'Good1,1005,,,,',
    'BadViber,,,"not a viber id!",,',
    'Good2,,+15551234567,,,Asia/Tokyo'
  ].join('\n')
  const res = await importCsv(api, csv)
  t.equal(res.statusCode, 200, 'a file with bad rows is imported: the good rows are written')
  const report = res.json()
  t.same(report.counts, { rows: 10, created: 2, updated: 0, unchanged: 0, failed: 8 })
  t.same(report.rows, { created: [[1, 1], [10, 10]], updated: [], unchanged: [], failed: [[2, 9]] })
  t.match(report.errors, [
    { row: 2, name: 'BadPhone', code: 'INVALID_FIELD', field: 'whatsapp', message: /E\.164/ },
    { row: 3, name: 'BadZone', code: 'INVALID_FIELD', field: 'timezone', message: /IANA time zone/ },
    { row: 4, name: 'BadTag', code: 'INVALID_FIELD', field: 'tags[1]', message: /must match pattern/ },
    { row: 5, code: 'INVALID_FIELD', field: 'name', message: /more than 100 characters/ },
    { row: 6, code: 'INVALID_FIELD', field: 'name', message: 'is required' },
    { row: 7, code: 'INVALID_ROW', message: 'has 7 cells; the header names 6 columns' },
    { row: 8, name: 'Good1', code: 'DUPLICATE_NAME', field: 'name', message: '"Good1" is in row 1 too; a name may be in one row only' },
    { row: 9, name: 'BadViber', code: 'INVALID_FIELD', field: 'viber' }
  ])
  t.equal(report.errors.length, 8)
  // The single create says the same of the same contact.
  const single = (await api('POST', '/v1/contacts', { name: 'BadPhone', whatsapp: '12345' })).json()
  t.equal(single.error.details[0].message, report.errors[0].message, 'the message a single create gives')
  t.strictSame((await book(api)).map((c) => c.name), ['Good1', 'Good2'], 'only the good rows are in the book')
  t.strictSame((await api('GET', '/v1/contacts/Good1')).json(), withHealth({ name: 'Good1', telegram: '1001' }), 'the first of a repeated name, not the repeat')

  const ndjson = [
    '{"name": "N1", "viber": "n1-viber"}',
    '',
    'not json',
    '42',
    '{"name": "N2", "telegram": 5}',
    '{"name": "N3", "nickname": "x"}',
    '{"name": "N4", "tags": ["a", "a", "b"]}'
  ].join('\n')
  const lines = await api('POST', '/v1/contacts/import', ndjson, { headers: NDJSON })
  t.equal(lines.statusCode, 200)
  t.match(lines.json(), {
    counts: { rows: 6, created: 2, failed: 4 },
    rows: { created: [[1, 1], [7, 7]], failed: [[3, 6]] },
    errors: [
      { row: 3, code: 'INVALID_ROW', message: /^is not JSON/ },
      { row: 4, code: 'INVALID_FIELD', message: 'must be object' },
      { row: 5, name: 'N2', code: 'INVALID_FIELD', field: 'telegram', message: 'must be string' },
      { row: 6, name: 'N3', code: 'INVALID_FIELD', message: 'has an unknown field "nickname"' }
    ]
  }, 'NDJSON rows are lines: the blank line 2 is skipped and keeps the numbering')
  t.notOk('field' in lines.json().errors[1], 'a row that is no object has no field at fault')
  t.strictSame((await api('GET', '/v1/contacts/N4')).json(), withHealth({ name: 'N4', tags: ['a', 'b'] }), 'a repeated tag is kept once, as a POST keeps it')

  const array = await api('POST', '/v1/contacts/import', [{ name: 'J1', whatsapp: '+15550000001' }, { name: 'J2', whatsapp: 'nope' }, 'J3'])
  t.match(array.json(), { counts: { rows: 3, created: 1, failed: 2 }, errors: [{ row: 2, field: 'whatsapp' }, { row: 3, message: 'must be object' }] },
    'a JSON array: row n is item n')
})

t.test('mode create, all or nothing, a full book', async (t) => {
  const { app } = await build(t, { env: { MAX_CONTACTS_PER_USER: '5' } })
  const api = client(app, { user: 'alice' })
  await addContacts(api, [{ name: 'Ann', telegram: '1001' }, { name: 'Bea', telegram: '1002' }])

  const created = await importCsv(api, 'name,viber\nAnn,ann-viber\nCid,cid-viber\n', '?mode=create')
  t.equal(created.statusCode, 200)
  t.match(created.json(), {
    written: true,
    counts: { rows: 2, created: 1, failed: 1 },
    errors: [{ row: 1, name: 'Ann', code: 'CONTACT_EXISTS', field: 'name', message: 'a contact named "Ann" exists; mode upsert replaces it' }]
  })
  t.strictSame((await api('GET', '/v1/contacts/Ann')).json(), withHealth({ name: 'Ann', telegram: '1001' }), 'mode create left Ann as she was')

  const before = await book(api)
  const atomic = await importCsv(api, 'name,telegram\nDan,1004\nEve,bad id!\nFay,1006\n', '?all_or_nothing=true')
  t.equal(atomic.statusCode, 422, 'a bad row and all or nothing: refused')
  const body = atomic.json()
  t.equal(body.error.code, 'IMPORT_REFUSED')
  t.match(body.error.message, /^1 of 3 rows failed, so nothing was written/)
  t.match(body.error.details, [{ field: 'row 2: telegram' }], 'the error names the row and the field')
  t.same(body.report, {
    written: false,
    counts: { rows: 3, created: 0, updated: 0, unchanged: 0, failed: 1 },
    rows: { created: [], updated: [], unchanged: [], failed: [[2, 2]] },
    errors: [{ row: 2, name: 'Eve', code: 'INVALID_FIELD', field: 'telegram', message: body.report.errors[0].message }]
  })
  t.strictSame(await book(api), before, 'nothing was written')

  const taken = await importCsv(api, 'name\nDan\nBea\n', '?mode=create&all_or_nothing=true')
  t.equal(taken.statusCode, 422)
  t.match(taken.json().report.errors, [{ row: 2, code: 'CONTACT_EXISTS' }], 'a name the book has, in mode create')
  t.strictSame(await book(api), before, 'nothing was written')

  // Three contacts in the book, room for two more.
  const full = await importCsv(api, 'name\nD1\nAnn\nD2\nD3\nD4\n')
  t.match(full.json(), {
    written: true,
    counts: { rows: 5, created: 2, updated: 1, failed: 2 },
    rows: { created: [[1, 1], [3, 3]], updated: [[2, 2]], failed: [[4, 5]] },
    errors: [{ row: 4, name: 'D3', code: 'CONTACT_LIMIT_REACHED', message: /at most 5 contacts/ }, { row: 5, name: 'D4' }]
  }, 'the first new names take the room; a known name is still replaced')
  t.equal((await book(api)).length, 5)
  const fuller = await importCsv(api, 'name,telegram\nAnn,7\nZed,8\n', '?all_or_nothing=true')
  t.equal(fuller.statusCode, 422)
  t.match(fuller.json().report.errors, [{ row: 2, code: 'CONTACT_LIMIT_REACHED' }])
  t.strictSame((await api('GET', '/v1/contacts/Ann')).json(), withHealth({ name: 'Ann' }), 'Ann was not replaced either')
})

t.test('files that cannot be read are refused whole, naming what is wrong, and write nothing', async (t) => {
  const { app } = await build(t, { env: { IMPORT_BODY_LIMIT: '4096' } })
  const api = client(app, { user: 'alice' })
  const cases: Array<[string, string | object, Record<string, string>, number, string, RegExp]> = [
    ['an empty CSV', '', CSV, 400, 'header', /is missing/],
    ['an unknown column', 'name,phone\nA,1\n', CSV, 400, 'header', /names the column "phone", not a field of a contact/],
    ['a column twice', 'name,Name\nA,B\n', CSV, 400, 'header', /names the column "name" twice/],
    ['no name column', 'telegram\n1001\n', CSV, 400, 'header', /has no column "name"/],
    ['an unclosed quote', 'name\nA\n"B\n', CSV, 400, 'body', /is not valid CSV at line 3/],
    ['a JSON object', { name: 'A' }, {}, 400, 'body', /must be a JSON array of contacts/],
    ['broken JSON', '[{"name": "A"', { 'content-type': 'application/json' }, 400, 'body', /is not JSON/],
    ['a body over IMPORT_BODY_LIMIT', `name\n${'A\n'.repeat(3000)}`, CSV, 413, '', /larger than 4096 bytes \(IMPORT_BODY_LIMIT\)/],
    ['another charset', 'name\nA\n', { 'content-type': 'text/csv; charset=latin1' }, 415, '', /must be UTF-8, not latin1/],
    ['plain text', 'name\nA\n', { 'content-type': 'text/plain' }, 415, '', /Unsupported Media Type|text\/plain/i]
  ]
  for (const [what, payload, headers, status, field, message] of cases) {
    const res = await api('POST', '/v1/contacts/import', payload, { headers })
    t.equal(res.statusCode, status, `${what}: ${status}`)
    const { error } = res.json()
    t.match(error.message, message, `${what}: ${error.message}`)
    if (field !== '') t.equal(error.details?.[0]?.field, field, `${what}: names ${field}`)
  }
  t.equal((await api('POST', '/v1/contacts/import', 'name\nA\n', { headers: { 'content-type': 'text/csv; charset=UTF-8' } })).statusCode, 200,
    'charset=UTF-8 is fine')
  t.strictSame((await book(api)).map((c) => c.name), ['A'], 'only that last file wrote anything')
  const query = await api('POST', '/v1/contacts/import?mode=replace', 'name\nB\n', { headers: CSV })
  t.equal(query.statusCode, 400)
  t.equal(query.json().error.details[0].field, 'query.mode')
  t.equal((await api('POST', '/v1/contacts/import?all_or_nothing=maybe', 'name\nB\n', { headers: CSV })).statusCode, 400)
})

t.test('at most 100,000 rows: exactly that many are imported, one more is refused before anything is written', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const rows = (n: number) => `name,telegram\n${Array.from({ length: n }, (_, i) => `c${i},${1_000_000 + i}`).join('\n')}\n`
  const over = await importCsv(api, rows(100_001))
  t.equal(over.statusCode, 413)
  t.match(over.json().error, { code: 'TOO_MANY_ROWS', message: /more than 100,000 rows/ })
  t.equal((await api('GET', '/v1/contacts?limit=1')).json().contacts.length, 0, 'nothing written')
  const whole = await importCsv(api, rows(100_000))
  t.equal(whole.statusCode, 200)
  t.strictSame(whole.json().counts, { rows: 100_000, created: 100_000, updated: 0, unchanged: 0, failed: 0 })
  t.strictSame(whole.json().rows.created, [[1, 100_000]], 'a compact answer: one range')
  t.ok(whole.body.length < 300, `${whole.body.length} bytes`)
  t.strictSame((await api('GET', '/v1/contacts/c99999')).json(), withHealth({ name: 'c99999', telegram: '1099999' }))
})

t.test('an export imports back to the same book, as CSV and as NDJSON', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  const contacts = [
    { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==', tags: ['family', 'team:core'], timezone: 'Europe/Moscow' },
    { name: ' padded ', telegram: '123456789' },
    { name: 'comma, "quotes"; semicolon', tags: ['x'] },
    { name: 'Лера 😀', viber: 'lera-viber', tags: ['семья', '家族'], timezone: 'America/Argentina/Buenos_Aires' },
    { name: '=1+2', whatsapp: '+15551234567' },
    { name: 'tags only', tags: ['b', 'a'] },
    { name: 'bare' }
  ]
  await addContacts(alice, contacts)
  for (let i = 0; i < 1500; i++) contacts.push({ name: `bulk ${String(i).padStart(4, '0')}`, telegram: String(2_000_000 + i) })
  t.equal((await alice('POST', '/v1/contacts/import', contacts.slice(7))).json().counts.created, 1500, 'and 1,500 more, over pages of the export')
  const original = await book(alice)
  t.equal(original.length, 1507)

  const csv = await alice('GET', '/v1/contacts/export?format=csv')
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv; charset=utf-8/)
  t.equal(csv.headers['content-disposition'], 'attachment; filename="contacts.csv"')
  const lines = csv.body.split('\n')
  t.equal(lines[0], 'name,telegram,whatsapp,viber,tags,timezone,operator', 'the header names the columns')
  t.ok(lines.includes('" padded ",123456789,,,,,'), 'a name with its spaces is quoted, so a reader keeps them')
  t.ok(lines.includes('"comma, ""quotes""; semicolon",,,,x,,'), 'quotes and commas are quoted')
  t.ok(lines.includes('Artem,ArtemZaitsev,+799200828615,jc9HsWTZ2Yf2NkRZ8KcNug==,family;team:core,Europe/Moscow,'), 'tags joined by ;')
  t.equal(lines.length, 1 + 1507 + 1, 'a line a contact, after the header (and a final newline)')

  const ndjson = await alice('GET', '/v1/contacts/export?format=ndjson')
  t.match(ndjson.headers['content-type'], /^application\/x-ndjson; charset=utf-8/)
  t.strictSame(ndjson.body.trimEnd().split('\n').map((line) => JSON.parse(line)), original, 'NDJSON: a contact a line, as the listing shows it, in name order')

  for (const [format, file, type] of [['csv', csv.body, CSV], ['ndjson', ndjson.body, NDJSON]] as const) {
    const bob = client(app, { user: `bob-${format}` })
    const imported = await bob('POST', '/v1/contacts/import', file, { headers: type })
    t.strictSame(imported.json().counts, { rows: 1507, created: 1507, updated: 0, unchanged: 0, failed: 0 }, `${format}: every row created`)
    t.strictSame(await book(bob), original, `${format}: into another book, the same book`)
    const back = await alice('POST', '/v1/contacts/import', file, { headers: type })
    t.strictSame(back.json().rows, { created: [], updated: [], unchanged: [[1, 1507]], failed: [] }, `${format}: into its own book, every row unchanged`)
    t.strictSame(await book(alice), original)
  }

  const empty = client(app, { user: 'nobody' })
  t.equal((await empty('GET', '/v1/contacts/export?format=csv')).body, 'name,telegram,whatsapp,viber,tags,timezone,operator\n', 'an empty book: the header alone')
  t.equal((await empty('GET', '/v1/contacts/export?format=ndjson')).body, '', 'or nothing')
  const carol = client(app, { user: 'carol' })
  t.equal((await carol('POST', '/v1/contacts/import', (await empty('GET', '/v1/contacts/export?format=csv')).body, { headers: CSV })).json().counts.rows, 0,
    'which imports as no rows')
})

t.test('the export is streamed, a page of the book at a time', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  await api('POST', '/v1/contacts/import', Array.from({ length: 2500 }, (_, i) => ({ name: `c${i}`, telegram: String(1_000_000 + i) })), { expectStatus: 200 })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await request(`${base}/v1/contacts/export?format=ndjson`, { headers: { 'x-user-name': 'alice' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['transfer-encoding'], 'chunked', 'no content-length: the answer is written as it is read')
  t.notOk('content-length' in res.headers)
  let chunks = 0
  let text = ''
  for await (const chunk of res.body) {
    chunks++
    text += String(chunk)
  }
  t.ok(chunks > 1, `${chunks} chunks`)
  t.equal(text.trimEnd().split('\n').length, 2500)
})

t.test('GET /v1/contacts/export without a format is the contact named "export"', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const missing = await api('GET', '/v1/contacts/export')
  t.equal(missing.statusCode, 404)
  t.match(missing.json().error.message, /no contact named "export" \(to export the book, add \?format=csv/)
  await addContacts(api, [{ name: 'export', telegram: '1001' }])
  t.strictSame((await api('GET', '/v1/contacts/export')).json(), { name: 'export', telegram: '1001' })
  t.equal((await api('PATCH', '/v1/contacts/export', { tags: ['x'] })).statusCode, 200, 'and the other routes of that name are as they were')
  t.equal((await api('GET', '/v1/contacts/export?format=xml')).statusCode, 400)
})

t.test('Idempotency-Key: the same file answers the first answer; a refused one keeps no key', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const key = { 'idempotency-key': 'import-1' }
  const first = await importCsv(api, 'name\nA\nB\n', '', key)
  t.equal(first.statusCode, 200)
  await api('DELETE', '/v1/contacts/A', undefined, { expectStatus: 204 })
  const replay = await importCsv(api, 'name\nA\nB\n', '', key)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.strictSame(replay.json(), first.json(), 'the first answer')
  t.equal((await api('GET', '/v1/contacts/A')).statusCode, 404, 'and nothing was imported again')
  const other = await importCsv(api, 'name\nA\nC\n', '', key)
  t.equal(other.statusCode, 422)
  t.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED')
  t.equal((await importCsv(api, 'name\nA\nB\n', '?mode=create', key)).json().error.code, 'IDEMPOTENCY_KEY_REUSED', 'other options are another request')

  const refusedKey = { 'idempotency-key': 'import-2' }
  t.equal((await importCsv(api, 'name,telegram\nD,bad!\n', '?all_or_nothing=true', refusedKey)).statusCode, 422)
  t.equal((await importCsv(api, 'name,telegram\nD,bad!\n', '?all_or_nothing=true', refusedKey)).headers['idempotent-replayed'], undefined,
    'a refused import keeps no key: the retry runs again')
})

t.test('with a file of bad rows only, the answer stays small: the first 1,000 errors and the count', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'alice' })
  const csv = `name,whatsapp\n${Array.from({ length: 5000 }, (_, i) => `c${i},nope`).join('\n')}\n`
  const report = (await importCsv(api, csv)).json() as Json
  t.equal(report.counts.failed, 5000)
  t.equal(report.errors.length, 1000)
  t.equal(report.errors_omitted, 4000)
  t.strictSame(report.rows.failed, [[1, 5000]], 'the ranges cover every failed row')
  t.equal(report.errors[999].row, 1000, 'the first 1,000, in row order')
})

t.test('an import without a file: 400 naming the body, nothing written', async (t) => {
  const { app } = await build(t)
  const api = client(app, { user: 'nofile' })
  const answer = await api('POST', '/v1/contacts/import')
  t.equal(answer.statusCode, 400)
  t.match(answer.json(), { error: { code: 'INVALID_FIELD', details: [{ field: 'body', message: /missing.*text\/csv/ }] } })
  t.match((await api('GET', '/v1/contacts', undefined, { expectStatus: 200 })).json(), { contacts: [] }, 'the book is still empty')
})
