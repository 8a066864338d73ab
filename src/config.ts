/**
 * Configuration: every setting comes from the environment, is validated once
 * at boot against one schema, and is then read from the decorated `config`.
 * Tests build their configuration through the same `loadConfig` as
 * production. Each setting is written once, in the schema below with its
 * default and meaning; `Config` is derived from what `loadConfig` builds.
 * The mock messengers' own settings are in mock-messengers/config.ts.
 */
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import envSchema from 'env-schema'
import { Type, type Static, type TSchema } from 'typebox'
import { IANAZone } from 'luxon'
import { ConnectionString } from 'mongodb-connection-string-url'
import { MAX_DELIVERIES_PER_DISPATCH } from './model/delivery.js'
import { MESSENGERS, type Messenger } from './model/messenger.js'

const Port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback })
const Positive = (fallback: number) => Type.Integer({ minimum: 1, default: fallback })
const PerSecond = (fallback: number) => Type.Integer({ minimum: 0, default: fallback })

type MessengerVariable<Suffix extends string> = `${Uppercase<Messenger>}_${Suffix}`
const variable = <Suffix extends string>(messenger: Messenger, suffix: Suffix) =>
  `${messenger.toUpperCase() as Uppercase<Messenger>}_${suffix}` as const

/** One setting per messenger: TELEGRAM_<suffix>, WHATSAPP_<suffix>, VIBER_<suffix>. */
function perMessenger<Suffix extends string, S extends TSchema> (suffix: Suffix, schema: (messenger: Messenger) => S): Record<MessengerVariable<Suffix>, S> {
  return Object.fromEntries(MESSENGERS.map((m) => [variable(m, suffix), schema(m)])) as Record<MessengerVariable<Suffix>, S>
}

/** Sends per second each messenger takes by default: Telegram documents about 30/s, WhatsApp 80/s per number; Viber documents none (this keeps a burst polite). */
const DEFAULT_RATES: Record<Messenger, number> = { telegram: 30, whatsapp: 80, viber: 100 }

