/**
 * Fastify's options, shared by the process (`server.ts`) and the tests, so
 * the two never drift apart: logging (with the secrets it must never write),
 * request ids, limits and timeouts.
 */
import { LogController, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { frameworkErrors } from './plugins/app/error-handler.js'

/** Secrets that must never reach a log line (pino redaction paths). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-viber-auth-token"]',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.password',
  '*.key',
  '*.adminKey',
  '*.secretKey',
  '*.secret',
  'req.headers["webhook-signature"]',
  'config.redis.url',
  'config.statusWebhooks.secretKey'
]

export function serverOptions (config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' }
    },
    // One log line per request is written in the onResponse hook (app.ts), with the request id.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Longer than any valid path parameter (a contact name is at most 100 characters, as UTF-8 percent-encoding
    // up to 12 times that), so an over-long one reaches the route's schema and gets our 400 naming it.
    routerOptions: { maxParamLength: 2000 },
    frameworkErrors,
    // Enough for the slowest client of a self-hosted service; keeps slowloris out.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  }
}
