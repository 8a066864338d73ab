/** Configuration: defaults that work out of the box, and settings that refuse to start, naming the variable. */
import t from 'tap'
import { checkAuthSettings, checkWebhookSecrets, DEFAULT_MONGODB_DATABASE, loadConfig } from '../src/config.js'
import { serverOptions } from '../src/server-options.js'
import { loadMockConfig } from '../mock-messengers/config.js'

const ADMIN_API_KEY = 'an-administrator-key-of-32-chars!'
/** The settings as the service checks them before it starts. */
const load = (env: Record<string, string>) => {
  const config = loadConfig(env)
  checkAuthSettings(config)
  return config
}

t.test('defaults: ports 8080/8081, Redis on loopback, every messenger at the bundled mock', async (t) => {
  const config = loadConfig({})
  t.match(config, { host: '127.0.0.1', port: 8080, role: 'all', timeZone: 'UTC', mongodb: undefined, redis: { url: 'redis://127.0.0.1:6379', prefix: 'fanout' } })
  t.same(config.mock, { host: '127.0.0.1', port: 8081 })
  t.match(loadMockConfig({}), { host: '127.0.0.1', port: 8081, options: { logger: false, tokens: { viber: config.messengers.viber.token } } },
    'the mock listens there, with the service\'s tokens')
  t.equal(config.messengers.telegram.baseUrl, 'http://127.0.0.1:8081/telegram')
  t.equal(config.messengers.whatsapp.baseUrl, 'http://127.0.0.1:8081/whatsapp')
  t.equal(config.messengers.viber.baseUrl, 'http://127.0.0.1:8081/viber')
  t.equal(loadConfig({ MOCK_PORT: '9000' }).messengers.viber.baseUrl, 'http://127.0.0.1:9000/viber', 'the mock default follows MOCK_PORT')
})

t.test('a real API is configuration only', async (t) => {
  const config = loadConfig({ TELEGRAM_API_URL: 'https://api.telegram.org/', TELEGRAM_BOT_TOKEN: '123:abc', WHATSAPP_API_URL: 'https://graph.facebook.com', VIBER_API_URL: 'https://chatapi.viber.com' })
  t.equal(config.messengers.telegram.baseUrl, 'https://api.telegram.org', 'a trailing slash is dropped')
  t.equal(config.messengers.telegram.token, '123:abc')
  t.equal(config.messengers.whatsapp.baseUrl, 'https://graph.facebook.com')
  t.equal(config.messengers.viber.baseUrl, 'https://chatapi.viber.com')
})

t.test('MongoDB: the database named in the URL, replica-set URLs included, else the default', async (t) => {
  t.same(loadConfig({ MONGODB_URL: 'mongodb://u:p@h1:27017,h2:27017/contacts?replicaSet=rs0' }).mongodb,
    { url: 'mongodb://u:p@h1:27017,h2:27017/contacts?replicaSet=rs0', database: 'contacts' })
  t.equal(loadConfig({ MONGODB_URL: 'mongodb://localhost:27017' }).mongodb?.database, DEFAULT_MONGODB_DATABASE)
})

t.test('a bad setting stops the start with a message naming it', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ ROLE: 'both' }, /ROLE/],
    [{ TIME_ZONE: 'Mars/Olympus' }, /TIME_ZONE "Mars\/Olympus" is not an IANA time zone/],
    [{ TELEGRAM_API_URL: 'ftp://example.com' }, /TELEGRAM_API_URL "ftp:\/\/example.com" is not an http\(s\) URL/],
    [{ VIBER_API_URL: 'not a url' }, /VIBER_API_URL/],
    [{ MONGODB_URL: 'http://nope' }, /MONGODB_URL is not a MongoDB connection string/],
    [{ REDIS_PREFIX: 'a:b' }, /REDIS_PREFIX/],
    [{ DELIVERY_ATTEMPTS: '0' }, /DELIVERY_ATTEMPTS/],
    [{ VIBER_SENDER_NAME: 'x'.repeat(29) }, /VIBER_SENDER_NAME/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  }
  t.throws(() => loadMockConfig({ MOCK_LOG: 'perhaps' }), { name: 'ConfigError', message: /MOCK_LOG/ }, 'the mock\'s own settings too')
  t.throws(() => loadMockConfig({ MOCK_BEHAVIOUR: '{"viber": {"errorRate": 2}}' }), { name: 'ConfigError', message: /MOCK_BEHAVIOUR.viber.errorRate/ })
})