export const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Port(8080),
  /** `all` runs the API and the senders in one process; `api` and `worker` split them to scale out. */
  ROLE: Type.Enum(['all', 'api', 'worker'] as const, { default: 'all' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  /** The largest body of POST /v1/contacts/import, in bytes: 100,000 rows of CSV or JSON are several MB. */
  IMPORT_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024 }),
  /**
   * Behind a reverse proxy: the proxies whose X-Forwarded-For is believed, by
   * address (`10.0.0.1, 10.1.0.0/16, loopback`). Unset: the client address is
   * the peer's, and the per-address rate limit counts the proxy as one client.
   * (No hop count: Fastify 5 ignores one, since it cannot tell a proxy from a
   * client that sends the header itself.)
   */
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),

  /** `on`: every route but /health and /docs needs an API key. `off` only for a trial on a loopback address. */
  AUTH: Type.Enum(['on', 'off'] as const, { default: 'on' }),
  /** The administrator's key (manages users and their keys); at least 32 characters. */
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** Lets AUTH=off listen on a non-loopback address: anyone who reaches the port reads every user's data. */
  DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS: Type.Boolean({ default: false }),
  /**
   * Points per key (or per client address, without a key) within RATE_LIMIT_WINDOW_MS; 0: no limit. A
   * request costs 1 point, a send 5, an import 1 per 100 rows, an export 1 per 1,000 contacts (plugins/app/rate-limit.ts).
   */
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 6000 }),
  /** Whole seconds: the limiter counts in seconds. */
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, multipleOf: 1000, default: 60_000 }),
  /** Points a key may spend past RATE_LIMIT_MAX, once per RATE_LIMIT_BURST_WINDOW_MS (a script's busy minute); 0: no burst. */
  RATE_LIMIT_BURST: Type.Integer({ minimum: 0, default: 3000 }),
  RATE_LIMIT_BURST_WINDOW_MS: Type.Integer({ minimum: 1000, multipleOf: 1000, default: 10 * 60_000 }),
  /** A user's contact book holds at most this many contacts. */
  MAX_CONTACTS_PER_USER: Positive(100_000),
  /** One dispatch makes at most this many deliveries (contacts times their messengers, plus addresses). */
  MAX_DELIVERIES_PER_DISPATCH: Type.Integer({ minimum: 1, maximum: MAX_DELIVERIES_PER_DISPATCH, default: MAX_DELIVERIES_PER_DISPATCH }),

  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** A Redis Cluster instead: some of its nodes, `host:port,host:port` (the rest are found from them). */
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1 })),
  /** A Redis behind Sentinel instead: the sentinels, `host:port,host:port`, and the name of the master they watch. */
  REDIS_SENTINELS: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_SENTINEL_NAME: Type.String({ minLength: 1, default: 'mymaster' }),
  /**
   * Accepted means kept: a send is answered only once this many replicas have its records (Redis WAIT),
   * or a 503 after REDIS_REPLICA_ACK_TIMEOUT_MS. 0: as soon as the master has them.
   */
  REDIS_MIN_REPLICAS_ACK: Type.Integer({ minimum: 0, maximum: 10, default: 0 }),
  REDIS_REPLICA_ACK_TIMEOUT_MS: Positive(1000),
  /** The API's Redis commands give up after this long (a Redis that hangs): the request is answered 503. */
  REDIS_COMMAND_TIMEOUT_MS: Positive(1000),
  /** Above this share (%) of Redis's maxmemory the service warns (a log line, a metric) before sends are refused. */
  REDIS_MEMORY_WARN_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 85 }),
  /** How often Redis's used memory is looked at for that warning. */
  REDIS_MEMORY_CHECK_MS: Positive(30_000),
  /** Every Redis key the service writes starts with this (tests use one per test). */
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'fanout' }),
  /** Redis ACL user and password (redis.conf `requirepass` or `user`); they may also be in REDIS_URL. */
  REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  MONGODB_URL: Type.Optional(Type.String({ minLength: 1 })),

  /** Time zone of the legacy API's `time: [Y, M, D, h, m, s]` arrays, and of local windows for contacts without one. */
  TIME_ZONE: Type.String({ default: 'UTC' }),

  DELIVERY_ATTEMPTS: Positive(5),
  RETRY_BASE_DELAY_MS: Positive(1000),
  RETRY_MAX_DELAY_MS: Positive(5 * 60_000),
  /** How long finished deliveries (and the failed lookup) are kept. */
  DELIVERY_RETENTION_SECONDS: Positive(7 * 24 * 3600),
  SEND_TIMEOUT_MS: Positive(5000),
  /** BullMQ lock on a job being sent; a crashed sender's jobs are taken over after it lapses. */
  LOCK_DURATION_MS: Positive(30_000),
  STALLED_INTERVAL_MS: Positive(30_000),
  /** How often the outbox is swept for dispatches whose jobs were never enqueued (crash mid-accept). */
  OUTBOX_SWEEP_MS: Positive(30_000),
  /** How often finished deliveries past DELIVERY_RETENTION_SECONDS are deleted. */
  RETENTION_SWEEP_MS: Positive(10 * 60_000),
  /** The same text to the same address within this many seconds is not sent again (`suppressed`); 0: off. */
  DEDUP_WINDOW_SECONDS: Type.Integer({ minimum: 0, default: 24 * 3600 }),
  /** A dispatch that does not say `skip_unreachable` skips addresses marked dead when this is true (off: they are tried again). */
  SKIP_UNREACHABLE_DEFAULT: Type.Boolean({ default: false }),

  /** Where the bundled mock messengers listen: every messenger's API unless its *_API_URL says otherwise. */
  MOCK_HOST: Type.String({ default: '127.0.0.1' }),
  MOCK_PORT: Port(8081),

  /** Base URL of each messenger's API (https://api.telegram.org, https://graph.facebook.com, https://chatapi.viber.com); unset: the bundled mock. */
  ...perMessenger('API_URL', () => Type.Optional(Type.String({ minLength: 1 }))),
  /** Sends in flight to each messenger at once, per process (and connections to it). */
  ...perMessenger('CONCURRENCY', () => Positive(20)),
  /** Sends per second to each messenger at most, across all processes; 0: no limit. */
  ...perMessenger('RATE_PER_SECOND', (m) => PerSecond(DEFAULT_RATES[m])),
  TELEGRAM_BOT_TOKEN: Type.String({ minLength: 1, default: 'mock-telegram-token' }),
  WHATSAPP_TOKEN: Type.String({ minLength: 1, default: 'mock-whatsapp-token' }),
  WHATSAPP_PHONE_NUMBER_ID: Type.String({ pattern: '^[0-9]+$', default: '100000000000001' }),
  WHATSAPP_API_VERSION: Type.String({ pattern: '^v[0-9]+\\.[0-9]+$', default: 'v21.0' }),
  /** The Meta app's secret: the key of the X-Hub-Signature-256 HMAC on every webhook POST WhatsApp makes. */
  WHATSAPP_APP_SECRET: Type.String({ minLength: 1, default: 'mock-whatsapp-app-secret' }),
  /** What the webhook's GET handshake must carry as hub.verify_token (set the same in the Meta app's webhook settings). */
  WHATSAPP_VERIFY_TOKEN: Type.String({ minLength: 1, default: 'mock-whatsapp-verify-token' }),
  VIBER_AUTH_TOKEN: Type.String({ minLength: 1, default: 'mock-viber-token' }),
  VIBER_SENDER_NAME: Type.String({ minLength: 1, maxLength: 28, default: 'Fanout' }),
  /**
   * The public HTTPS URL of this service's Viber webhook (`https://<host>/webhooks/viber`): set, the service
   * registers it with Viber when it starts (Viber sends to no bot without one).
   */
  VIBER_WEBHOOK_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** The Viber bot's URI (its chatURI): set, invites carry a `viber://pa?chatURI=...` link; unset, they have none for Viber. */
  VIBER_CHAT_URI: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  /** The Telegram bot's username (without `@`): set, invites carry a `https://t.me/<bot>?start=...` link; unset, none for Telegram. */
  TELEGRAM_BOT_USERNAME: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{3,31}$' })),
  /**
   * The public HTTPS URL of this service's Telegram webhook (`https://<host>/webhooks/telegram`): set, the service registers
   * it with Telegram (setWebhook, with TELEGRAM_WEBHOOK_SECRET) when it starts, so /start messages of invite links reach it.
   */
  TELEGRAM_WEBHOOK_URL: Type.Optional(Type.String({ minLength: 1 })),
  /** What Telegram must send in X-Telegram-Bot-Api-Secret-Token on each update (setWebhook's secret_token): 1-256 of A-Z a-z 0-9 _ -. */
  TELEGRAM_WEBHOOK_SECRET: Type.String({ pattern: '^[A-Za-z0-9_-]{1,256}$', default: 'mock-telegram-webhook-secret' }),
  /** The WhatsApp business phone number, E.164 (+15550001111): set, invites carry a `https://wa.me/...` link; unset, none for WhatsApp. */
  WHATSAPP_BUSINESS_NUMBER: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })),
  /** How long an invite link's tokens can be used (once each), in seconds: 7 days by default. */
  INVITE_TTL_SECONDS: Positive(7 * 24 * 3600),

  /**
   * Status webhooks (to the users' own endpoints) may go to loopback, private, link-local and unique-local
   * addresses: only for a trial on one machine (`npm start` sets it) or a network you trust entirely.
   */
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false }),
  /** Encrypts the endpoints' signing secrets in Redis (at least 32 characters); unset: derived from ADMIN_API_KEY. */
  WEBHOOK_SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** Status webhook attempts in flight at once, per process... */
  WEBHOOK_CONCURRENCY: Positive(50),
  /** ...and to one endpoint: a slow endpoint takes no more of them. */
  WEBHOOK_ENDPOINT_CONCURRENCY: Positive(4),
  WEBHOOK_CONNECT_TIMEOUT_MS: Positive(2000),
  /** An attempt's whole answer must come within this long. */
  WEBHOOK_TIMEOUT_MS: Positive(5000),
  /** The delays between tries of a message, comma-separated ms (Svix's schedule: about 28 hours); each ±20 %. */
  WEBHOOK_RETRY_SCHEDULE_MS: Type.String({ pattern: '^\\d+(,\\d+)*$', default: '5000,300000,1800000,7200000,18000000,36000000,36000000' }),
  /** An endpoint whose every attempt failed for this long is disabled (and says why). */
  WEBHOOK_DISABLE_AFTER_MS: Positive(5 * 24 * 3600_000),
  /** How long a rotated-out secret keeps signing beside the new one. */
  WEBHOOK_ROTATION_OVERLAP_MS: Positive(24 * 3600_000),
  /** How often the relay moves recorded events into the webhook queue. */
  WEBHOOK_RELAY_MS: Positive(250),

  /** A messenger whose sends fail (retryably) at this rate or more is left alone for BREAKER_RESET_MS... */
  BREAKER_ERROR_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  /** ...once at least this many sends were judged within BREAKER_WINDOW_MS. */
  BREAKER_MIN_SENDS: Positive(10),
  BREAKER_WINDOW_MS: Positive(10_000),
  /** How long an open breaker holds its messenger's deliveries before one probe send. */
  BREAKER_RESET_MS: Positive(10_000)
})

