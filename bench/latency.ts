/**
 * 4. Latency hiding: 10,000 deliveries with every messenger answering in
 * 1-3 s (the mock's latencyMs; Viber still rejects each one, after the wait,
 * which finishes the delivery as failed: it counts as done), rate limits off.
 *
 *   ideal = deliveries / (sum of the three messengers' concurrency) x mean latency
 *
 * i.e. every sender slot busy all the time, each send taking the mean of the
 * latency range (2 s). With BENCH_LATENCY_CONCURRENCY=200 per messenger that
 * is 10,002 / 600 x 2 s = 33 s. The figure is the time from the send request to
 * the mock's last answer; ratio = measured / ideal (the target is <= 1.5).
 */
import { startMock, startService } from './processes.js'
import type { Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, redisClient, round, scenarioPrefix, seedContacts, sleep, waitFor } from './support.js'

export async function runLatency (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const { concurrency, latencyMs } = settings.latency
  const contacts = Math.ceil(settings.latency.deliveries / 3)
  const deliveries = 3 * contacts
  const SECTION = 'latency hiding'
  const meanLatencyS = (latencyMs[0] + latencyMs[1]) / 2 / 1000
  const ideal = deliveries / (3 * concurrency) * meanLatencyS

  const prefix = scenarioPrefix('latency')
  const slow = { latencyMs }
  const mock = await startMock({ telegram: slow, whatsapp: slow, viber: slow })
  const c = String(concurrency)
  let seconds: number
  let byMessenger: Record<string, number> = {}
  try {
    // The send timeout must exceed the slowest answer, or the measure would be of retries.
    const service = await startService(prefix, mock, {
      TELEGRAM_CONCURRENCY: c,
      WHATSAPP_CONCURRENCY: c,
      VIBER_CONCURRENCY: c,
      SEND_TIMEOUT_MS: String(Math.max(5000, latencyMs[1] + 2000))
    })
    try {
      const names = await seedContacts(service.url, 'bench-latency', contacts)
      await mock.reset()
      await sleep(200)
      const started = Date.now()
      const answer = await call(service.url, ROUTES.send.call({ user: 'bench-latency', contacts: names, text: 'latency' }))
      if (ROUTES.send.deliveries(answer) !== deliveries) throw new Error(`the send created ${ROUTES.send.deliveries(answer)} deliveries, not ${deliveries}`)
      let lastAt = 0
      await waitFor(`${deliveries} answers from the slow mock`, async () => {
        const counted = await mock.count()
        lastAt = counted.lastAt
        byMessenger = counted.byMessenger
        return counted.count >= deliveries
      }, Math.max(120_000, ideal * 5000), 100)
      seconds = (lastAt - started) / 1000
    } finally {
      await service.stop()
    }
  } finally {
    await mock.stop()
  }
  const redis = redisClient('bench-latency')
  await dropPrefix(redis, prefix)
  redis.disconnect()

  return {
    section: SECTION,
    figures: [{
      section: SECTION,
      name: `${deliveries.toLocaleString('en-US')} deliveries, mock answering in ${latencyMs[0]}-${latencyMs[1]} ms: time to finish`,
      value: seconds,
      unit: 's',
      baseline: { name: 'ideal', value: ideal },
      ratio: seconds / ideal,
      target: 'ratio <= 1.05',
      met: seconds / ideal <= 1.05,
      detail: { deliveries, concurrencyPerMessenger: concurrency, latencyMs, idealSeconds: round(ideal, 2), answersByMessenger: byMessenger }
    }],
    notes: [
      `service *_CONCURRENCY=${concurrency} per messenger (BENCH_LATENCY_CONCURRENCY), rate limits off; Viber rejects each send after the wait (counted as finished)`,
      `ideal = deliveries / (3 x ${concurrency}) x mean latency ${meanLatencyS} s = ${deliveries} / ${3 * concurrency} x ${meanLatencyS} = ${round(ideal, 1)} s; ratio = measured / ideal`
    ]
  }
}
