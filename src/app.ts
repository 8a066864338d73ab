/**
 * The application as a plugin: infrastructure clients, the domain, the
 * routes. `server.ts` registers it to listen; tests register it with the same
 * options and use `inject`.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from './config.js'
import mongodb from './plugins/external/mongodb.js'
import redis from './plugins/external/redis.js'
import addresses from './plugins/app/addresses.js'
import auth from './plugins/app/auth.js'
import config from './plugins/app/config.js'
import contacts from './plugins/app/contacts.js'
import deliveries from './plugins/app/deliveries.js'
import dispatchEvents from './plugins/app/dispatch-events.js'
import errorHandler from './plugins/app/error-handler.js'
import idempotency from './plugins/app/idempotency.js'
import invites from './plugins/app/invites.js'
import messengerWebhooks from './plugins/app/messenger-webhooks.js'
import metrics from './plugins/app/metrics.js'
import openapi from './plugins/app/openapi.js'
import rateLimit from './plugins/app/rate-limit.js'
import senders from './plugins/app/senders.js'
import statusWebhooks from './plugins/app/status-webhooks.js'
import userSettings from './plugins/app/user-settings.js'
import adminPageRoutes from './routes/admin-page.js'
import legacyRoutes from './routes/api/legacy.js'
import healthRoutes from './routes/health.js'
import metricsRoutes from './routes/metrics.js'
import v1Routes from './routes/v1/index.js'
import webhookRoutes from './routes/webhooks/index.js'
import { compileValidator } from './schemas/validators.js'

export interface AppOptions {
  config: Config
}

async function app (fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  // The legacy API's GETs carry a JSON body (`curl --request GET --data ...`); Fastify skips GET bodies unless told.
  fastify.addHttpMethod('GET', { hasBody: true, overrideExisting: true })
  // Many clients send `Content-Type: application/json` on every request, bodiless GETs and POSTs included:
  // an empty body is no body (a route that needs one still says so), anything else is parsed as usual.
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, function (request, body, done) {
    if (body === '') { done(null, undefined); return }
    parseJson(request, body as string, done)
  })
  // Bodies strictly, query strings coerced (src/schemas/validators.ts).
  fastify.setValidatorCompiler(compileValidator)

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  // One log line per request, with its request id (Fastify's own two lines are turned off in serverOptions).
  fastify.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10
    }, 'request')
  })

  await fastify.register(config, { config: opts.config })
  await fastify.register(redis)
  await fastify.register(mongodb)
  await fastify.register(auth)
  await fastify.register(contacts)
  // Before the deliveries: receipts and the fan-out consult what is known of addresses, the fan-out the user's settings too.
  await fastify.register(addresses)
  await fastify.register(userSettings)
  await fastify.register(deliveries)
  await fastify.register(idempotency)
  await fastify.register(invites)
  await fastify.register(metrics)
  await fastify.register(statusWebhooks)
  // The senders start work on fastify.redis at once, so every plugin before
  // them defines its Lua commands first (see the note in rate-limit.ts).
  if (opts.config.role !== 'api') await fastify.register(senders)
  await fastify.register(errorHandler)
  await fastify.register(openapi)
  await fastify.register(rateLimit)
  await fastify.register(messengerWebhooks)
  // Before the routes: @fastify/sse sets up the routes that declare `sse` as they are added.
  await fastify.register(dispatchEvents)

  await fastify.register(healthRoutes)
  await fastify.register(metricsRoutes)
  await fastify.register(legacyRoutes, { prefix: '/api' })
  await fastify.register(v1Routes, { prefix: '/v1' })
  await fastify.register(webhookRoutes, { prefix: '/webhooks' })
  await fastify.register(adminPageRoutes)
}

// Not encapsulated: the app is the whole service, and the process (or a test) may reach its decorators.
export default fp(app, { name: 'fanout-app' })
