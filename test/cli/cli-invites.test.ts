/**
 * `fanout contacts invite NAME`: the links, for people and as JSON, against
 * the service run as its own process (with the Telegram and WhatsApp
 * settings, not Viber's, so the missing one is named); the mock then plays
 * the person opening the Telegram link, and `contacts show` lists the connection.
 */
import t from 'tap'
import { emptyHome, runCli } from '../helpers/cli.js'
import { eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { freePort, runService } from '../helpers/processes.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

const mock = await startMock(t)
const prefix = freshPrefix()
testRedis(t, prefix)
const port = await freePort()
const TELEGRAM_WEBHOOK_URL = `http://127.0.0.1:${port}/webhooks/telegram`
await runService(t, prefix, mock.url, { AUTH: 'off', TELEGRAM_BOT_USERNAME: 'fanout_mock_bot', WHATSAPP_BUSINESS_NUMBER: '+15550001111', TELEGRAM_WEBHOOK_URL }, undefined, port)
const home = emptyHome(t)
const fanout = async (args: string[]) => await runCli(home, args, { FANOUT_URL: `http://127.0.0.1:${port}`, FANOUT_USER: 'ann' })

t.test('a contact with a name only, and its invite links', async (t) => {
  t.equal((await fanout(['contacts', 'add', 'Lera'])).code, 0)
  const run = await fanout(['contacts', 'invite', 'Lera'])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^Invite links for Lera, each usable once until \d{4}-\d\d-\d\dT[\d:.]+Z:\n {2}telegram {2}https:\/\/t\.me\/fanout_mock_bot\?start=[A-Za-z0-9_-]{32}\n {2}whatsapp {2}https:\/\/wa\.me\/15550001111\?text=invite%3A[A-Za-z0-9_-]{32}\n$/)
  t.match(run.stderr, /No viber link: VIBER_CHAT_URI is not set/)

  const json = await fanout(['contacts', 'invite', 'Lera', '--json'])
  t.equal(json.code, 0)
  t.match(JSON.parse(json.stdout), { contact: 'Lera', links: { telegram: { url: /^https:\/\/t\.me\//, token: String }, whatsapp: { code: /^invite:/ } }, unavailable: [{ messenger: 'viber' }] })

  const missing = await fanout(['contacts', 'invite', 'Nobody'])
  t.equal(missing.code, 3, 'not found: exit 3')

  // The mock plays Lera opening the Telegram link; show then lists the connection.
  await eventually(async () => (await mock.control('/telegram/botmock-telegram-token/getWebhookInfo', {})).result.url === TELEGRAM_WEBHOOK_URL, 'the webhook to be registered')
  const token = new URL(JSON.parse(json.stdout).links.telegram.url as string).searchParams.get('start')
  t.match(await mock.control('/_mock/telegram/start', { chat_id: 4242, payload: token }), { webhook: { status: 200 } })
  const shown = await fanout(['contacts', 'show', 'Lera'])
  t.equal(shown.code, 0, shown.stderr)
  t.match(shown.stdout, /^Lera\s+4242$/m, 'the Telegram id filled in')
  t.match(shown.stdout, /\nConnected by invite:\nMESSENGER\s+ID\s+REPLACED\s+AT\ntelegram\s+4242\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/, 'and how it came')
})
