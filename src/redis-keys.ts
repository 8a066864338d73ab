/**
 * Every Redis key the service uses, written once. The patterns below build
 * both the TypeScript key functions (`redisKeys(prefix)`) and the key helpers
 * the Lua scripts include (`luaKeyHelpers()`, as `--- @include "keys"`), so a
 * key renamed here is renamed everywhere and cannot drift.
 *
 * Every key starts with the configured prefix and `:`, so several
 * deployments (or tests) share one Redis. `<name>` is a parameter. A user
 * name has no `:` (see schemas/common.ts), so no part can make two users'
 * keys meet. docs/design.md describes what each key holds.
 */
export const KEY_PATTERNS = {
  /** hash  contact name -> JSON of the other fields (the Redis contact store) */
  contacts: 'contacts:<user>',
  /** zset  every contact name, all scores 0 (lex order: keyset pages) */
  contactNames: 'contact-names:<user>',
  /** zset  names of the contacts with that tag, all scores 0 */
  contactTag: 'contact-tag:<user>:<tag>',
  /** hash  one send request: user, text, times, counts per state */
  dispatch: 'dispatch:<dispatchId>',
  /** hash  one delivery: messenger, address, state, attempts... */
  delivery: 'delivery:<deliveryId>',
  /** zset  the user's dispatch ids, all scores 0 (lex = time order: keyset pages) */
  dispatches: 'dispatches:<user>',
  /** zset  the user's delivery ids in that finished state, scores 0 */
  finished: 'finished:<user>:<state>',
  /** hash  counts per state over all the user's deliveries */
  stats: 'stats:<user>',
  /** string  the delivery that sent this text to this address (expires with the dedup window) */
  dedup: 'dedup:<user>:<messenger>:<address>:<fingerprint>',
  /** string  JSON: a request's fingerprint and first answer (expires after 24 h) */
  idempotency: 'idempotency:<user>:<key>',
  /** set  users with delivery history (the retention sweep walks them) */
  users: 'users',
  /** hash  an account: created_at */
  user: 'user:<name>',
  /** zset  every account name, score 0 */
  userNames: 'user-names',
  /** zset  the account's API key ids, in the order they were made */
  userKeys: 'user-keys:<name>',
  /** hash  user, hash of the secret, created_at, label?, revoked_at? */
  apiKey: 'api-key:<keyId>',
  /** zset  dispatch ids whose jobs may not all be queued yet, by accept time */
  outbox: 'outbox',
  /**
   * hash  a message the messenger accepted: delivery, user (its receipts find the delivery
   * through it), and early receipts that came before the acceptance was recorded
   */
  receipt: 'receipt:<messenger>:<providerId>',
  /** hash  what a messenger told about an address: inbound_at (WhatsApp), subscribed_at, unsubscribed_at (Viber) */
  address: 'address:<messenger>:<address>'
} as const

/**
 * Prefixes under which libraries keep keys of their own: rate-limiter-flexible's
 * counters (`rate:<key id or client address>` for the window, `rate-burst:...`
 * for the burst) and BullMQ's queues (`q:<queue>:...`, one queue per
 * messenger, dispatches, maintenance).
 */
export const LIBRARY_PREFIXES = {
  rateLimit: 'rate',
  rateLimitBurst: 'rate-burst',
  queues: 'q'
} as const

type KeyName = keyof typeof KEY_PATTERNS

/** The parameter names of a pattern, in order: 'finished:<user>:<state>' -> ['user', 'state']. */
type Params<T extends string> = T extends `${string}<${infer Name}>${infer Rest}` ? [Name, ...Params<Rest>] : []

/** As many strings as there are parameters (mapped over a type parameter, so a tuple stays a tuple). */
type Strings<P extends string[]> = { [I in keyof P]: string }

/** A pattern without parameters is a key; one with parameters a function of them. */
type KeyOf<T extends string> = Params<T> extends [] ? string : (...values: Strings<Params<T>>) => string

export type RedisKeys = { [K in KeyName]: KeyOf<typeof KEY_PATTERNS[K]> } & {
  /** rate-limiter-flexible's `keyPrefix` of the window's counters (it adds `:<key>`). */
  rateLimit: string
  /** The same, of the burst's counters. */
  rateLimitBurst: string
  /** BullMQ's `prefix` option. */
  queuePrefix: string
  /** The prefix itself: scripts that derive keys take it as ARGV[1]. */
  prefix: string
}

/** A pattern split at its parameters: literal parts around them. */
function parse (pattern: string): { literals: string[], params: string[] } {
  const literals: string[] = []
  const params: string[] = []
  let rest = pattern
  for (let match = /<([A-Za-z]+)>/.exec(rest); match !== null; match = /<([A-Za-z]+)>/.exec(rest)) {
    literals.push(rest.slice(0, match.index))
    params.push(match[1]!)
    rest = rest.slice(match.index + match[0].length)
  }
  literals.push(rest)
  return { literals, params }
}

function keyFunction (prefix: string, pattern: string): string | ((...values: string[]) => string) {
  const { literals, params } = parse(pattern)
  const head = `${prefix}:${literals[0]!}`
  if (params.length === 0) return head
  return (...values: string[]) => {
    let key = head
    for (let i = 0; i < params.length; i++) key += values[i]! + literals[i + 1]!
    return key
  }
}

export function redisKeys (prefix: string): RedisKeys {
  const keys = Object.fromEntries(Object.entries(KEY_PATTERNS).map(([name, pattern]) => [name, keyFunction(prefix, pattern)]))
  return {
    ...keys as { [K in KeyName]: KeyOf<typeof KEY_PATTERNS[K]> },
    rateLimit: `${prefix}:${LIBRARY_PREFIXES.rateLimit}`,
    rateLimitBurst: `${prefix}:${LIBRARY_PREFIXES.rateLimitBurst}`,
    queuePrefix: `${prefix}:${LIBRARY_PREFIXES.queues}`,
    prefix
  }
}

/**
 * The same keys for Lua: `key.<name>(params...)` (or `key.<name>` without
 * parameters), built from the prefix in ARGV[1] of the script that includes
 * them (see redis-scripts.ts).
 */
export function luaKeyHelpers (): string {
  const lines = ['local PREFIX = ARGV[1]', 'local key = {}']
  for (const [name, pattern] of Object.entries(KEY_PATTERNS)) {
    const { literals, params } = parse(pattern)
    const parts = [`PREFIX .. ${JSON.stringify(`:${literals[0]!}`)}`]
    params.forEach((param, i) => {
      parts.push(param)
      if (literals[i + 1] !== '') parts.push(JSON.stringify(literals[i + 1]))
    })
    lines.push(params.length === 0
      ? `key.${name} = ${parts.join(' .. ')}`
      : `key.${name} = function (${params.join(', ')}) return ${parts.join(' .. ')} end`)
  }
  return lines.join('\n')
}
