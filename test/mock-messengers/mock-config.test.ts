/** The mock's settings for receipts and profiles, read from the environment like the service's. */
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { loadMockConfig } from '../../mock-messengers/config.js'

t.test('defaults: the default profile, no receipts, the service\'s WhatsApp app secret', async (t) => {
  const { options } = loadMockConfig({})
  t.equal(options.profile, 'default')
  t.notOk('receiptsUrl' in options, 'no MOCK_RECEIPTS_URL: no receipts')
  t.equal(options.whatsappAppSecret, loadConfig({}).messengers.whatsapp.appSecret)
  t.equal(loadConfig({}).messengers.whatsapp.appSecret, 'mock-whatsapp-app-secret')
  t.equal(loadConfig({}).messengers.whatsapp.verifyToken, 'mock-whatsapp-verify-token')
})

t.test('MOCK_RECEIPTS_URL, MOCK_PROFILE, WHATSAPP_APP_SECRET and receipt knobs in MOCK_BEHAVIOUR', async (t) => {
  const { options } = loadMockConfig({
    MOCK_RECEIPTS_URL: 'http://127.0.0.1:8080/',
    MOCK_PROFILE: 'realistic',
    WHATSAPP_APP_SECRET: 'the-app-secret',
    WHATSAPP_VERIFY_TOKEN: 'the-verify-token',
    MOCK_BEHAVIOUR: '{"whatsapp": {"receipts": {"readRate": 0.5, "delayMs": [0, 100]}}}'
  })
  t.match(options, { receiptsUrl: 'http://127.0.0.1:8080', profile: 'realistic', whatsappAppSecret: 'the-app-secret', behaviour: { whatsapp: { receipts: { readRate: 0.5, delayMs: [0, 100] } } } },
    'a trailing slash dropped')
  t.equal(loadConfig({ WHATSAPP_VERIFY_TOKEN: 'the-verify-token' }).messengers.whatsapp.verifyToken, 'the-verify-token')
})

t.test('bad settings name themselves', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ MOCK_RECEIPTS_URL: 'ftp://127.0.0.1' }, /MOCK_RECEIPTS_URL "ftp:\/\/127.0.0.1" is not an http\(s\) URL/],
    [{ MOCK_RECEIPTS_URL: 'nowhere' }, /MOCK_RECEIPTS_URL/],
    [{ MOCK_PROFILE: 'strict' }, /MOCK_PROFILE/],
    [{ MOCK_BEHAVIOUR: '{"viber": {"receipts": {"failRate": 3}}}' }, /MOCK_BEHAVIOUR.viber.receipts.failRate/],
    [{ MOCK_BEHAVIOUR: '{"viber": {"receipts": {"sometimes": true}}}' }, /MOCK_BEHAVIOUR.viber.receipts/],
    [{ WHATSAPP_APP_SECRET: '' }, /WHATSAPP_APP_SECRET/]
  ]
  for (const [env, message] of cases) t.throws(() => loadMockConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
})