export type Env = Static<typeof EnvSchema>

/** Each messenger's token, under the name its vendor gives it. */
const TOKENS = { telegram: 'TELEGRAM_BOT_TOKEN', whatsapp: 'WHATSAPP_TOKEN', viber: 'VIBER_AUTH_TOKEN' } as const satisfies Record<Messenger, keyof Env>

/**
 * Reads `.env` from the working directory into the environment, if there is
 * one; variables already set win. Only the processes' entry points call this,
 * so tests never pick up a developer's `.env`.
 */
export function loadDotEnv (path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}

/** An invalid setting: the message names the variable, and the process refuses to start. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** The environment, validated against the schema (defaults filled in); a ConfigError names what is wrong. */
export function readEnv (env: Record<string, string | undefined> = process.env): Env {
  try {
    // env: false: read only `env` (process.env by default), never merge process.env into a given one.
    return envSchema<Env>({ schema: EnvSchema, data: env, env: false, dotenv: false })
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`)
  }
}

/** The names proxy-addr gives to address ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** TRUST_PROXY as Fastify takes it; every address is checked here, so a typo stops the start with its name. */
function trustedProxies (setting: string | undefined): false | string {
  if (setting === undefined) return false
  const entries = setting.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    const [address = '', bits, ...rest] = entry.split('/')
    const family = isIP(address)
    const maxBits = family === 6 ? 128 : 32
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits)
    if (!PROXY_RANGES.has(entry) && (family === 0 || !validBits || rest.length > 0)) {
      throw new ConfigError(`invalid configuration: TRUST_PROXY "${entry}" is not an IP address, a CIDR range or one of ${[...PROXY_RANGES].join(', ')}`)
    }
  }
  return entries.join(',')
}

/** Database used when MONGODB_URL names none. */
export const DEFAULT_MONGODB_DATABASE = 'fanout'

function mongoSettings (url: string): { url: string, database: string } {
  let path: string
  try {
    // MongoDB's own parser: replica-set URLs (several hosts) are not WHATWG URLs.
    path = new ConnectionString(url).pathname
  } catch (err) {
    throw new ConfigError(`invalid configuration: MONGODB_URL is not a MongoDB connection string (${(err as Error).message})`)
  }
  return { url, database: decodeURIComponent(path.replace(/^\//, '')) || DEFAULT_MONGODB_DATABASE }
}

/** `host:port,host:port` as addresses; a ConfigError naming `name` for anything else. */
function hostPorts (name: string, setting: string): Array<{ host: string, port: number }> {
  return setting.split(',').map((entry) => {
    const match = /^\s*(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})\s*$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) throw new ConfigError(`invalid configuration: ${name} "${entry.trim()}" is not host:port`)
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port }
  })
}

/** Which Redis: one server (REDIS_URL), a cluster, or a master behind Sentinel; only one of them. */
function redisDeployment (raw: Env) {
  if (raw.REDIS_CLUSTER_NODES !== undefined && raw.REDIS_SENTINELS !== undefined) {
    throw new ConfigError('invalid configuration: REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set; a deployment uses one')
  }
  if (raw.REDIS_CLUSTER_NODES !== undefined) return { mode: 'cluster' as const, nodes: hostPorts('REDIS_CLUSTER_NODES', raw.REDIS_CLUSTER_NODES), url: raw.REDIS_URL }
  if (raw.REDIS_SENTINELS !== undefined) {
    return { mode: 'sentinel' as const, sentinels: hostPorts('REDIS_SENTINELS', raw.REDIS_SENTINELS), sentinelName: raw.REDIS_SENTINEL_NAME, url: raw.REDIS_URL }
  }
  return { mode: 'single' as const, url: raw.REDIS_URL }
}

/** A messenger's base URL: the configured one, or its path on the bundled mock. */
function baseUrl (raw: Env, messenger: Messenger): string {
  const name = variable(messenger, 'API_URL')
  const host = raw.MOCK_HOST.includes(':') ? `[${raw.MOCK_HOST}]` : raw.MOCK_HOST
  const url = (raw[name] ?? `http://${host}:${raw.MOCK_PORT}/${messenger}`).replace(/\/+$/, '')
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigError(`invalid configuration: ${name} "${url}" is not an http(s) URL`)
  }
  return url
}

