/**
 * Every Redis key the service uses, built in one place. All start with the
 * configured prefix, so several deployments (or tests) share one Redis.
 *
 *   {p}:contacts:{user}     hash  contact name -> JSON of the other fields (Redis contact store)
 *   {p}:contact-names:{user}       zset  every contact name, all scores 0 (lex order: keyset pages)
 *   {p}:contact-tag:{user}:{tag}   zset  names of the contacts with that tag, all scores 0
 *   {p}:dispatch:{id}       hash  one send request: user, text, times, counts per state
 *   {p}:delivery:{id}       hash  one leg: contact, messenger, address, state, attempts...
 *   {p}:failed:{user}       zset  failed delivery ids by time of failure
 *   {p}:outbox              zset  dispatch ids whose jobs may not all be queued yet, by accept time
 *   {p}:q:{queue}:*         BullMQ's own keys (one queue per messenger, plus maintenance)
 */
export interface RedisKeys {
  contacts (user: string): string
  contactNames (user: string): string
  /** A user name has no `:`, so the tag (which may) cannot make two users' keys meet. */
  contactTag (user: string, tag: string): string
  dispatch (dispatchId: string): string
  delivery (deliveryId: string): string
  failed (user: string): string
  outbox: string
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
    failed: (user) => `${prefix}:failed:${user}`,
    outbox: `${prefix}:outbox`,
    queuePrefix: `${prefix}:q`
  }
}
