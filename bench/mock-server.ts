/**
 * The mock messengers for the benchmarks: the same mock as
 * mock-messengers/server.ts (same configuration: MOCK_HOST, MOCK_PORT,
 * MOCK_BEHAVIOUR, the service's default tokens), plus a counter of the answers
 * it gave on the messenger routes and when the last one went out:
 *
 *   GET /_bench/count     {count, lastAt, byMessenger}
 *   DELETE /_bench/count  resets it
 *
 * The mock's own GET /_mock/messages returns every record, which at tens of
 * thousands of messages would cost the mock more than the sends it measures.
 */
import { buildMock } from '../mock-messengers/app.js'
import { loadMockConfig } from '../mock-messengers/config.js'

const config = loadMockConfig(process.env)
const mock = buildMock({
  ...config.options,
  // More than any scenario sends, so the mock never trims its records mid-run (a copy of the whole list each time).
  maxRecords: 1_000_000
})

let count = 0
let lastAt = 0
let byMessenger: Record<string, number> = {}
const MESSENGER_ROUTE = /^\/(telegram|whatsapp|viber)\//

mock.addHook('onResponse', async (request) => {
  const messenger = MESSENGER_ROUTE.exec(request.routeOptions.url ?? '')?.[1]
  if (messenger === undefined) return
  count += 1
  lastAt = Date.now()
  byMessenger[messenger] = (byMessenger[messenger] ?? 0) + 1
})
mock.get('/_bench/count', async () => ({ count, lastAt, byMessenger }))
mock.delete('/_bench/count', async () => {
  count = 0
  lastAt = 0
  byMessenger = {}
  return { ok: true }
})

process.once('SIGTERM', () => { void mock.close().then(() => process.exit(0)) })
await mock.listen({ host: config.host, port: config.port })