/** VIBER_WEBHOOK_URL or TELEGRAM_WEBHOOK_URL, checked: both platforms take only https (http on loopback, for the mock). */
function webhookUrl (setting: string | undefined, name = 'VIBER_WEBHOOK_URL'): string | undefined {
  if (setting === undefined) return undefined
  const url = URL.canParse(setting) ? new URL(setting) : undefined
  if (url === undefined || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)))) {
    throw new ConfigError(`invalid configuration: ${name} "${setting}" is not an https URL`)
  }
  return setting
}

function messengerSettings (raw: Env, messenger: Messenger) {
  return {
    baseUrl: baseUrl(raw, messenger),
    token: raw[TOKENS[messenger]],
    concurrency: raw[variable(messenger, 'CONCURRENCY')],
    /** Sends per second at most, across all processes; 0: no limit. */
    ratePerSecond: raw[variable(messenger, 'RATE_PER_SECOND')]
  }
}

export function loadConfig (env: Record<string, string | undefined> = process.env) {
  const raw = readEnv(env)
  if (!IANAZone.isValidZone(raw.TIME_ZONE)) {
    throw new ConfigError(`invalid configuration: TIME_ZONE "${raw.TIME_ZONE}" is not an IANA time zone`)
  }
  return {
    host: raw.HOST,
    port: raw.PORT,
    role: raw.ROLE,
    logLevel: raw.LOG_LEVEL,
    bodyLimit: raw.BODY_LIMIT,
    importBodyLimit: raw.IMPORT_BODY_LIMIT,
    /** Fastify's `trustProxy`: false, or the proxies' addresses. */
    trustProxy: trustedProxies(raw.TRUST_PROXY),
    auth: {
      enabled: raw.AUTH === 'on',
      adminKey: raw.ADMIN_API_KEY,
      allowUnauthenticatedNetworkAccess: raw.DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS
    },
    rateLimit: {
      max: raw.RATE_LIMIT_MAX,
      windowMs: raw.RATE_LIMIT_WINDOW_MS,
      burst: raw.RATE_LIMIT_BURST,
      burstWindowMs: raw.RATE_LIMIT_BURST_WINDOW_MS
    },
    limits: { contactsPerUser: raw.MAX_CONTACTS_PER_USER, deliveriesPerDispatch: raw.MAX_DELIVERIES_PER_DISPATCH },
    redis: {
      ...redisDeployment(raw),
      prefix: raw.REDIS_PREFIX,
      ...(raw.REDIS_USERNAME !== undefined && { username: raw.REDIS_USERNAME }),
      ...(raw.REDIS_PASSWORD !== undefined && { password: raw.REDIS_PASSWORD }),
      minReplicasAck: raw.REDIS_MIN_REPLICAS_ACK,
      replicaAckTimeoutMs: raw.REDIS_REPLICA_ACK_TIMEOUT_MS,
      commandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
      memoryWarnPercent: raw.REDIS_MEMORY_WARN_PERCENT,
      memoryCheckMs: raw.REDIS_MEMORY_CHECK_MS
    },
    /** Present when MONGODB_URL is set: contacts then live in MongoDB. */
    mongodb: raw.MONGODB_URL === undefined ? undefined : mongoSettings(raw.MONGODB_URL),
    timeZone: raw.TIME_ZONE,
    delivery: {
      attempts: raw.DELIVERY_ATTEMPTS,
      retryBaseDelayMs: raw.RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: Math.max(raw.RETRY_MAX_DELAY_MS, raw.RETRY_BASE_DELAY_MS),
      retentionSeconds: raw.DELIVERY_RETENTION_SECONDS,
      sendTimeoutMs: raw.SEND_TIMEOUT_MS,
      lockDurationMs: raw.LOCK_DURATION_MS,
      stalledIntervalMs: raw.STALLED_INTERVAL_MS,
      outboxSweepMs: raw.OUTBOX_SWEEP_MS,
      retentionSweepMs: raw.RETENTION_SWEEP_MS,
      dedupWindowSeconds: raw.DEDUP_WINDOW_SECONDS,
      skipUnreachableDefault: raw.SKIP_UNREACHABLE_DEFAULT
    },
    breaker: {
      errorPercent: raw.BREAKER_ERROR_PERCENT,
      minSends: raw.BREAKER_MIN_SENDS,
      windowMs: raw.BREAKER_WINDOW_MS,
      resetMs: raw.BREAKER_RESET_MS
    },
    statusWebhooks: {
      allowPrivate: raw.WEBHOOK_ALLOW_PRIVATE,
      // AUTH=off without an admin key is a loopback trial: its secrets need no key of their own.
      secretKey: raw.WEBHOOK_SECRET_KEY ?? raw.ADMIN_API_KEY ?? 'loopback-trial-status-webhook-secrets',
      concurrency: raw.WEBHOOK_CONCURRENCY,
      perEndpoint: raw.WEBHOOK_ENDPOINT_CONCURRENCY,
      connectTimeoutMs: raw.WEBHOOK_CONNECT_TIMEOUT_MS,
      timeoutMs: raw.WEBHOOK_TIMEOUT_MS,
      scheduleMs: raw.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number),
      disableAfterMs: raw.WEBHOOK_DISABLE_AFTER_MS,
      rotationOverlapMs: raw.WEBHOOK_ROTATION_OVERLAP_MS,
      relayMs: raw.WEBHOOK_RELAY_MS
    },
    /** Where the bundled mock messengers listen. */
    mock: { host: raw.MOCK_HOST, port: raw.MOCK_PORT },
    /** Invite links: how long their tokens live. */
    invites: { ttlSeconds: raw.INVITE_TTL_SECONDS },
    messengers: {
      telegram: {
        ...messengerSettings(raw, 'telegram'),
        botUsername: raw.TELEGRAM_BOT_USERNAME,
        webhookUrl: webhookUrl(raw.TELEGRAM_WEBHOOK_URL, 'TELEGRAM_WEBHOOK_URL'),
        webhookSecret: raw.TELEGRAM_WEBHOOK_SECRET
      },
      whatsapp: {
        ...messengerSettings(raw, 'whatsapp'),
        phoneNumberId: raw.WHATSAPP_PHONE_NUMBER_ID,
        apiVersion: raw.WHATSAPP_API_VERSION,
        appSecret: raw.WHATSAPP_APP_SECRET,
        verifyToken: raw.WHATSAPP_VERIFY_TOKEN,
        businessNumber: raw.WHATSAPP_BUSINESS_NUMBER
      },
      viber: {
        ...messengerSettings(raw, 'viber'),
        senderName: raw.VIBER_SENDER_NAME,
        webhookUrl: webhookUrl(raw.VIBER_WEBHOOK_URL),
        chatUri: raw.VIBER_CHAT_URI
      }
    }
  }
}

