/**
 * 5. Memory: a tenth of BENCH_MEMORY_DELIVERIES sent now, then 1,000,000
 * deliveries scheduled a year ahead (sends of BENCH_MEMORY_CONTACTS contacts
 * with all three messengers, the legacy `time` set to next 1 January):
 *   - Redis bytes per pending delivery: the growth of INFO used_memory over
 *     the sends, divided by the deliveries (target <= 200 bytes); baseline: the
 *     same for bare BullMQ delayed jobs (the queue entry alone; at most 100,000
 *     of them: the bytes per job do not depend on how many);
 *   - the service's RSS (/proc/<pid>/status VmRSS) once they are scheduled
 *     (target < 250 MB); baseline: its RSS idle, before the sends;
 *   - Redis bytes per finished delivery: the ones sent now, to the end
 *     (Telegram and WhatsApp sent, Viber failed at the mock), the growth
 *     divided by them: the record kept for the history retention, its index
 *     entry, a WhatsApp or Viber message's receipt record, the dedup key, and
 *     BullMQ's capped event streams (target <= 400 bytes); baseline: the
 *     pending figure.
 */
import { addJobs, bareQueues } from './bare-bullmq.js'
import { startMock, startService } from './processes.js'
import { compare, type Section } from './report.js'
import { ROUTES } from './routes.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, processMemory, redisClient, redisUsedMemory, round, scenarioPrefix, seedContacts, sleep } from './support.js'

const MB = 1024 * 1024
const BATCH = 3000
const BARE_JOBS = 100_000

export async function runMemory (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const SECTION = 'memory'
  const wanted = settings.memory.deliveries
  const perSend = Math.min(settings.memory.contactsPerSend, Math.ceil(wanted / 3))
  const redis = redisClient('bench-memory')
  const nextYear = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1))

  // Baseline: bare BullMQ jobs delayed as long.
  const barePrefix = scenarioPrefix('memory-bare')
  const bare = bareQueues(barePrefix)
  const bareJobs = Math.min(wanted, BARE_JOBS)
  const bareBefore = await redisUsedMemory(redis)
  for (let added = 0; added < bareJobs; added += BATCH) await addJobs(bare, Math.min(BATCH, bareJobs - added), nextYear.getTime() - Date.now(), `b${added}`)
  await sleep(500)
  const bareBytes = (await redisUsedMemory(redis) - bareBefore) / bareJobs
  await bare.close()
  await dropPrefix(redis, barePrefix)

  const prefix = scenarioPrefix('memory')
  // The sends now go to the mock (Viber failing, as it does by default); without one, they would go to
  // the default API address, where nothing answers, and be measured retrying.
  const mock = await startMock()
  let service = await startService(prefix, mock)
  let scheduled = 0
  let sends = 0
  let idle: { rss: number, peakRss: number }
  let loaded: { rss: number, peakRss: number }
  let redisBytes: number
  let finishedBytes: number
  let finished = 0
  try {
    const names = await seedContacts(service.url, 'bench-memory', perSend)

    // The finished ones first, while Redis holds little: measured after the million pending, their
    // keys would take Redis's key table past 2^20 entries, and its doubling (16 MB more, both tables
    // held while it rehashes) would be counted against them.
    const beforeFinished = await redisUsedMemory(redis)
    for (let i = 0; finished < wanted / 10; i++) {
      const contacts = names.slice(0, Math.min(perSend, Math.ceil((wanted / 10 - finished) / 3)))
      finished += ROUTES.send.deliveries(await call(service.url, ROUTES.send.call({ user: 'bench-memory', contacts, text: `now ${i}` })))
    }
    // Finished when nothing is queued or being sent any more.
    for (let waited = 0; waited < 600; waited++) {
      const { totals } = await call(service.url, { method: 'GET', path: '/v1/dispatches?limit=1', headers: { 'x-user-name': 'bench-memory' } }) as { totals: { counts: Record<string, number> } }
      if (totals.counts.queued === 0 && totals.counts.sending === 0) break
      await sleep(500)
    }
    await sleep(1000)
    finishedBytes = (await redisUsedMemory(redis) - beforeFinished) / finished

    // A service process of its own for the pending ones: its RSS is what holding them costs, not the
    // heap the sends before left behind.
    await service.stop()
    service = await startService(prefix, mock)
    await call(service.url, { method: 'GET', path: '/v1/contacts?limit=1', headers: { 'x-user-name': 'bench-memory' } })
    await sleep(1000)
    idle = processMemory(service.pid)
    const before = await redisUsedMemory(redis)
    while (scheduled < wanted) {
      const contacts = names.slice(0, Math.min(perSend, Math.ceil((wanted - scheduled) / 3)))
      const answer = await call(service.url, ROUTES.send.call({ user: 'bench-memory', contacts, text: `scheduled ${sends}`, sendAt: nextYear }))
      scheduled += ROUTES.send.deliveries(answer)
      sends += 1
    }
    await sleep(1000)
    redisBytes = (await redisUsedMemory(redis) - before) / scheduled
    loaded = processMemory(service.pid)
  } finally {
    await service.stop()
    await mock.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  return {
    section: SECTION,
    figures: [
      compare(SECTION, `Redis per pending delivery (${scheduled.toLocaleString('en-US')} scheduled)`, redisBytes, 'bytes',
        { name: 'bare BullMQ delayed job', value: bareBytes },
        { target: '<= 200 bytes', met: redisBytes <= 200 }),
      compare(SECTION, `service RSS with ${scheduled.toLocaleString('en-US')} scheduled`, loaded.rss / MB, 'MB',
        { name: 'service idle', value: idle.rss / MB },
        { target: '< 250 MB', met: loaded.rss / MB < 250, detail: { peakRssMb: round(loaded.peakRss / MB, 1), idleRssMb: round(idle.rss / MB, 1) } }),
      compare(SECTION, `Redis per finished delivery (${finished.toLocaleString('en-US')} sent to the end)`, finishedBytes, 'bytes',
        { name: 'a pending delivery', value: redisBytes },
        { target: '<= 400 bytes', met: finishedBytes <= 400 })
    ],
    notes: [
      `${sends} sends of up to ${perSend} contacts x 3 messengers, each scheduled for ${nextYear.toISOString()}; Redis: growth of INFO used_memory / deliveries`,
      `service RSS: VmRSS after the sends (peak ${round(loaded.peakRss / MB)} MB), baseline the same process idle before them`
    ]
  }
}
