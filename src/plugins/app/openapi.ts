/**
 * OpenAPI 3 from the same TypeBox schemas the routes validate with
 * (`@fastify/swagger`), and Swagger UI at /docs. Registered before the routes,
 * so it sees every one of them.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { USER_HEADER } from '../../routes/v1/index.js'

export default fp(async function openapi (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Messenger fan-out proxy',
        version: '1',
        description: 'Keep a contact book of Telegram, WhatsApp and Viber identities, send a text to chosen contacts ' +
          '(now or within a window), and query every delivery back. Every /v1 route acts for the user named by the ' +
          '`X-User-Name` header and sees only that user\'s data. Errors are `{error: {code, message, details?}}`; ' +
          '`details` names the fields at fault.'
      },
      tags: [
        { name: 'contacts', description: 'The user\'s contact book' },
        { name: 'dispatches', description: 'Send requests and their progress' },
        { name: 'deliveries', description: 'One leg of a dispatch: one address on one messenger' },
        { name: 'legacy', description: 'Legacy: the API of the origin system, whose curl examples work verbatim. New clients use /v1.' },
        { name: 'health', description: 'Liveness and readiness' }
      ]
    },
    // Collection routes are registered as `/` under their prefix; they are documented without the slash.
    // The /v1 user header is checked by a hook, not a route schema, so it is added to the docs here.
    transform ({ schema, url }) {
      const path = url.length > 1 ? url.replace(/\/$/, '') : url
      if (!url.startsWith('/v1/') || schema === undefined) return { schema, url: path }
      const headers = (schema.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown>, required?: string[] }
      return {
        url: path,
        schema: {
          ...schema,
          headers: {
            ...headers,
            properties: { ...headers.properties, [USER_HEADER]: { type: 'string', description: 'The user the request acts for' } },
            required: [...(headers.required ?? []), USER_HEADER]
          }
        }
      }
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'openapi' })