t.test('authentication is on by default, and there is no way to leave the network door open by accident', async (t) => {
  t.same(load({ ADMIN_API_KEY }).auth, { enabled: true, adminKey: ADMIN_API_KEY, allowUnauthenticatedNetworkAccess: false }, 'on by default')
  t.throws(() => load({}), { name: 'ConfigError', message: /AUTH is on and ADMIN_API_KEY is not set/ }, 'on without an administrator key: no start')
  t.throws(() => load({ ADMIN_API_KEY: 'short' }), { name: 'ConfigError', message: /ADMIN_API_KEY/ }, 'an administrator key under 32 characters')
  t.same(load({ AUTH: 'off' }).auth, { enabled: false, adminKey: undefined, allowUnauthenticatedNetworkAccess: false }, 'off on the default loopback host: starts')
  // The mock messengers read the same settings; the authentication check is the service's (auth plugin), not loadConfig's.
  t.equal(loadConfig({}).mock.port, 8081, 'loadConfig alone does not refuse AUTH on without a key: the mock can start')
  for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) {
    t.equal(load({ AUTH: 'off', HOST: host }).auth.enabled, false, `off on ${host}: starts`)
  }
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
    t.throws(() => load({ AUTH: 'off', HOST: host }), { name: 'ConfigError', message: new RegExp(`AUTH=off while HOST is ${host}.*DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS`) },
      `off on ${host}: refused`)
  }
  t.equal(load({ AUTH: 'off', HOST: '0.0.0.0', DANGEROUSLY_ALLOW_UNAUTHENTICATED_NETWORK_ACCESS: 'true' }).auth.enabled, false,
    'the loudly named override lets it start')
  t.equal(load({ AUTH: 'on', HOST: '0.0.0.0', ADMIN_API_KEY }).auth.enabled, true, 'on: any host')
  t.throws(() => load({ AUTH: 'maybe' }), { name: 'ConfigError', message: /AUTH/ })
})

