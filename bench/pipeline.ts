/**
 * 3. Pipeline throughput: deliveries per second from the send request to the
 * mock's receipt of the last one, the mock answering at once (Viber accepting
 * too, so every delivery takes the same path), rate limits off.
 *
 * Two baselines on the same Redis and the same mock, with the same
 * concurrency (BENCH_PIPELINE_CONCURRENCY per messenger, three messengers):
 *   (a) bare BullMQ: addBulk of the same number of jobs over three queues, a
 *       no-op worker per queue with that concurrency;
 *   (b) bare undici: one Pool with 3 x concurrency connections, as many loops
 *       posting the same number of sendMessage requests to the mock's Telegram.
 * The figure is ours / the smaller (slower) baseline: what our pipeline does
 * on top of queueing and HTTP costs that share.
 */
import { Pool } from 'undici'
import { bareQueueThroughput } from './bare-bullmq.js'
import { startMock, startService, type Mock } from './processes.js'
import { compare, type Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, redisClient, round, scenarioPrefix, seedContacts, sleep, waitFor } from './support.js'

/** The service's default Telegram bot token, which the mock checks. */
const TELEGRAM_TOKEN = 'mock-telegram-token'

async function bareHttpThroughput (mock: Mock, count: number, inFlight: number): Promise<number> {
  const api = new URL(mock.api('telegram'))
  const pool = new Pool(api.origin, { connections: inFlight })
  const path = `${api.pathname}/bot${TELEGRAM_TOKEN}/sendMessage`
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) {
      const i = next++
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'idempotency-key': `bare-${i}` },
        body: JSON.stringify({ chat_id: 1_000_000 + i, text: 'pipeline baseline' })
      })
      await body.text()
      if (statusCode !== 200) throw new Error(`the mock answered ${statusCode} to the bare undici loop`)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await pool.close()
  return seconds
}

/**
 * One send of `names` (three messengers each) through the service, timed from
 * the request to the mock's answer to the last of its deliveries: seconds.
 */
export async function timedSend (service: { url: string }, mock: Mock, user: string, names: string[], text: string): Promise<number> {
  const deliveries = 3 * names.length
  await mock.reset()
  await sleep(200)
  const started = Date.now()
  const answer = await call(service.url, ROUTES.send.call({ user, contacts: names, text }))
  if (ROUTES.send.deliveries(answer) !== deliveries) throw new Error(`the send created ${ROUTES.send.deliveries(answer)} deliveries, not ${deliveries}`)
  let lastAt = 0
  await waitFor(`${deliveries} deliveries at the mock`, async () => {
    const counted = await mock.count()
    lastAt = counted.lastAt
    return counted.count >= deliveries
  }, 300_000, 50)
  return (lastAt - started) / 1000
}

export async function runPipeline (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const { concurrency } = settings.pipeline
  const contacts = Math.ceil(settings.pipeline.deliveries / 3)
  const deliveries = 3 * contacts
  const SECTION = 'pipeline'
  const redis = redisClient('bench-pipeline')

  const mock = await startMock({ viber: { reject: false } })
  let bullmqSeconds: number
  let undiciSeconds: number
  let oursSeconds: number
  const prefix = scenarioPrefix('pipeline')
  try {
    const barePrefix = scenarioPrefix('pipeline-bare')
    bullmqSeconds = await bareQueueThroughput(barePrefix, deliveries, concurrency)
    await dropPrefix(redis, barePrefix)
    undiciSeconds = await bareHttpThroughput(mock, deliveries, 3 * concurrency)

    const c = String(concurrency)
    const service = await startService(prefix, mock, { TELEGRAM_CONCURRENCY: c, WHATSAPP_CONCURRENCY: c, VIBER_CONCURRENCY: c })
    try {
      const names = await seedContacts(service.url, 'bench-pipeline', contacts)
      oursSeconds = await timedSend(service, mock, 'bench-pipeline', names, 'pipeline')
    } finally {
      await service.stop()
    }
  } finally {
    await mock.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const rate = (seconds: number) => deliveries / seconds
  const baselines = [
    { name: 'bare BullMQ no-op', value: rate(bullmqSeconds) },
    { name: 'bare undici loop', value: rate(undiciSeconds) }
  ]
  const slower = baselines[0]!.value <= baselines[1]!.value ? baselines[0]! : baselines[1]!
  const ours = rate(oursSeconds)
  return {
    section: SECTION,
    figures: [
      compare(SECTION, `${deliveries.toLocaleString('en-US')} deliveries, request to mock receipt`, ours, 'deliveries/s', slower, {
        target: 'ratio >= 0.5',
        met: ours / slower.value >= 0.5,
        detail: { deliveries, concurrencyPerMessenger: concurrency, oursSeconds: round(oursSeconds, 3), bullmqSeconds: round(bullmqSeconds, 3), undiciSeconds: round(undiciSeconds, 3) }
      }),
      { section: SECTION, name: 'baseline (a): bare BullMQ, no-op worker', value: baselines[0]!.value, unit: 'jobs/s' },
      { section: SECTION, name: 'baseline (b): bare undici loop to the mock', value: baselines[1]!.value, unit: 'requests/s' }
    ],
    notes: [
      `concurrency ${concurrency} per messenger (3 queues x ${concurrency} for BullMQ, ${3 * concurrency} requests in flight for undici); rate limits off; Viber accepting`,
      `ours: ${round(oursSeconds, 2)} s from the request to the mock's last answer; bare BullMQ ${round(bullmqSeconds, 2)} s; bare undici ${round(undiciSeconds, 2)} s`,
      'ratio = ours / the slower baseline'
    ]
  }
}
