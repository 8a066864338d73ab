/**
 * The signatures WhatsApp and Viber put on their webhooks: a hex HMAC-SHA256
 * of the raw body (WhatsApp keys it with the app secret and writes
 * `sha256=<hex>` in X-Hub-Signature-256; Viber keys it with the bot's auth
 * token and writes the hex in X-Viber-Content-Signature). Compared in
 * constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export function hmacHex (body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/** Whether `given` (hex, any case) is the HMAC-SHA256 of `body` under `secret`. */
export function signatureMatches (body: Buffer, secret: string, given: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false
  return timingSafeEqual(Buffer.from(hmacHex(body, secret), 'hex'), Buffer.from(given, 'hex'))
}