t.test('webhook secrets: the mock\'s defaults are refused once WhatsApp is real', async (t) => {
  t.doesNotThrow(() => checkWebhookSecrets(loadConfig({})), 'against the mock, the defaults do')
  const real = { WHATSAPP_API_URL: 'https://graph.facebook.com' }
  t.throws(() => checkWebhookSecrets(loadConfig(real)), { name: 'ConfigError', message: /WHATSAPP_APP_SECRET is the mock's default/ })
  t.throws(() => checkWebhookSecrets(loadConfig({ ...real, WHATSAPP_APP_SECRET: 'from-meta' })), { message: /WHATSAPP_VERIFY_TOKEN is the mock's default/ })
  t.doesNotThrow(() => checkWebhookSecrets(loadConfig({ ...real, WHATSAPP_APP_SECRET: 'from-meta', WHATSAPP_VERIFY_TOKEN: 'mine' })))
  t.equal(loadConfig({ VIBER_WEBHOOK_URL: 'https://fanout.example/webhooks/viber' }).messengers.viber.webhookUrl, 'https://fanout.example/webhooks/viber')
  t.equal(loadConfig({ VIBER_WEBHOOK_URL: 'http://127.0.0.1:8080/webhooks/viber' }).messengers.viber.webhookUrl, 'http://127.0.0.1:8080/webhooks/viber', 'http on loopback, for the mock')
  for (const wrong of ['http://fanout.example/webhooks/viber', 'not a url', 'ftp://x']) {
    t.throws(() => loadConfig({ VIBER_WEBHOOK_URL: wrong }), { name: 'ConfigError', message: /VIBER_WEBHOOK_URL/ }, wrong)
  }
})

t.test('invite links: their settings, the Telegram webhook, and its secret refused as the mock\'s once Telegram is real', async (t) => {
  const defaults = loadConfig({})
  t.same(defaults.invites, { ttlSeconds: 7 * 24 * 3600 }, 'tokens live 7 days by default')
  t.same([defaults.messengers.telegram.botUsername, defaults.messengers.viber.chatUri, defaults.messengers.whatsapp.businessNumber], [undefined, undefined, undefined])
  const set = loadConfig({ INVITE_TTL_SECONDS: '60', TELEGRAM_BOT_USERNAME: 'fanout_bot', VIBER_CHAT_URI: 'fanoutbot', WHATSAPP_BUSINESS_NUMBER: '+15550001111', TELEGRAM_WEBHOOK_URL: 'https://fanout.example/webhooks/telegram' })
  t.same([set.invites.ttlSeconds, set.messengers.telegram.botUsername, set.messengers.viber.chatUri, set.messengers.whatsapp.businessNumber, set.messengers.telegram.webhookUrl],
    [60, 'fanout_bot', 'fanoutbot', '+15550001111', 'https://fanout.example/webhooks/telegram'])
  for (const [name, wrong] of [['TELEGRAM_WEBHOOK_URL', 'http://fanout.example/webhooks/telegram'], ['WHATSAPP_BUSINESS_NUMBER', '15550001111'], ['TELEGRAM_BOT_USERNAME', '@fanout_bot'],
    ['TELEGRAM_WEBHOOK_SECRET', 'has spaces'], ['INVITE_TTL_SECONDS', '0']] as const) {
    t.throws(() => loadConfig({ [name]: wrong }), { name: 'ConfigError', message: new RegExp(name) }, `${name}=${wrong}`)
  }
  const real = { TELEGRAM_API_URL: 'https://api.telegram.org' }
  t.throws(() => checkWebhookSecrets(loadConfig(real)), { name: 'ConfigError', message: /TELEGRAM_WEBHOOK_SECRET is the mock's default/ })
  t.doesNotThrow(() => checkWebhookSecrets(loadConfig({ ...real, TELEGRAM_WEBHOOK_SECRET: 'my-own-secret' })))
})

t.test('abuse limits and Redis credentials', async (t) => {
  const config = loadConfig({})
  t.same(config.rateLimit, { max: 6000, windowMs: 60_000, burst: 3000, burstWindowMs: 600_000 }, 'limits an ordinary script never meets: 6,000 points a minute, a burst of 3,000 once per 10 minutes')
  t.same(config.limits, { contactsPerUser: 100_000, deliveriesPerDispatch: 100_000 })
  t.same(loadConfig({ RATE_LIMIT_MAX: '0', MAX_CONTACTS_PER_USER: '10', MAX_DELIVERIES_PER_DISPATCH: '5' }).limits, { contactsPerUser: 10, deliveriesPerDispatch: 5 })
  t.throws(() => loadConfig({ MAX_DELIVERIES_PER_DISPATCH: '100001' }), { message: /MAX_DELIVERIES_PER_DISPATCH/ }, 'the store\'s own bound is the ceiling')
  const defaults = { mode: 'single', url: 'redis://127.0.0.1:6379', prefix: 'fanout', minReplicasAck: 0, replicaAckTimeoutMs: 1000, commandTimeoutMs: 1000, memoryWarnPercent: 85, memoryCheckMs: 30_000 }
  t.same(config.redis, defaults, 'no credentials unless given')
  t.same(loadConfig({ REDIS_USERNAME: 'fanout', REDIS_PASSWORD: 's3cret' }).redis, { ...defaults, username: 'fanout', password: 's3cret' })
})

t.test('Redis: one server, a cluster or Sentinel, one at a time, addresses checked at start', async (t) => {
  t.match(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.internal:7001,[::1]:7002' }).redis, {
    mode: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-2.internal', port: 7001 }, { host: '::1', port: 7002 }]
  })
  t.match(loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'fanout' }).redis, {
    mode: 'sentinel', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], sentinelName: 'fanout'
  })
  t.match(loadConfig({ REDIS_MIN_REPLICAS_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '250' }).redis, { minReplicasAck: 1, replicaAckTimeoutMs: 250 })
  for (const [env, message] of [
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' }, /both set/],
    [{ REDIS_CLUSTER_NODES: 'redis-1' }, /REDIS_CLUSTER_NODES "redis-1" is not host:port/],
    [{ REDIS_CLUSTER_NODES: 'redis-1:99999' }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_SENTINELS: 'x:y' }, /REDIS_SENTINELS "x:y"/],
    [{ REDIS_MIN_REPLICAS_ACK: '-1' }, /REDIS_MIN_REPLICAS_ACK/]
  ] as const) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  }
})

t.test('TRUST_PROXY: unset trusts no proxy; addresses and ranges are checked at start', async (t) => {
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,loopback, ::1, fd00::/8' }).trustProxy, '10.0.0.1,10.1.0.0/16,loopback,::1,fd00::/8')
  t.equal(serverOptions(loadConfig({ TRUST_PROXY: '10.0.0.1' })).trustProxy, '10.0.0.1', 'handed to Fastify')
  for (const wrong of ['1', 'true', '10.0.0.256', '10.0.0.0/33', '::1/129', 'proxy.example.com', '10.0.0.1/8/2']) {
    t.throws(() => loadConfig({ TRUST_PROXY: wrong }), { name: 'ConfigError', message: /TRUST_PROXY/ }, `"${wrong}" is refused`)
  }
})
