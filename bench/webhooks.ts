/**
 * Status webhook throughput: events per second from a send to a local
 * receiver (a bare node:http server in this process that answers 200 at
 * once), beside the same send's deliveries per second to the mock. One send
 * of BENCH_WEBHOOK_DELIVERIES deliveries (three messengers each contact,
 * Viber accepting) to a user with one endpoint taking delivery.sent and
 * dispatch.finished: one event per delivery and one for the dispatch.
 *
 * Baseline: a bare undici loop posting the same number of signed-size
 * bodies to the same receiver with as many requests in flight as the
 * service's webhook concurrency. The figure is ours / that baseline.
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'
import { startMock, startService } from './processes.js'
import { compare, type Section } from './report.js'
import type { Settings } from './settings.js'
import { dropPrefix, redisClient, round, scenarioPrefix, seedContacts, waitFor } from './support.js'
import { timedSend } from './pipeline.js'

interface LocalReceiver { url: string, count: () => number, lastAt: () => number, reset: () => void, close: () => Promise<void> }

async function startReceiver (): Promise<LocalReceiver> {
  let count = 0
  let lastAt = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      count++
      lastAt = Date.now()
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the receiver has no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    count: () => count,
    lastAt: () => lastAt,
    reset: () => { count = 0; lastAt = 0 },
    close: async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) }
  }
}

async function bareHttpThroughput (url: string, count: number, inFlight: number): Promise<number> {
  const pool = new Pool(url, { connections: inFlight })
  const body = JSON.stringify({ type: 'delivery.sent', timestamp: new Date().toISOString(), data: { id: 'x'.repeat(36), text: 'webhooks', receipts: [] } })
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next++ < count) {
      const res = await pool.request({ method: 'POST', path: '/bare', headers: { 'content-type': 'application/json' }, body })
      await res.body.dump()
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await pool.close()
  return seconds
}

export async function runWebhooks (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const SECTION = 'webhooks'
  const { deliveries: asked, concurrency } = settings.webhooks
  const contacts = Math.ceil(asked / 3)
  const deliveries = 3 * contacts
  const events = deliveries + 1
  const redis = redisClient('bench-webhooks')
  const receiver = await startReceiver()
  const mock = await startMock({ viber: { reject: false } })
  const prefix = scenarioPrefix('webhooks')
  let sendSeconds: number
  let webhookSeconds: number
  let bareSeconds: number
  try {
    bareSeconds = await bareHttpThroughput(receiver.url, events, concurrency)
    receiver.reset()
    const service = await startService(prefix, mock, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_CONCURRENCY: String(concurrency), WEBHOOK_ENDPOINT_CONCURRENCY: String(concurrency) })
    try {
      const user = 'bench-webhooks'
      const names = await seedContacts(service.url, user, contacts)
      const res = await fetch(`${service.url}/v1/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-name': user },
        body: JSON.stringify({ url: `${receiver.url}/status`, events: ['delivery.sent', 'dispatch.finished'] })
      })
      if (res.status !== 201) throw new Error(`POST /v1/webhooks: ${res.status} ${await res.text()}`)
      const started = Date.now()
      sendSeconds = await timedSend(service, mock, user, names, 'webhooks')
      await waitFor(`${events} status webhooks at the receiver`, async () => receiver.count() >= events, 600_000, 50)
      webhookSeconds = (receiver.lastAt() - started) / 1000
    } finally {
      await service.stop()
    }
  } finally {
    await mock.stop()
    await receiver.close()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const ours = events / webhookSeconds
  const bare = { name: 'bare undici loop to the receiver', value: events / bareSeconds }
  return {
    section: SECTION,
    figures: [
      compare(SECTION, `${events.toLocaleString('en-US')} status webhooks, send to receiver`, ours, 'events/s', bare, {
        detail: { deliveries, events, webhookConcurrency: concurrency, webhookSeconds: round(webhookSeconds, 3), sendSeconds: round(sendSeconds, 3), bareSeconds: round(bareSeconds, 3) }
      }),
      { section: SECTION, name: 'the same send\'s deliveries, request to mock receipt', value: deliveries / sendSeconds, unit: 'deliveries/s' },
      { section: SECTION, name: 'baseline: bare undici loop to the receiver', value: bare.value, unit: 'requests/s' }
    ],
    notes: [
      `one send of ${deliveries} deliveries to a user with one endpoint (delivery.sent, dispatch.finished); ${concurrency} webhook attempts in flight`,
      `the last delivery reached the mock after ${round(sendSeconds, 2)} s, the last webhook the receiver after ${round(webhookSeconds, 2)} s (both from the request)`
    ]
  }
}
