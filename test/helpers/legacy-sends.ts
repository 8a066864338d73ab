/** A user's book and sends through the legacy API, in one process: the helpers the sending tests share. */
import type { FastifyInstance } from 'fastify'
import { deliveryId, type Delivery } from '../../src/model/delivery.js'

/** Adds contacts c0..c{count-1} to user `u`, with the messenger ids `ids(i)`; returns their names. */
export async function contacts (app: FastifyInstance, count: number, ids: (i: number) => Record<string, string>): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `c${i}`)
  for (const [i, name] of names.entries()) {
    await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'u', contact: { name, messangers: ids(i) } } })
  }
  return names
}

export async function send (app: FastifyInstance, names: string[], message: string): Promise<{ dispatch_id: string, deliveries: number }> {
  return (await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'u', contacts: names, message } })).json()
}

/**
 * The dispatch's first `count` deliveries. Throws when one of them does not
 * exist: a send that made fewer would otherwise pass every `.every(...)` a
 * test asks of the list (an empty list passes any).
 */
export async function all (app: FastifyInstance, dispatchId: string, count: number): Promise<Delivery[]> {
  const found = await Promise.all(Array.from({ length: count }, (_, i) => app.deliveries.get(deliveryId(dispatchId, i))))
  const missing = found.flatMap((d, i) => d === undefined ? [deliveryId(dispatchId, i)] : [])
  if (missing.length > 0) throw new Error(`no such deliveries: ${missing.join(', ')} (the send made fewer than ${count})`)
  return found as Delivery[]
}
