import type { FastifyRequest } from 'fastify'
import { invalidField, invalidSignature } from '../../errors.js'
import { signatureMatches } from '../../messengers/webhook-signature.js'

/**
 * The request's body as JSON, once its signature header matches the raw
 * bytes: a 401 naming the header when it is missing or wrong (nothing of the
 * body is read), a 400 when a signed body is not JSON. `prefix` is what the
 * platform writes before the hex (`sha256=` for WhatsApp).
 */
export function signedBody (request: FastifyRequest, signature: { header: string, secret: string, prefix?: string, platform: string },
  parse: (raw: string) => unknown = JSON.parse): unknown {
  const { header, secret, prefix = '', platform } = signature
  const given = request.headers[header]
  if (typeof given !== 'string' || given === '' || !given.startsWith(prefix)) {
    throw invalidSignature(`is missing: ${platform} signs every webhook (${prefix}<hex HMAC-SHA256 of the body>)`, header)
  }
  const raw = request.rawBody ?? Buffer.alloc(0)
  if (!signatureMatches(raw, secret, given.slice(prefix.length))) {
    throw invalidSignature(`does not match the body: not from ${platform}, or signed with another key`, header)
  }
  try {
    return parse(raw.toString('utf8'))
  } catch {
    throw Object.assign(invalidField('body', 'is not JSON'), { code: 'INVALID_JSON' })
  }
}
