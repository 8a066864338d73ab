/**
 * Receipts: what WhatsApp and Viber report after they accepted a send
 * (delivered, read, or a failure), matched to the delivery by the
 * messenger's message id.
 *
 * When the sender records an acceptance it also records the message id
 * (`track`), in a record of its own that lives as long as the delivery. A
 * receipt (`take`) looks the id up there; one that comes before the
 * acceptance is recorded (the messenger answers the send and reports on it at
 * nearly the same moment) waits in that record and is applied by `track`.
 * Applying is by rank (model/delivery.ts), so it does not matter which comes
 * first, nor how often.
 *
 * Should the sender stop between recording the acceptance and recording the
 * message id (a crash in that moment), the delivery stays `sent`: its
 * receipts wait, then are dropped. It claims nothing untrue.
 */
import type { RedisClient } from '../redis-connection.js'
import type { Messenger } from '../model/messenger.js'
import type { Receipt, ReceiptReport } from '../model/delivery.js'
import type { RedisKeys } from '../redis-keys.js'
import { reportsOf, reportTuple, type DeliveryStore, type ReceiptOutcome } from './delivery-store.js'
import { withDeliveryScripts } from './delivery-scripts.js'

/** How long a receipt for an id not (yet) known waits for the sender to record it. */
export const EARLY_RECEIPT_WAIT_SECONDS = 24 * 3600

/** What became of one receipt: as applyReceipts says, or `waiting` (its message id is not known, yet or at all). */
export type TakenReceipt = ReceiptOutcome | 'waiting'

export interface Receipts {
  /** After an accepted send: the message id now finds the delivery; receipts that came first are applied. */
  track (messenger: Messenger, providerId: string, deliveryId: string, user: string): Promise<void>
  /** A receipt from a messenger's webhook, applied to its delivery or set aside to wait. */
  take (receipt: Receipt): Promise<TakenReceipt>
}

export interface ReceiptOptions {
  keepSeconds: number
  /**
   * What receipts told about the address of the delivery they are about
   * (whatever they did to the delivery: a repeat or a late one is still news
   * of the address): the address's health (src/addresses/address-facts.ts).
   * It should not throw (log instead): the receipt is applied already.
   */
  heard?: (messenger: Messenger, address: string, reports: readonly ReceiptReport[]) => Promise<void>
}

export function createReceipts (redis: RedisClient, keys: RedisKeys, deliveries: DeliveryStore, options: ReceiptOptions): Receipts {
  const scripts = withDeliveryScripts(redis)
  async function apply (messenger: Messenger, deliveryId: string, providerId: string, reports: readonly ReceiptReport[]) {
    const { outcome, address } = await deliveries.applyReceiptsTo(deliveryId, providerId, reports)
    if (address !== '' && options.heard !== undefined) await options.heard(messenger, address, reports)
    return outcome
  }

  return {
    async track (messenger, providerId, deliveryId, user) {
      const key = keys.receipt(messenger, providerId)
      const waiting = reportsOf(await scripts.deliveryTrackMessage(key, deliveryId, user, options.keepSeconds))
      if (waiting.length === 0) return
      await apply(messenger, deliveryId, providerId, waiting)
      // No receipt waits once the delivery is known, so none can have come since.
      await redis.hdel(key, 'early')
    },

    async take (receipt) {
      const key = keys.receipt(receipt.messenger, receipt.providerId)
      const found = await scripts.deliveryFindMessage(key, JSON.stringify(reportTuple(receipt)), EARLY_RECEIPT_WAIT_SECONDS)
      if (found === null) return 'waiting'
      const [deliveryId, , waitingJson] = found
      const waiting = reportsOf(waitingJson)
      const outcome = await apply(receipt.messenger, deliveryId, receipt.providerId, [...waiting, receipt])
      // Early receipts of a send recorded before a crash took the sender: applied now, with this one.
      if (waiting.length > 0) await redis.hdel(key, 'early')
      return outcome
    }
  }
}
