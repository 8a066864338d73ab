/**
 * Every Redis key the service uses, built in one place. All start with the
 * configured prefix, so several deployments (or tests) share one Redis.
 *
 *   {p}:contacts:{user}     hash  contact name -> JSON of the other fields (Redis contact store)
 *   {p}:contact-names:{user}       zset  every contact name, all scores 0 (lex order: keyset pages)
 *   {p}:contact-tag:{user}:{tag}   zset  names of the contacts with that tag, all scores 0
 *   {p}:dispatch:{id}       hash  one send request: user, text, times, total, open, n:<state> counts
 *   {p}:delivery:{id}       hash  one leg: contact, messenger, address, state, attempts, gen...
 *   {p}:dispatches:{user}   zset  the user's dispatch ids, all scores 0 (lex = time order: keyset pages)
 *   {p}:finished:{user}:{state}  zset  the user's delivery ids in that terminal state, scores 0
 *   {p}:stats:{user}        hash  n:<state> counts over all the user's deliveries
 *   {p}:dedup:{user}:{messenger}:{address}:{text hash}  string  the delivery that sent it (TTL: the window)
 *   {p}:idempotency:{user}:{key}  string  JSON: the request's fingerprint and first answer (TTL 24 h)
 *   {p}:users               set   users with delivery history (the retention sweep walks them)
 *   {p}:user:{name}         hash  an account: created_at (users/user-store.ts)
 *   {p}:user-names          zset  every account name, score 0
 *   {p}:user-keys:{name}    zset  the account's API key ids, in the order they were made
 *   {p}:api-key:{id}        hash  user, hash of the secret, created_at, label?, revoked_at?
 *   {p}:rate:{key id or client address}  string  requests in the current rate-limit window (@fastify/rate-limit)
 *   {p}:outbox              zset  dispatch ids whose jobs may not all be queued yet, by accept time
 *   {p}:q:{queue}:*         BullMQ's own keys (one queue per messenger, dispatches, maintenance)
 *
 * The delivery scripts (deliveries/delivery-scripts.ts) build the same keys in Lua.
 */
export interface RedisKeys {
  contacts (user: string): string
  contactNames (user: string): string
  /** A user name has no `:`, so the tag (which may) cannot make two users' keys meet. */
  contactTag (user: string, tag: string): string
  dispatch (dispatchId: string): string
  delivery (deliveryId: string): string
  dispatches (user: string): string
  finished (user: string, state: string): string
  stats (user: string): string
  idempotency (user: string, key: string): string
  users: string
  user (name: string): string
  userNames: string
  userKeys (name: string): string
  apiKey (keyId: string): string
  /** @fastify/rate-limit's `nameSpace`: its counters' keys start with this. */
  rateLimit: string
  outbox: string
  /** The prefix itself: the Lua scripts build their keys from it. */
  prefix: string
  /** BullMQ's `prefix` option. */
  queuePrefix: string
}

export function redisKeys (prefix: string): RedisKeys {
  return {
    contacts: (user) => `${prefix}:contacts:${user}`,
    contactNames: (user) => `${prefix}:contact-names:${user}`,
    contactTag: (user, tag) => `${prefix}:contact-tag:${user}:${tag}`,
    dispatch: (dispatchId) => `${prefix}:dispatch:${dispatchId}`,
    delivery: (deliveryId) => `${prefix}:delivery:${deliveryId}`,
    dispatches: (user) => `${prefix}:dispatches:${user}`,
    finished: (user, state) => `${prefix}:finished:${user}:${state}`,
    stats: (user) => `${prefix}:stats:${user}`,
    idempotency: (user, key) => `${prefix}:idempotency:${user}:${key}`,
    users: `${prefix}:users`,
    user: (name) => `${prefix}:user:${name}`,
    userNames: `${prefix}:user-names`,
    userKeys: (name) => `${prefix}:user-keys:${name}`,
    apiKey: (keyId) => `${prefix}:api-key:${keyId}`,
    rateLimit: `${prefix}:rate:`,
    outbox: `${prefix}:outbox`,
    prefix,
    queuePrefix: `${prefix}:q`
  }
}