export type Config = ReturnType<typeof loadConfig>

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Secure by default: the service (not the mock, which shares the settings)
 * refuses to start with no way to create users, or with no credentials asked
 * on an address other machines reach.
 */
export function checkAuthSettings ({ host, auth }: Pick<Config, 'host' | 'auth'>): void {
  if (auth.enabled && auth.adminKey === undefined) {
    throw new ConfigError('invalid configuration: AUTH is on and ADMIN_API_KEY is not set; set ADMIN_API_KEY ' +
      '(at least 32 characters, e.g. `openssl rand -base64 32`) to create users and their keys, or AUTH=off for a trial on 127.0.0.1')
  }
  if (!auth.enabled && !isLoopback(host) && !auth.allowUnauthenticatedNetworkAccess) {
    throw new ConfigError(`invalid configuration: AUTH=off while HOST is ${host}, which is not a loopback address: ` +
      'anyone who reaches the port could read and send as every user. Turn AUTH on, listen on 127.0.0.1, ' +
      'or set DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS=true if something in front of the service checks every request')
  }
}

/** Whether a messenger's API is on this machine: the bundled mock (the default), never the real one. */
export function isLocalApi (config: Pick<Config, 'messengers'>, messenger: Messenger): boolean {
  return isLoopback(new URL(config.messengers[messenger].baseUrl).hostname.replace(/^\[(.*)\]$/, '$1'))
}

