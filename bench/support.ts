/** What the benchmarks share: free loopback ports, calls to the running service, Redis and process figures. */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { ROUTES, benchContact, type ApiCall } from './routes.js'

export { sleep }

export { freePort } from '../scripts/free-port.js'

/** A JSON request; anything but 200 is an error (a benchmark must not count failures as work). */
export async function callJson (url: string, method: 'POST' | 'PUT' | 'GET', body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) })
  const answer = await res.body.json() as Record<string, unknown>
  if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${JSON.stringify(answer)}`)
  return answer
}

/** One of the calls in routes.ts against the service at `base`; anything but 2xx is an error. */
export async function call (base: string, { method, path, headers, body }: ApiCall): Promise<Record<string, unknown>> {
  const res = await request(base + path, { method, headers, ...(body !== undefined && { body }) })
  const text = await res.body.text()
  if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 500)}`)
  return text === '' ? {} : JSON.parse(text) as Record<string, unknown>
}

/** Adds contacts `from` .. `from + count - 1` (benchContact) to `user`'s book, 50 requests at a time. */
export async function seedContacts (base: string, user: string, count: number, from = 0): Promise<string[]> {
  const names: string[] = []
  for (let i = from; i < from + count; i += 50) {
    const batch = Array.from({ length: Math.min(50, from + count - i) }, (_, j) => benchContact(i + j))
    await Promise.all(batch.map((c) => call(base, ROUTES.createContact(user, c))))
    names.push(...batch.map((c) => c.name))
  }
  return names
}

/** Waits until `check` is true, polling every `everyMs`; throws after `timeoutMs` naming what it waited for. */
export async function waitFor (what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)
    await sleep(everyMs)
  }
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : ((sorted[mid - 1]! + sorted[mid]!) / 2)
}

/** Rounded to `digits` decimals. */
export function round (value: number, digits = 0): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** The Redis of the run (scripts/with-redis.sh sets REDIS_URL). */
export function redisUrl (): string {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') throw new Error('REDIS_URL is not set: run the benchmarks through scripts/with-redis.sh (npm run bench)')
  return url
}

/** A client for the bench itself; `maxRetriesPerRequest: null` as BullMQ workers require. */
export function redisClient (name: string): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null, connectionName: name })
}

/** Redis's `used_memory` (bytes), from INFO memory. */
export async function redisUsedMemory (redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  const match = /^used_memory:(\d+)/m.exec(info)
  if (match === null) throw new Error('INFO memory has no used_memory')
  return Number(match[1])
}

/** Deletes every key under `prefix:` (each scenario cleans up after itself, so Redis stays small for the next). */
export async function dropPrefix (redis: Redis, prefix: string): Promise<number> {
  let dropped = 0
  const stream = redis.scanStream({ match: `${prefix}:*`, count: 1000 })
  for await (const keys of stream as AsyncIterable<string[]>) {
    if (keys.length === 0) continue
    dropped += keys.length
    await redis.unlink(...keys)
  }
  return dropped
}

/** A process's resident set size and its peak so far, in bytes (Linux /proc). */
export function processMemory (pid: number): { rss: number, peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    if (match === null) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(match[1]) * 1024
  }
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') }
}

/** A unique key prefix per scenario, so scenarios never see each other's keys. */
export function scenarioPrefix (scenario: string): string {
  return `bench-${scenario}-${Date.now().toString(36)}`
}
