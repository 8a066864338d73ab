import type { FastifyInstance } from 'fastify'
import type { Receipt } from '../../model/delivery.js'

/** Applies a webhook's receipts (all at once: the order does not matter, see deliveries/receipts.ts), counting what became of them. */
export async function takeReceipts (fastify: FastifyInstance, receipts: readonly Receipt[]): Promise<{ receipts: number, applied: number, waiting: number }> {
  const outcomes = await Promise.all(receipts.map(async (receipt) => {
    const outcome = await fastify.receipts.take(receipt)
    fastify.metrics.countReceipt(receipt.messenger, receipt.status, outcome)
    return outcome
  }))
  return {
    receipts: receipts.length,
    applied: outcomes.filter((o) => o === 'applied').length,
    waiting: outcomes.filter((o) => o === 'waiting').length
  }
}
