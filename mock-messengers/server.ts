/**
 * The mock messenger server process. It takes the same configuration as the
 * service (MOCK_HOST, MOCK_PORT and the messengers' tokens), so the two agree
 * out of the box.
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
  console.log(`mock messengers listening on ${address} (Viber always fails; records at ${address}/_mock/messages)`)
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
}
