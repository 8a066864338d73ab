/**
 * When receipts go out: each message's receipts wait random delays one after
 * the other (in order, or shuffled), some are sent twice, and WhatsApp
 * statuses that fall due at the same moment share one POST, as the platforms
 * batch them. What each receipt says is the messenger's business
 * (whatsapp.ts, viber.ts); sending it is ReceiptDelivery's.
 */
import type { Receipts } from './behaviour.js'
import type { ReceiptDelivery, ReceiptMessenger } from './receipt-delivery.js'

/** WhatsApp statuses due within this many ms of each other go in one POST. */
const BATCH_WINDOW_MS = 20

/** One entry of a WhatsApp webhook's `statuses`. */
export type WhatsAppStatus = { id: string, status: string } & Record<string, unknown>

/** One receipt: a WhatsApp status (batched with others due with it), or a whole body to POST as it is. */
export type Receipt =
  | { kind: 'status', status: WhatsAppStatus }
  | { kind: 'body', messenger: ReceiptMessenger, body: string }

interface Scheduled {
  receipt: Receipt
  url: string
  dueAt: number
  timer: NodeJS.Timeout
}

/** A random whole number of ms in [min, max]. */
function between ([min, max]: readonly [number, number]): number {
  return min + Math.floor(Math.random() * (Math.max(min, max) - min + 1))
}

function shuffled<T> (items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export class ReceiptSchedule {
  private readonly pending = new Set<Scheduled>()

  constructor (
    private readonly delivery: ReceiptDelivery,
    /** The WhatsApp webhook body around a batch of statuses. */
    private readonly whatsappEnvelope: (statuses: WhatsAppStatus[]) => string
  ) {}

  /**
   * Schedules one message's receipts, each made for the moment it is due
   * (`make(at)`, at in ms): in the order given unless `knobs.shuffle`, each
   * after a random delay from `knobs.delayMs`, each sent twice with
   * probability `knobs.duplicateRate` (the copy identical, a delay later).
   */
  follow (url: string, makers: Array<(at: number) => Receipt>, knobs: Receipts): void {
    let at = Date.now()
    for (const make of knobs.shuffle ? shuffled(makers) : makers) {
      at += between(knobs.delayMs)
      const receipt = make(at)
      this.add(receipt, url, at)
      if (knobs.duplicateRate > 0 && Math.random() < knobs.duplicateRate) this.add(receipt, url, at + between(knobs.delayMs))
    }
  }

  /** POSTs one body at once (callbacks about people rather than messages: subscribed, inbound messages). */
  now (messenger: ReceiptMessenger, url: string, body: string): void {
    void this.delivery.post(messenger, url, body)
  }

  private add (receipt: Receipt, url: string, dueAt: number): void {
    const scheduled: Scheduled = { receipt, url, dueAt, timer: setTimeout(() => this.fire(scheduled), Math.max(0, dueAt - Date.now())) }
    this.pending.add(scheduled)
  }

  private fire (first: Scheduled): void {
    this.pending.delete(first)
    const batch = [first]
    if (first.receipt.kind === 'status') {
      // Whatever else is due for the same webhook goes along, one status of a message at most once a POST.
      const keys = new Set([statusKey(first.receipt.status)])
      const horizon = Date.now() + BATCH_WINDOW_MS
      for (const other of this.pending) {
        if (other.receipt.kind !== 'status' || other.url !== first.url || other.dueAt > horizon) continue
        const key = statusKey(other.receipt.status)
        if (keys.has(key)) continue
        keys.add(key)
        clearTimeout(other.timer)
        this.pending.delete(other)
        batch.push(other)
      }
    }
    this.send(first.url, batch.sort((a, b) => a.dueAt - b.dueAt).map((s) => s.receipt))
  }

  private send (url: string, receipts: Receipt[]): void {
    const statuses: WhatsAppStatus[] = []
    for (const r of receipts) {
      if (r.kind === 'status') statuses.push(r.status)
      else void this.delivery.post(r.messenger, url, r.body)
    }
    if (statuses.length > 0) void this.delivery.post('whatsapp', url, this.whatsappEnvelope(statuses))
  }

  /** Forgets every receipt not yet due. */
  /** Receipts scheduled and not yet sent. */
  get waiting (): number {
    return this.pending.size
  }

  close (): void {
    for (const s of this.pending) clearTimeout(s.timer)
    this.pending.clear()
  }
}

function statusKey (status: WhatsAppStatus): string {
  return `${status.id} ${status.status}`
}
