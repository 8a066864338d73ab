/**
 * The mock messenger server process. It takes the same configuration as the
 * service (MOCK_HOST, MOCK_PORT, the messengers' tokens, WHATSAPP_APP_SECRET),
 * so the two agree out of the box, and its own (MOCK_PROFILE,
 * MOCK_RECEIPTS_URL, MOCK_BEHAVIOUR, MOCK_LOG: config.ts).
 */
import closeWithGrace from 'close-with-grace'
import { loadDotEnv } from '../src/config.js'
import { buildMock } from './app.js'
import { loadMockConfig } from './config.js'

try {
  loadDotEnv()
  const config = loadMockConfig()
  const mock = buildMock(config.options)
  closeWithGrace({ delay: 5000 }, async () => { await mock.close() })
  const address = await mock.listen({ host: config.host, port: config.port })
  const { profile = 'default', receiptsUrl } = config.options
  console.log(`mock messengers listening on ${address} (profile ${profile}${profile === 'default' ? ': Viber always fails' : ''}; ` +
    `${receiptsUrl === undefined ? 'no receipts (MOCK_RECEIPTS_URL unset)' : `receipts to ${receiptsUrl}/webhooks/{whatsapp,viber}`}; ` +
    `records at ${address}/_mock/messages and ${address}/_mock/receipts)`)
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}
