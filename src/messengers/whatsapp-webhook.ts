/**
 * What the WhatsApp Cloud API webhook brings (docs/messengers.md): `statuses`
 * (sent, delivered, read, failed with errors) about messages the business
 * sent, and `messages` people sent to the business, which open their 24-hour
 * window. Several of either may come in one POST, for several phone numbers.
 * Shapes the service does not use are skipped, not refused: the platform
 * would retry a refused webhook for days.
 */
import type { Receipt } from '../model/delivery.js'

/** A message a person sent to the business. */
export interface InboundMessage {
  /** Their number, E.164 with its `+`. */
  from: string
  /** Epoch ms, as WhatsApp stamped it. */
  at: number
  text?: string
}

export interface WhatsAppNotification {
  receipts: Receipt[]
  inbound: InboundMessage[]
  /** Entries of a kind the service does not use (other fields, unknown statuses). */
  skipped: number
}

const STATUSES = new Set(['sent', 'delivered', 'read', 'failed'])

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const list = (value: unknown): unknown[] => Array.isArray(value) ? value : []
/** WhatsApp's timestamps are Unix seconds, as strings. */
const epochMs = (seconds: unknown, fallback: number) => /^\d{1,12}$/.test(String(seconds)) ? Number(seconds) * 1000 : fallback

function failure (status: Record<string, unknown>): { code?: number, error: string } {
  const first = list(status.errors).find(isObject)
  if (first === undefined) return { error: 'whatsapp: failed, with no error given' }
  const code = typeof first.code === 'number' ? first.code : undefined
  const title = typeof first.title === 'string' ? first.title : typeof first.message === 'string' ? first.message : 'failed'
  const details = isObject(first.error_data) && typeof first.error_data.details === 'string' ? ` (${first.error_data.details})` : ''
  return { ...(code !== undefined && { code }), error: `whatsapp ${code ?? 'failed'}: ${title}${details}` }
}

/** The receipts and inbound messages of a webhook body (parsed JSON); `now` stamps entries without a time. */
export function readWhatsAppNotification (body: unknown, now = Date.now()): WhatsAppNotification {
  const notification: WhatsAppNotification = { receipts: [], inbound: [], skipped: 0 }
  for (const entry of list(isObject(body) ? body.entry : undefined).filter(isObject)) {
    for (const change of list(entry.changes).filter(isObject)) {
      const value = change.value
      if (change.field !== 'messages' || !isObject(value)) {
        notification.skipped++
        continue
      }
      for (const status of list(value.statuses).filter(isObject)) {
        if (typeof status.id !== 'string' || status.id === '' || typeof status.status !== 'string' || !STATUSES.has(status.status)) {
          notification.skipped++
          continue
        }
        const at = epochMs(status.timestamp, now)
        const receipt: Receipt = { messenger: 'whatsapp', providerId: status.id, status: status.status as Receipt['status'], at }
        notification.receipts.push(status.status === 'failed' ? { ...receipt, ...failure(status) } : receipt)
      }
      for (const message of list(value.messages).filter(isObject)) {
        if (typeof message.from !== 'string' || !/^[1-9][0-9]{6,14}$/.test(message.from)) {
          notification.skipped++
          continue
        }
        const text = isObject(message.text) && typeof message.text.body === 'string' ? message.text.body : undefined
        notification.inbound.push({ from: `+${message.from}`, at: epochMs(message.timestamp, now), ...(text !== undefined && { text }) })
      }
    }
  }
  return notification
}
