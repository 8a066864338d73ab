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
 *
 * Redis Cluster: `<{name}>` is the hash tag of the slot a key lives in (a
 * `{...}` part: Redis hashes only that). Every key of one user's data carries
 * the same tag, the user's slot (`slotOfUser`), so one script can change a
 * user's records, counts and indexes together; dispatch and delivery ids end
 * with it, and API key ids too, so a record found by its id alone is in its
 * user's slot. The keys without a tag are read and written one at a time.
 */
import { createHash } from 'node:crypto'

export const KEY_PATTERNS = {
  /** hash  contact name -> JSON of the other fields (the Redis contact store) */
  contacts: 'contacts:<{user}>:<user>',
  /** zset  every contact name, all scores 0 (lex order: keyset pages) */
  contactNames: 'contact-names:<{user}>:<user>',
  /** zset  names of the contacts with that tag, all scores 0 */
  contactTag: 'contact-tag:<{user}>:<user>:<tag>',
  /** hash  one send request: user, text, times, counts per state */
  dispatch: 'dispatch:<{dispatchId}>:<dispatchId>',
  /** hash  one delivery: messenger, address, state, attempts... */
  delivery: 'delivery:<{deliveryId}>:<deliveryId>',
  /** zset  the user's dispatch ids, all scores 0 (lex = time order: keyset pages) */
  dispatches: 'dispatches:<{user}>:<user>',
  /** zset  the user's delivery ids in that finished state, scores 0 */
  finished: 'finished:<{user}>:<user>:<state>',
  /** hash  counts per state over all the user's deliveries */
  stats: 'stats:<{user}>:<user>',
  /** string  the delivery that sent this text to this address (expires with the dedup window) */
  dedup: 'dedup:<{user}>:<user>:<messenger>:<address>:<fingerprint>',
  /** string  JSON: a request's fingerprint and first answer (expires after 24 h) */
  idempotency: 'idempotency:<{user}>:<user>:<requestKey>',
  /** hash  an account: created_at */
  user: 'user:<{name}>:<name>',
  /** hash  the user's own settings (/v1/settings): skip_unreachable ('1' or '0'; absent: the deployment's default) */
  userSettings: 'user-settings:<{user}>:<user>',
  /** zset  the account's API key ids, in the order they were made */
  userKeys: 'user-keys:<{name}>:<name>',
  /** hash  user, hash of the secret, created_at, label?, revoked_at? */
  apiKey: 'api-key:<{keyId}>:<keyId>',
  /** set  users with delivery history (the retention sweep walks them) */
  users: 'users',
  /** zset  every account name, score 0 */
  userNames: 'user-names',
  /** zset  dispatch ids whose jobs may not all be queued yet, by accept time */
  outbox: 'outbox',
  /**
   * hash  a message the messenger accepted: delivery, user (its receipts find the delivery
   * through it), and early receipts that came before the acceptance was recorded
   */
  receipt: 'receipt:<messenger>:<providerId>',
  /** hash  what a messenger told about an address: inbound_at (WhatsApp), subscribed_at, unsubscribed_at (Viber); its health: alive_at, dead_times, dead_at, dead_reason, dead_code (src/addresses/lua/mark-unreachable-1.lua) */
  address: 'address:<messenger>:<address>',
  /**
   * zset  the user's status webhook endpoint ids, by creation time; the delivery scripts append
   * events to webhookEvents only while it exists (a user without endpoints costs one EXISTS a script)
   */
  webhookEndpoints: 'webhook-endpoints:<{user}>:<user>',
  /** hash  one endpoint: url, events, enabled, secret (encrypted), previous secret until, failing_since, disabled_* */
  webhookEndpoint: 'webhook-endpoint:<{user}>:<user>:<endpoint>',
  /** stream  state changes the user's endpoints may hear of (type, id, at), written by the delivery scripts, moved into the webhook queue by the relay */
  webhookEvents: 'webhook-events:<{user}>:<user>',
  /** string  JSON body of one message (webhook-id), kept for the history retention so an attempt can be sent again */
  webhookMessage: 'webhook-message:<{user}>:<user>:<message>',
  /** zset  an endpoint's attempt ids, scored by time; older than the history retention trimmed */
  webhookAttempts: 'webhook-attempts:<{user}>:<user>:<endpoint>',
  /** hash  attempt id -> JSON of the attempt (time, message, status, duration, error), beside webhookAttempts */
  webhookAttemptData: 'webhook-attempt-data:<{user}>:<user>:<endpoint>',
  /** set  users who have (or had) an endpoint: the relay walks their event streams */
  webhookUsers: 'webhook-users',
  /**
   * string  JSON {user, contact, at} of one invite token for one messenger, keyed by the SHA-256 of the token
   * (never the token itself); expires with the invite, and is taken (GETDEL) by its one use
   */
  invite: 'invite:<messenger>:<tokenHash>',
  /** set  `<messenger>:<tokenHash>` of the contact's open invites: deleted with the contact */
  contactInvites: 'contact-invites:<{user}>:<user>:<contact>',
  /** list  JSON of each connection made by invite, newest first: messenger, id, previous id, at, via */
  contactConnections: 'contact-connections:<{user}>:<user>:<contact>'
} as const

/** Hex digits of a slot tag: 65,536 tags, enough to spread users over any cluster's 16,384 slots. */
const SLOT_DIGITS = 4