/**
 * The WhatsApp webhook's secrets must be real when WhatsApp is: their
 * defaults are the mock's, written in this repository, and with them anyone
 * could forge receipts (and mark failed deliveries delivered).
 */
export function checkWebhookSecrets (config: Pick<Config, 'messengers'>): void {
  // The same for Telegram's webhook: with the mock's secret anyone could send /start updates and connect contacts.
  if (!isLocalApi(config, 'telegram') && config.messengers.telegram.webhookSecret === (EnvSchema.properties.TELEGRAM_WEBHOOK_SECRET as { default?: unknown }).default) {
    throw new ConfigError('invalid configuration: TELEGRAM_API_URL points at a real Telegram but TELEGRAM_WEBHOOK_SECRET is the mock\'s default, ' +
      'known to anyone who reads this repository; set a secret of your own (e.g. `openssl rand -hex 32`)')
  }
  if (isLocalApi(config, 'whatsapp')) return
  const { appSecret, verifyToken } = config.messengers.whatsapp
  for (const [name, value] of [['WHATSAPP_APP_SECRET', appSecret], ['WHATSAPP_VERIFY_TOKEN', verifyToken]] as const) {
    if (value === (EnvSchema.properties[name] as { default?: unknown }).default) {
      throw new ConfigError(`invalid configuration: WHATSAPP_API_URL points at a real WhatsApp but ${name} is the mock's default, ` +
        'known to anyone who reads this repository; set it (the app secret from Meta\'s app dashboard, a verify token of your own)')
    }
  }
}
