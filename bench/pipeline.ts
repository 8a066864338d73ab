/**
 * 3. Pipeline throughput: deliveries per second from the send request to the
 * mock's receipt of the last one, the mock answering at once (Viber accepting
 * too, so every delivery takes the same path), rate limits off.
 *
 * The headline baseline is what a user would write instead
 * (bench/bare-sender.ts): a BullMQ queue per messenger whose worker POSTs
 * each job to the same mock with undici, the same concurrency
 * (BENCH_PIPELINE_CONCURRENCY per messenger), no records. Ours and it are
 * measured three times, alternating which goes first; the medians are
 * compared (target: 0.8). Two bounds beside it, once each:
 *   (a) bare BullMQ: addBulk of the same number of jobs over three queues, a
 *       no-op worker per queue with that concurrency;
 *   (b) bare undici: one Pool with 3 x concurrency connections, as many loops
 *       posting the same number of sendMessage requests to the mock's Telegram.
 */
import { Pool } from 'undici'
import { bareQueueThroughput } from './bare-bullmq.js'
import { bareSenderThroughput } from './bare-sender.js'
import { startMock, startService, type Mock } from './processes.js'
import { compare, type Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, median, redisClient, round, scenarioPrefix, seedContacts, sleep, waitFor } from './support.js'

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

/** Ours and the user's own sender are measured this many times each, alternating; the medians are compared. */
const ROUNDS = 3

export async function runPipeline (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const { concurrency } = settings.pipeline
  const contacts = Math.ceil(settings.pipeline.deliveries / 3)
  const deliveries = 3 * contacts
  const SECTION = 'pipeline'
  const redis = redisClient('bench-pipeline')

  const mock = await startMock({ viber: { reject: false } })
  let bullmqSeconds: number
  let undiciSeconds: number
  const senderRuns: number[] = []
  const oursRuns: number[] = []
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
      for (let round = 0; round < ROUNDS; round++) {
        const runSender = async () => {
          const senderPrefix = scenarioPrefix('pipeline-sender')
          senderRuns.push(await bareSenderThroughput(senderPrefix, mock, deliveries, concurrency))
          await dropPrefix(redis, senderPrefix)
        }
        const runOurs = async () => { oursRuns.push(await timedSend(service, mock, 'bench-pipeline', names, `pipeline ${round}`)) }
        if (round % 2 === 0) { await runSender(); await runOurs() } else { await runOurs(); await runSender() }
      }
    } finally {
      await service.stop()
    }
  } finally {
    await mock.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const rate = (seconds: number) => deliveries / seconds
  const ours = rate(median(oursRuns))
  const sender = rate(median(senderRuns))
  const runs = (seconds: number[]) => seconds.map((s) => Math.round(rate(s))).join(', ')
  return {
    section: SECTION,
    figures: [
      compare(SECTION, `${deliveries.toLocaleString('en-US')} deliveries, request to mock receipt`, ours, 'deliveries/s', { name: 'BullMQ + undici sender', value: sender }, {
        target: 'ratio >= 0.8',
        met: ours / sender >= 0.8,
        detail: { deliveries, concurrencyPerMessenger: concurrency, oursSeconds: oursRuns.map((s) => round(s, 3)), senderSeconds: senderRuns.map((s) => round(s, 3)) }
      }),
      { section: SECTION, name: 'bound (a): bare BullMQ, no-op worker', value: rate(bullmqSeconds), unit: 'jobs/s', detail: { seconds: round(bullmqSeconds, 3) } },
      { section: SECTION, name: 'bound (b): bare undici loop to the mock', value: rate(undiciSeconds), unit: 'requests/s', detail: { seconds: round(undiciSeconds, 3) } }
    ],
    notes: [
      `concurrency ${concurrency} per messenger (3 queues x ${concurrency} for the BullMQ workers, ${3 * concurrency} requests in flight for undici); rate limits off; Viber accepting`,
      `baseline: what a user would write instead (bench/bare-sender.ts: a BullMQ queue per messenger, a worker POSTing each job to the mock with undici, no records); ${ROUNDS} runs each, alternating, medians compared`,
      `runs, deliveries/s: ours ${runs(oursRuns)}; BullMQ + undici sender ${runs(senderRuns)}`,
      `bounds: bare BullMQ with a no-op worker ${round(bullmqSeconds, 2)} s, bare undici ${round(undiciSeconds, 2)} s`
    ]
  }
}
