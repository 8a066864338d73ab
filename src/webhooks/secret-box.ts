/**
 * Endpoint signing secrets at rest: they must be usable to sign, so they are
 * encrypted (AES-256-GCM, a random nonce each), not hashed. The key is the
 * SHA-256 of WEBHOOK_SECRET_KEY (or, unset, of the administrator key), so a
 * Redis dump alone does not reveal them.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const NONCE_BYTES = 12

export interface SecretBox {
  seal (secret: string): string
  open (sealed: string): string
}

/** A new signing secret in the Standard Webhooks form: `whsec_` and 24 random bytes in base64. */
export function newSigningSecret (): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

export function createSecretBox (keyMaterial: string): SecretBox {
  const key = createHash('sha256').update(`status-webhook-secrets\n${keyMaterial}`).digest()
  return {
    seal (secret) {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, nonce)
      const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
      return [nonce, cipher.getAuthTag(), sealed].map((b) => b.toString('base64')).join('.')
    },
    open (sealed) {
      const [nonce = '', tag = '', data = ''] = sealed.split('.')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')
    }
  }
}
