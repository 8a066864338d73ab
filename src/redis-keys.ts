/**
 * Every Redis key the service uses, built in one place. All start with the
 * configured prefix, so several deployments (or tests) share one Redis.
 *
 *   {p}:contacts:{user}     hash  contact name -> JSON ids        (Redis contact store)
 *   {p}:dispatch:{id}       hash  one send request: user, text, times, counts per state
 *   {p}:delivery:{id}       hash  one leg: contact, messenger, address, state, attempts...
 *   {p}:failed:{user}       zset  failed delivery ids by time of failure
 *   {p}:outbox              zset  dispatch ids whose jobs may not all be queued yet, by accept time
 *   {p}:q:{queue}:*         BullMQ's own keys (one queue per messenger, plus maintenance)
 */
export interface RedisKeys {
  contacts (user: string): string
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
    dispatch: (dispatchId) => `${prefix}:dispatch:${dispatchId}`,
    delivery: (deliveryId) => `${prefix}:delivery:${deliveryId}`,
    failed: (user) => `${prefix}:failed:${user}`,
    outbox: `${prefix}:outbox`,
    queuePrefix: `${prefix}:q`
  }
}
