/**
 * 7. Import: a CSV file of BENCH_IMPORT_ROWS contacts (100,000: a whole
 * book; every column filled, two tags each) through POST /v1/contacts/import
 * into a new book, from the request to the answer (target < 5 s), and the
 * same file again into the same book (every row unchanged). The service runs
 * with ROLE=api; each import goes to a book of its own, BENCH_IMPORT_REPEATS
 * times, and the median is reported.
 *
 * Baseline: the bare Redis write of the same records from this process, with
 * nothing checked and nothing read: for each 1,000 of them, one HSET of their
 * JSON into the book's hash, one ZADD into the name index and one per tag
 * index, all in one pipeline: the least the same book costs Redis.
 */
import { request } from 'undici'
import { redisKeys } from '../src/redis-keys.js'
import { startService } from './processes.js'
import { compare, type Section } from './report.js'
import { benchContact } from './routes.js'
import type { Settings } from './settings.js'
import { dropPrefix, median, redisClient, round, scenarioPrefix } from './support.js'

const TARGET_ROWS = 100_000
const TARGET_MS = 5000
const TAGS = (i: number) => ['all', `group-${i % 10}`]
const TIME_ZONE = 'Europe/Moscow'

/** The contacts of the file, as the book will hold them. */
function records (rows: number) {
  return Array.from({ length: rows }, (_, i) => ({ ...benchContact(i), tags: TAGS(i), timezone: TIME_ZONE }))
}

function csvOf (contacts: ReturnType<typeof records>): string {
  const lines = contacts.map((c) => `${c.name},${c.telegram},${c.whatsapp},${c.viber},${c.tags.join(';')},${c.timezone}`)
  return `name,telegram,whatsapp,viber,tags,timezone\n${lines.join('\n')}\n`
}

interface Counts { rows: number, created: number, updated: number, unchanged: number, failed: number }

/** One import; its time from the request to the last byte of the answer, and the answer's counts. */
async function timedImport (base: string, user: string, csv: string): Promise<{ ms: number, counts: Counts }> {
  const started = performance.now()
  const res = await request(`${base}/v1/contacts/import`, { method: 'POST', headers: { 'content-type': 'text/csv', 'x-user-name': user }, body: csv })
  const text = await res.body.text()
  const ms = performance.now() - started
  if (res.statusCode !== 200) throw new Error(`POST /v1/contacts/import: ${res.statusCode} ${text.slice(0, 500)}`)
  return { ms, counts: (JSON.parse(text) as { counts: Counts }).counts }
}

export async function runImport (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const SECTION = 'import'
  const { rows, repeats } = settings.import
  const contacts = records(rows)
  const csv = csvOf(contacts)
  const redis = redisClient('bench-import')

  // Baseline first, with nothing else running.
  const barePrefix = scenarioPrefix('import-bare')
  const bareMs: number[] = []
  for (let r = 0; r < repeats; r++) {
    const started = performance.now()
    const pipeline = redis.pipeline()
    // The service's own key layout, so that only the work differs.
    const keys = redisKeys(barePrefix)
    const user = `u${r}`
    const hash = keys.contacts(user)
    for (let i = 0; i < contacts.length; i += 1000) {
      const slice = contacts.slice(i, i + 1000)
      pipeline.hset(hash, ...slice.flatMap(({ name, ...rest }) => [name, JSON.stringify(rest)]))
      pipeline.zadd(keys.contactNames(user), ...slice.flatMap((c) => [0, c.name]))
      const byTag = new Map<string, string[]>()
      for (const c of slice) {
        for (const tag of c.tags) {
          const names = byTag.get(tag)
          if (names === undefined) byTag.set(tag, [c.name])
          else names.push(c.name)
        }
      }
      for (const [tag, names] of byTag) pipeline.zadd(keys.contactTag(user, tag), ...names.flatMap((name) => [0, name]))
    }
    const results = await pipeline.exec()
    bareMs.push(performance.now() - started)
    const failed = results?.find(([err]) => err !== null)?.[0]
    if (failed != null) throw failed
    if (await redis.hlen(hash) !== rows) throw new Error(`the bare write left ${await redis.hlen(hash)} contacts, not ${rows}`)
  }
  await dropPrefix(redis, barePrefix)

  const prefix = scenarioPrefix('import')
  const service = await startService(prefix, undefined, { ROLE: 'api' })
  const newMs: number[] = []
  const againMs: number[] = []
  try {
    for (let r = 0; r < repeats; r++) {
      const user = `bench-import-${r}`
      const fresh = await timedImport(service.url, user, csv)
      if (fresh.counts.created !== rows) throw new Error(`the import created ${fresh.counts.created} of ${rows}: ${JSON.stringify(fresh.counts)}`)
      newMs.push(fresh.ms)
      const again = await timedImport(service.url, user, csv)
      if (again.counts.unchanged !== rows) throw new Error(`the second import left ${again.counts.unchanged} of ${rows} unchanged: ${JSON.stringify(again.counts)}`)
      againMs.push(again.ms)
    }
  } finally {
    await service.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const baseline = { name: 'bare pipelined HSET/ZADD of the same records', value: median(bareMs) }
  const targeted = rows === TARGET_ROWS
  const detail = { rows, bytes: Buffer.byteLength(csv), newMs: newMs.map((v) => round(v, 1)), againMs: againMs.map((v) => round(v, 1)), bareMs: bareMs.map((v) => round(v, 1)) }
  return {
    section: SECTION,
    figures: [
      compare(SECTION, `import ${rows.toLocaleString('en-US')} contacts from CSV into a new book: request to answer`, median(newMs), 'ms', baseline, {
        ...(targeted && { target: `< ${TARGET_MS} ms`, met: median(newMs) < TARGET_MS }),
        detail
      }),
      compare(SECTION, 'the same file again (every row unchanged): request to answer', median(againMs), 'ms', baseline)
    ],
    notes: [
      `${rows.toLocaleString('en-US')} rows, ${round(Buffer.byteLength(csv) / 1024 / 1024, 1)} MB of CSV, every column filled (two tags, a time zone); median of ${repeats}, each into a book of its own; service ROLE=api`,
      'baseline: a pipelined HSET (the contacts\' JSON), ZADD (names) and ZADD per tag of the same records, 1,000 a command, from the bench process; ratio = ours / bare (higher is slower)'
    ]
  }
}
