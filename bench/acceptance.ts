/**
 * 2. Fan-out acceptance: the time from a send request to its answer, for a
 * send to 1,000, 10,000 and 33,333 contacts with all three messengers (3,000,
 * 30,000 and 99,999 deliveries: the most one dispatch may have is 100,000;
 * target under 0.5 s). The service runs as deployed (ROLE=all: it starts
 * sending while it accepts), the mock answering at once; between two sends it
 * is left to deliver everything, so each starts idle. Each size is sent
 * BENCH_ACCEPT_REPEATS times, interleaved, and the median is reported.
 *
 * Baseline: bare BullMQ adding the same number of jobs (one addBulk per
 * messenger queue, as the service does) on the same Redis: the least any
 * queue-backed acceptance pays.
 */
import { addJobs, bareQueues } from './bare-bullmq.js'
import { startMock, startService } from './processes.js'
import { compare, type Figure, type Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, median, redisClient, round, scenarioPrefix, seedContacts, waitFor } from './support.js'

const TARGET_DELIVERIES = 99_999
const TARGET_MS = 500

export async function runAcceptance (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const { contacts: sizes, repeats } = settings.acceptance
  const SECTION = 'acceptance'
  const redis = redisClient('bench-acceptance')

  // Baseline first, with nothing else running.
  const bareMs = new Map<number, number[]>(sizes.map((n) => [n, []]))
  const barePrefix = scenarioPrefix('accept-bare')
  const bare = bareQueues(barePrefix)
  try {
    for (let r = 0; r < repeats; r++) {
      for (const n of sizes) {
        const started = performance.now()
        await addJobs(bare, 3 * n, 0, `r${r}-n${n}`)
        bareMs.get(n)!.push(performance.now() - started)
      }
    }
  } finally {
    await bare.close()
  }
  await dropPrefix(redis, barePrefix)

  const prefix = scenarioPrefix('accept')
  const mock = await startMock()
  const service = await startService(prefix, mock)
  const oursMs = new Map<number, number[]>(sizes.map((n) => [n, []]))
  try {
    const names = await seedContacts(service.url, 'bench-accept', Math.max(...sizes))
    let expected = 0
    for (let r = 0; r < repeats; r++) {
      for (const n of sizes) {
        const started = performance.now()
        const answer = await call(service.url, ROUTES.send.call({ user: 'bench-accept', contacts: names.slice(0, n), text: `acceptance ${r}` }))
        oursMs.get(n)!.push(performance.now() - started)
        const deliveries = ROUTES.send.deliveries(answer)
        if (deliveries !== 3 * n) throw new Error(`a send to ${n} contacts created ${deliveries} deliveries, not ${3 * n}`)
        expected += deliveries
        // Let the service deliver everything before the next send, so each is measured from idle.
        await waitFor(`${expected} deliveries at the mock`, async () => (await mock.count()).count >= expected, 120_000 + expected * 10, 50)
      }
    }
  } finally {
    await service.stop()
    await mock.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const figures: Figure[] = sizes.map((n) => {
    const ours = median(oursMs.get(n)!)
    const base = median(bareMs.get(n)!)
    const targeted = 3 * n === TARGET_DELIVERIES
    return compare(SECTION, `send to ${n.toLocaleString('en-US')} contacts (${(3 * n).toLocaleString('en-US')} deliveries): request to answer`, ours, 'ms',
      { name: 'bare BullMQ addBulk', value: base },
      {
        ...(targeted && { target: `< ${TARGET_MS} ms`, met: ours < TARGET_MS }),
        detail: { oursMs: oursMs.get(n)!.map((v) => round(v, 1)), bareMs: bareMs.get(n)!.map((v) => round(v, 1)) }
      })
  })
  return {
    section: SECTION,
    figures,
    notes: [
      `median of ${repeats} sends per size; service ROLE=all (default concurrency, rate limits off), mock answering at once, everything delivered before the next send`,
      'baseline: bare BullMQ addBulk of the same number of jobs over the three queues on the same Redis; ratio = ours / bare (higher is slower)'
    ]
  }
}
