/** Configuration: defaults that work out of the box, and settings that refuse to start, naming the variable. */
import t from 'tap'
import { DEFAULT_MONGODB_DATABASE, loadConfig } from '../src/config.js'

t.test('defaults: ports 8080/8081, Redis on loopback, every messenger at the bundled mock', async (t) => {
  const config = loadConfig({})
  t.match(config, { host: '127.0.0.1', port: 8080, role: 'all', timeZone: 'UTC', mongodb: undefined, redis: { url: 'redis://127.0.0.1:6379', prefix: 'fanout' } })
  t.same(config.mock, { host: '127.0.0.1', port: 8081, log: false })
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
})
