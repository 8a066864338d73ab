/**
 * The mock's fault knobs, seen through the real adapters over real HTTP: each
 * fault arrives in the messenger's own shape and the adapter judges it as the
 * tables in docs/messengers.md say.
 */
import t from 'tap'
import type { Test } from 'tap'
import { parseBehaviourConfig } from '../../mock-messengers/config.js'
import { createAdapters } from '../../src/messengers/index.js'
import type { MessengerAdapter, SendOutcome } from '../../src/messengers/adapter.js'
import { MESSENGERS, type Messenger } from '../../src/model/messenger.js'
import { testConfig } from '../helpers/app.js'
import { startMock, type TestMock } from '../helpers/mock.js'

const ADDRESS: Record<Messenger, string> = { telegram: '1001', whatsapp: '+15551234567', viber: 'viber-user-1' }

async function setup (t: Test, env: Record<string, string> = {}): Promise<{ mock: TestMock, adapters: Record<Messenger, MessengerAdapter> }> {
  const mock = await startMock(t, { behaviour: { viber: { reject: false } } })
  const config = testConfig('unused', mock, env)
  const adapters = createAdapters(config.messengers, config.delivery.sendTimeoutMs)
  t.teardown(async () => { await Promise.all(MESSENGERS.map((m) => adapters[m].close())) })
  return { mock, adapters }
}

let n = 0
const send = (adapter: MessengerAdapter): Promise<SendOutcome> =>
  adapter.send({ address: ADDRESS[adapter.messenger], text: 'fault', idempotencyKey: `D.${n++}` })

t.test('throttling: each messenger\'s own answer, judged retryable, Telegram\'s with its retry_after', async (t) => {
  const { mock, adapters } = await setup(t)
  for (const messenger of MESSENGERS) {
    await mock.behave(messenger, { ratePerSecond: 3 })
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => send(adapters[messenger])))
    const accepted = outcomes.filter((o) => o.result === 'accepted').length
    const throttled = outcomes.filter((o) => o.result === 'retryable')
    // Twelve at once against three a second: three pass (six if the burst straddles a second), the rest are throttled.
    t.ok(accepted >= 3 && accepted <= 6, `${messenger}: ${accepted} passed the limit`)
    t.equal(accepted + throttled.length, 12, `${messenger}: every other send was throttled`)
    t.equal((await mock.received({ messenger, outcome: 'throttled' })).count, throttled.length)
    const expected = { telegram: /^telegram 429: Too Many Requests: retry after \d/, whatsapp: /^whatsapp 130429: \(#130429\) Rate limit hit/, viber: /^viber 12: tooManyRequests/ }[messenger]
    t.match(throttled[0], { result: 'retryable', error: expected })
    if (messenger === 'telegram') t.ok(throttled.every((o) => o.result === 'retryable' && o.retryAfterMs !== undefined && o.retryAfterMs >= 1000), 'retry_after carried in ms')
  }
})

t.test('5xx: a burst of N, or a rate; retryable, with the status chosen', async (t) => {
  const { mock, adapters } = await setup(t)
  await mock.behave('whatsapp', { failNext: 2, errorStatus: 502 })
  const burst = []
  for (let i = 0; i < 3; i++) burst.push(await send(adapters.whatsapp))
  t.same(burst.map((o) => o.result), ['retryable', 'retryable', 'accepted'])
  t.match(burst[0], { error: 'whatsapp HTTP 502' })

  await mock.behave('telegram', { errorRate: 0.5 })
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => send(adapters.telegram)))
  const failed = outcomes.filter((o) => o.result === 'retryable').length
  t.ok(failed > 60 && failed < 140, `about half failed (${failed} of 200)`)
  await mock.behave('telegram', { errorRate: 1 })
  t.match(await send(adapters.telegram), { result: 'retryable', error: 'telegram HTTP 503' })
})

t.test('garbage answers are retryable, never taken as accepted', async (t) => {
  const { mock, adapters } = await setup(t)
  for (const messenger of MESSENGERS) {
    for (const garbage of ['invalid-json', 'wrong-shape'] as const) {
      await mock.behave(messenger, { garbage })
      t.match(await send(adapters[messenger]), { result: 'retryable', error: /unreadable answer \(HTTP 200\)/ }, `${messenger} ${garbage}`)
    }
  }
})

t.test('outages: a reset connection and a hanging one are retryable, and the hang is cut at the timeout', async (t) => {
  const { mock, adapters } = await setup(t, { SEND_TIMEOUT_MS: '300' })
  await mock.behave('viber', { outage: 'refuse' })
  t.match(await send(adapters.viber), { result: 'retryable', error: /^network error/ })
  await mock.behave('whatsapp', { outage: 'hang' })
  // The hang never answers: an outcome at all means the timeout cut it.
  t.match(await send(adapters.whatsapp), { result: 'retryable', error: 'timed out waiting for the messenger' })
  t.match(await send(adapters.telegram), { result: 'accepted' }, 'the others are unaffected')
})

t.test('latency as a range, as one origin system emulated (1-3 s there)', async (t) => {
  const { mock, adapters } = await setup(t)
  await mock.behave('telegram', { latencyMs: [100, 200] })
  const started = Date.now()
  await Promise.all(Array.from({ length: 5 }, () => send(adapters.telegram)))
  const took = Date.now() - started
  t.ok(took >= 100, `five took ${took} ms: none answered before the least latency`)
})

t.test('MOCK_BEHAVIOUR: read at start, and refused with a reason when wrong', async (t) => {
  t.same(parseBehaviourConfig('{"viber": {"latencyMs": [1000, 3000]}, "whatsapp": {"errorRate": 0.2}}'),
    { viber: { latencyMs: [1000, 3000] }, whatsapp: { errorRate: 0.2 } })
  t.throws(() => parseBehaviourConfig('{viber'), /MOCK_BEHAVIOUR is not JSON/)
  t.throws(() => parseBehaviourConfig('{"viber": {"errorRate": 2}}'), /MOCK_BEHAVIOUR.viber.errorRate must be <= 1/)
  t.throws(() => parseBehaviourConfig('{"sms": {}}'), /MOCK_BEHAVIOUR/)
  t.throws(() => parseBehaviourConfig('{"telegram": {"outage": "sometimes"}}'), /MOCK_BEHAVIOUR.telegram.outage/)
})