/** The hash-tag slot of a user's data: the first hex digits of the SHA-1 of the name (the same in Lua: redis.sha1hex). */
export function slotOfUser (user: string): string {
  return createHash('sha1').update(user).digest('hex').slice(0, SLOT_DIGITS)
}

/**
 * The slot of a record found by its id: dispatch ids (and the delivery ids
 * made of them) end their first part with the user's slot, API key ids
 * with theirs.
 */
export function slotOfId (id: string): string {
  const dot = id.indexOf('.')
  return (dot === -1 ? id : id.slice(0, dot)).slice(-SLOT_DIGITS)
}

/** How each slot-tagged parameter gives its slot. */
const SLOT_OF: Record<string, 'user' | 'id'> = { user: 'user', name: 'user', dispatchId: 'id', deliveryId: 'id', keyId: 'id' }

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

/**
 * A BullMQ queue's name, in braces: each queue's keys then share a slot of
 * their own (BullMQ's scripts touch several of a queue's keys at once), and
 * the queues spread over a cluster's nodes instead of all sitting on one.
 */
export function queueName (name: string): string {
  return `{${name}}`
}

/**
 * A messenger's send queue. Named `send-<messenger>` because those three
 * names hash to three different thirds of the 16,384 slots (4603, 7742,
 * 11127), so on a cluster of three masters with Redis's even split each
 * send queue has a master of its own; the bare messenger names all hash to
 * the middle third.
 */
export function sendQueueName (messenger: string): string {
  return queueName(`send-${messenger}`)
}

/** The status webhooks' queue (webhooks to the users' own endpoints; not the messengers' receipts, which come in). */
export const STATUS_WEBHOOK_QUEUE = queueName('status-webhooks')

/** The queue's own name, as people read it (metrics, logs): a send queue is named by its messenger. */
export function plainQueueName (name: string): string {
  return name.replace(/^\{(.*)\}$/, '$1').replace(/^send-/, '')
}

type KeyName = keyof typeof KEY_PATTERNS

/**
 * The parameter names of a pattern, in order, without its slot part:
 * 'finished:<{user}>:<user>:<state>' -> ['user', 'state'].
 */
type Params<T extends string> = T extends `${string}<${infer Name}>${infer Rest}`
  ? Name extends `{${string}}` ? Params<Rest> : [Name, ...Params<Rest>]
  : []

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

/** A pattern split at its parameters: literal parts around them; a slot part (`<{name}>`) is the tag of that parameter. */
function parse (pattern: string): { literals: string[], parts: Array<{ param: string, slot: boolean }>, params: string[] } {
  const literals: string[] = []
  const parts: Array<{ param: string, slot: boolean }> = []
  let rest = pattern
  for (let match = PART.exec(rest); match !== null; match = PART.exec(rest)) {
    literals.push(rest.slice(0, match.index))
    const slot = match[1] !== undefined
    const param = match[1] ?? match[2]!
    if (slot && SLOT_OF[param] === undefined) throw new Error(`redis-keys: no slot for ${param} (${pattern})`)
    parts.push({ param, slot })
    rest = rest.slice(match.index + match[0].length)
  }
  literals.push(rest)
  const params = [...new Set(parts.filter((p) => !p.slot).map((p) => p.param))]
  return { literals, parts, params }
}

const PART = /<\{([A-Za-z]+)\}>|<([A-Za-z]+)>/

function keyFunction (prefix: string, pattern: string): string | ((...values: string[]) => string) {
  const { literals, parts, params } = parse(pattern)
  const head = `${prefix}:${literals[0]!}`
  if (params.length === 0) return head
  const index = parts.map((p) => params.indexOf(p.param))
  return (...values: string[]) => {
    let key = head
    for (let i = 0; i < parts.length; i++) {
      const value = values[index[i]!]!
      key += (parts[i]!.slot ? `{${SLOT_OF[parts[i]!.param] === 'user' ? slotOfUser(value) : slotOfId(value)}}` : value) + literals[i + 1]!
    }
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
 * them (see redis-scripts.ts), with the same slot tags.
 */
export function luaKeyHelpers (): string {
  const lines = [
    'local PREFIX = ARGV[1]',
    'local key = {}',
    `local function slot_of_user (user) return string.sub(redis.sha1hex(user), 1, ${SLOT_DIGITS}) end`,
    `local function slot_of_id (id) return string.sub(string.match(id, '^[^.]*'), -${SLOT_DIGITS}) end`
  ]
  for (const [name, pattern] of Object.entries(KEY_PATTERNS)) {
    const { literals, parts, params } = parse(pattern)
    const pieces = [`PREFIX .. ${JSON.stringify(`:${literals[0]!}`)}`]
    parts.forEach((part, i) => {
      pieces.push(part.slot ? `'{' .. ${SLOT_OF[part.param] === 'user' ? 'slot_of_user' : 'slot_of_id'}(${part.param}) .. '}'` : part.param)
      if (literals[i + 1] !== '') pieces.push(JSON.stringify(literals[i + 1]))
    })
    lines.push(params.length === 0
      ? `key.${name} = ${pieces.join(' .. ')}`
      : `key.${name} = function (${params.join(', ')}) return ${pieces.join(' .. ')} end`)
  }
  return lines.join('\n')
}
