/**
 * `build(t)`: the application as production builds it (same `loadConfig`, same
 * `serverOptions`, same plugin), on its own key prefix, with its own mock
 * messengers, torn down when the test ends.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { Writable } from 'node:stream'
import app from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { serverOptions } from '../../src/server-options.js'
import { mockEnv, startMock, type TestMock } from './mock.js'
import { Redis } from 'ioredis'
import type { RedisClient } from '../../src/redis-connection.js'
import { DEFAULT_TARGET, REDIS_URL, connectTarget, deleteKeys, freshPrefix, type RedisTarget } from './redis.js'

export interface Built {
  app: FastifyInstance
  config: Config
  mock: TestMock
  /** A separate client on the same Redis, for looking at what the service wrote. */
  redis: RedisClient
  prefix: string
}

export interface BuildOptions {
  /** Environment on top of the test defaults (as the process would get it). */
  env?: Record<string, string>
  /** Log lines go here instead of nowhere. */
  logStream?: Writable
  mock?: TestMock
  /** Share another app's key prefix (two processes of one deployment). */
  prefix?: string
  /** The Redis deployment to run on (default: the single server). */
  target?: RedisTarget
}

/**
 * Fast timings for tests: short locks so a crashed sender's jobs come back
 * quickly, short retries, no per-second limits (tests of limits set their own).
 * Authentication is off (users named by X-User-Name or `user_name`, on
 * loopback) except in the tests of authentication, which use `AUTH_ENV`.
 */
export const TEST_ENV = {
  AUTH: 'off',
  RATE_LIMIT_MAX: '0',
  TELEGRAM_RATE_PER_SECOND: '0',
  WHATSAPP_RATE_PER_SECOND: '0',
  VIBER_RATE_PER_SECOND: '0',
  LOG_LEVEL: 'silent',
  RETRY_BASE_DELAY_MS: '50',
  RETRY_MAX_DELAY_MS: '400',
  SEND_TIMEOUT_MS: '2000',
  LOCK_DURATION_MS: '3000',
  STALLED_INTERVAL_MS: '1000',
  OUTBOX_SWEEP_MS: '1000',
  // Status webhooks to the tests' own receivers on 127.0.0.1, quickly relayed and retried (the forbidden-target tests turn it off).
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RELAY_MS: '50',
  WEBHOOK_RETRY_SCHEDULE_MS: '100,200,300,300,300,300,300,300,300,300',
  WEBHOOK_TIMEOUT_MS: '1000'
}

/** The administrator key of the tests that turn authentication on. */
export const ADMIN_KEY = 'test-admin-key-0123456789-abcdefghijklmnop'
export const AUTH_ENV = { AUTH: 'on', ADMIN_API_KEY: ADMIN_KEY }

export function testConfig (prefix: string, mock: TestMock, env: Record<string, string> = {}): Config {
  return loadConfig({ REDIS_URL, REDIS_PREFIX: prefix, ...TEST_ENV, ...mockEnv(mock), ...env })
}

export async function build (t: Test, options: BuildOptions = {}): Promise<Built> {
  const mock = options.mock ?? await startMock(t)
  const prefix = options.prefix ?? freshPrefix()
  const target = options.target ?? DEFAULT_TARGET
  const config = testConfig(prefix, mock, { ...target.env, ...(options.logStream && { LOG_LEVEL: 'info' }), ...options.env })
  const fastifyOptions = serverOptions(config)
  if (options.logStream !== undefined) {
    fastifyOptions.logger = { ...(fastifyOptions.logger as object), stream: options.logStream }
  } else if (process.env.TEST_LOG_ERRORS === 'yes' && options.env?.LOG_LEVEL === undefined) {
    // What a CI run needs to tell a 500's cause: the service's error lines, on stderr.
    fastifyOptions.logger = { ...(fastifyOptions.logger as object), level: 'error', stream: process.stderr }
  }
  const fastify = Fastify(fastifyOptions)
  await fastify.register(app, { config })
  await fastify.ready()
  const redis = target.name === 'single' ? new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }) : connectTarget(target)
  // One teardown, in order: the app stops writing before its keys are removed.
  t.teardown(async () => {
    await fastify.close()
    await deleteKeys(redis, prefix)
    await redis.quit()
  })
  return { app: fastify, config, mock, redis, prefix }
}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`.
 * The default is long: what it waits for is often another process (the service, the command,
 * a Redis failing over) on a shared two-core machine running two test files at once. A test
 * that passes waits no longer for it.
 */
export async function eventually<T> (check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined | false
  while (Date.now() < deadline) {
    last = await check()
    if (last !== undefined && last !== false) return last
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
