/**
 * The pipeline's headline baseline: what a user would write instead of this
 * service. A BullMQ queue per messenger on the same Redis, a worker per queue
 * with the same concurrency whose processor POSTs the job to the same mock
 * with undici (the messenger's own send request, its token), jobs removed
 * when done; no records, no states, no limiter, no receipts. Returns the
 * seconds from the add of `count` jobs to the mock's answer to the last.
 */
import { Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { Pool } from 'undici'
import { MESSENGERS, type Messenger } from '../src/model/messenger.js'
import { addJobs, bareQueues } from './bare-bullmq.js'
import type { Mock } from './processes.js'
import { redisClient } from './support.js'

/** The service's default tokens and WhatsApp phone number id, which the mock checks. */
const REQUESTS: Record<Messenger, (i: number) => { path: string, headers: Record<string, string>, body: unknown }> = {
  telegram: (i) => ({ path: '/botmock-telegram-token/sendMessage', headers: {}, body: { chat_id: 1_000_000 + i, text: 'pipeline baseline' } }),
  whatsapp: (i) => ({
    path: '/v21.0/100000000000001/messages',
    headers: { authorization: 'Bearer mock-whatsapp-token' },
    body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: `+1555${2_000_000 + i}`, type: 'text', text: { body: 'pipeline baseline' } }
  }),
  viber: (i) => ({ path: '/pa/send_message', headers: { 'x-viber-auth-token': 'mock-viber-token' }, body: { receiver: `viber-${i}`, type: 'text', text: 'pipeline baseline', sender: { name: 'bench' } } })
}

export async function bareSenderThroughput (prefix: string, mock: Mock, count: number, concurrency: number): Promise<number> {
  const bare = bareQueues(prefix)
  let done = 0
  let failed: Error | undefined
  let resolveAll: () => void = () => {}
  const allDone = new Promise<void>((resolve) => { resolveAll = resolve })
  const connections: Redis[] = []
  const pools: Pool[] = []
  const workers = bare.queues.map((queue, q) => {
    const messenger = MESSENGERS[q]!
    const api = new URL(mock.api(messenger))
    const pool = new Pool(api.origin, { connections: concurrency })
    pools.push(pool)
    const connection = redisClient('bench-bare-sender')
    connections.push(connection)
    const worker = new Worker(queue.name, async (job) => {
      const request = REQUESTS[messenger](Number(job.id!.split('-').at(-1)))
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path: api.pathname.replace(/\/$/, '') + request.path,
        headers: { 'content-type': 'application/json', 'idempotency-key': String(job.id), ...request.headers },
        body: JSON.stringify(request.body)
      })
      await body.text()
      if (statusCode !== 200) failed ??= new Error(`the mock's ${messenger} answered ${statusCode} to the bare sender`)
    }, { connection, prefix, concurrency })
    worker.on('completed', () => { if (++done === count) resolveAll() })
    return worker
  })
  await Promise.all(workers.map((w) => w.waitUntilReady()))
  const started = performance.now()
  await addJobs(bare, count, 0, 'send')
  await allDone
  const seconds = (performance.now() - started) / 1000
  await Promise.all(workers.map((w) => w.close()))
  for (const c of connections) c.disconnect()
  await Promise.all(pools.map((p) => p.close()))
  await bare.close()
  if (failed !== undefined) throw failed
  return seconds
}
