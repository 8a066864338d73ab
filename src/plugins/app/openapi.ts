/**
 * OpenAPI 3 from the same TypeBox schemas the routes validate with
 * (`@fastify/swagger`), and Swagger UI at /docs. Registered before the routes,
 * so it sees every one of them.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import { USER_HEADER } from './auth.js'
import { ErrorBody } from '../../schemas/common.js'

/** Every route but these needs credentials (the webhooks are signed by their messenger instead). */
const OPEN = new Set(['/health', '/webhooks/whatsapp', '/webhooks/viber', '/webhooks/telegram'])
/** Routes for the administrator key only. */
const isAdminRoute = (url: string) => url.startsWith('/v1/admin/') || url === '/metrics'
/** Every cause of a route's 403; the last (auth.ts refuses it on every route) comes with all of them. */
function forbiddenWhen (path: string): string {
  const own = isAdminRoute(path)
    ? ['A user\'s key on an administrator route']
    : path === '/admin'
      ? []
      : ['The administrator key on a user\'s route', 'the request names another user than the key\'s owner']
  return [...own, 'Basic credentials sent with a request another site\'s page made (Sec-Fetch-Site: cross-site or same-site)'].join('; or ')
}

export default fp(async function openapi (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Messenger fan-out proxy',
        version: '1',
        description: 'Keep a contact book of Telegram, WhatsApp and Viber identities, send a text to chosen contacts ' +
          '(now or within a window), and query every delivery back. Every route but /health acts for the user whose ' +
          'API key it carries (`Authorization: Bearer <key>`, or HTTP Basic with `user_name:key`) and sees only that ' +
          'user\'s data; /v1/admin and /metrics take the administrator key. With AUTH=off (a trial on loopback only) the ' +
          '`X-User-Name` header names the user instead. Errors are `{error: {code, message, details?}}`; ' +
          '`details` names the fields at fault. Answers carry `RateLimit-*` headers; past the limit, a 429 with `Retry-After`.'
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'A user\'s API key, or on /v1/admin and /metrics the ADMIN_API_KEY' },
          basic: { type: 'http', scheme: 'basic', description: 'user_name as the user name, the API key as the password; on /v1/admin and /metrics, `admin` and the ADMIN_API_KEY' }
        }
      },
      tags: [
        { name: 'contacts', description: 'The user\'s contact book' },
        { name: 'dispatches', description: 'Send requests and their progress' },
        { name: 'deliveries', description: 'One part of a dispatch: one address on one messenger' },
        { name: 'keys', description: 'The user\'s own API keys' },
        { name: 'settings', description: 'The user\'s own settings: what applies to their sends that do not say' },
        { name: 'status webhooks', description: 'The user\'s own endpoints, told of every delivery\'s change (signed, Standard Webhooks), their attempts' },
        { name: 'admin', description: 'Users and their keys, for the administrator key only' },
        { name: 'admin page', description: 'The web page for a browser, at /admin: HTTP Basic with user_name:API key, or admin:<ADMIN_API_KEY>' },
        { name: 'legacy', description: 'Legacy: the API of the origin system, whose curl examples work verbatim. New clients use /v1.' },
        { name: 'webhooks', description: 'For WhatsApp and Viber: their receipts and people\'s messages, signed by each platform (no API key)' },
        { name: 'health', description: 'Liveness and readiness' }
      ]
    },
    // Collection routes are registered as `/` under their prefix; they are documented without the slash.
    // Credentials, the rate limit and the AUTH=off user header are checked by hooks, not route schemas,
    // so they are added to the docs here.
    transform ({ schema, url }) {
      const path = url.length > 1 ? url.replace(/\/$/, '') : url
      if (OPEN.has(path) || schema === undefined) return { schema, url: path }
      const responses = {
        ...schema.response as Record<string, unknown>,
        401: { ...ErrorBody, description: 'No credentials, or invalid ones (unknown, revoked, another user\'s name)' },
        403: { ...ErrorBody, description: forbiddenWhen(path) },
        429: { ...ErrorBody, description: 'Too many requests for this key; see Retry-After' }
      }
      const secured: FastifySchema = { ...schema, response: responses, security: [{ apiKey: [] }, { basic: [] }] }
      if (!path.startsWith('/v1/') || isAdminRoute(path)) return { url: path, schema: secured }
      const headers = (schema.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown> }
      return {
        url: path,
        schema: {
          ...secured,
          headers: {
            ...headers,
            properties: {
              ...headers.properties,
              [USER_HEADER]: { type: 'string', description: 'With AUTH=off (a loopback trial), the user the request acts for; with a key, if given, it must name the key\'s owner' }
            }
          }
        }
      }
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'openapi' })
