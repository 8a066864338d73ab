/**
 * 6. Receipts: how fast the service takes WhatsApp's status webhooks in,
 * next to how fast it sends in the same run. WhatsApp reports up to three
 * statuses per message (sent, delivered, read), so ingestion must keep ahead
 * of three times the sending rate, or receipts pile up behind the sends.
 *
 * One WhatsApp delivery per contact (BENCH_RECEIPTS_DELIVERIES), sent through
 * the pipeline to the mock (answering at once, rate limits off): its rate,
 * from the request to every delivery `sent`, is the baseline. Then three
 * statuses per message, signed as WhatsApp signs them, BENCH_RECEIPTS_BATCH
 * to a POST (WhatsApp batches statuses that are due together),
 * BENCH_RECEIPTS_CONNECTIONS POSTs at once: receipts applied per second, from
 * the first POST to the last answer (each answered once applied). Ratio =
 * receipts/s / (3 x deliveries/s): at least 1 keeps up.
 */
import { Pool } from 'undici'
import { whatsappWebhookBody } from '../mock-messengers/whatsapp.js'
import { hmacHex } from '../src/messengers/webhook-signature.js'
import { startMock, startService } from './processes.js'
import { compare, type Section } from './report.js'
import type { Settings } from './settings.js'
import { call, dropPrefix, redisClient, round, scenarioPrefix, seedContacts, waitFor } from './support.js'

/** The service's default app secret, with which the mock (and WhatsApp) signs. */
const APP_SECRET = 'mock-whatsapp-app-secret'
const USER = 'bench-receipts'

function statusBody (statuses: Array<{ id: string, status: string }>, at: number) {
  return whatsappWebhookBody('100000000000001', {
    statuses: statuses.map(({ id, status }) => ({ id, status, timestamp: String(Math.floor(at / 1000)), recipient_id: '15550000000' }))
  })
}

export async function runReceipts (settings: Settings): Promise<Omit<Section, 'seconds'>> {
  const { deliveries, batch, connections } = settings.receipts
  const SECTION = 'receipts'
  const redis = redisClient('bench-receipts')
  const prefix = scenarioPrefix('receipts')
  const mock = await startMock()
  let sendSeconds: number
  let receiptSeconds: number
  let applied = 0
  try {
    const service = await startService(prefix, mock)
    const get = async (path: string) => await call(service.url, { method: 'GET', path, headers: { 'x-user-name': USER } })
    const counts = async (dispatch: string) => (await get(`/v1/dispatches/${dispatch}`)).counts as Record<string, number>
    try {
      const names = await seedContacts(service.url, USER, deliveries)
      const started = performance.now()
      const accepted = await call(service.url, { method: 'POST', path: '/v1/dispatches', headers: { 'content-type': 'application/json', 'x-user-name': USER }, body: JSON.stringify({ contacts: names, messengers: ['whatsapp'], text: 'receipts' }) })
      const dispatch = String(accepted.id)
      await waitFor(`${deliveries} deliveries sent`, async () => {
        return (await counts(dispatch)).sent === deliveries
      }, 300_000, 50)
      sendSeconds = (performance.now() - started) / 1000

      const ids: string[] = []
      for (let cursor: string | undefined; ;) {
        const page = await get(`/v1/deliveries?dispatch=${dispatch}&limit=1000${cursor === undefined ? '' : `&cursor=${cursor}`}`)
        for (const d of page.deliveries as Array<{ provider_message_id: string }>) ids.push(d.provider_message_id)
        if (page.next_cursor === undefined) break
        cursor = String(page.next_cursor)
      }
      // The three statuses of each message, the messages' statuses spread over the POSTs as they come due.
      const statuses = ['sent', 'delivered', 'read'].flatMap((status) => ids.map((id) => ({ id, status })))
      const bodies: string[] = []
      for (let i = 0; i < statuses.length; i += batch) bodies.push(statusBody(statuses.slice(i, i + batch), Date.now()))
      const pool = new Pool(service.url, { connections })
      let next = 0
      const t0 = performance.now()
      await Promise.all(Array.from({ length: connections }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!
          const res = await pool.request({ method: 'POST', path: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmacHex(body, APP_SECRET)}` }, body })
          const answer = await res.body.json() as { applied?: number }
          if (res.statusCode !== 200) throw new Error(`the webhook answered ${res.statusCode}: ${JSON.stringify(answer)}`)
          applied += answer.applied ?? 0
        }
      }))
      receiptSeconds = (performance.now() - t0) / 1000
      await pool.close()
      const read = (await counts(dispatch)).read
      if (read !== deliveries) throw new Error(`only ${String(read)} of ${deliveries} deliveries read after their receipts`)
    } finally {
      await service.stop()
    }
  } finally {
    await mock.stop()
  }
  await dropPrefix(redis, prefix)
  redis.disconnect()

  const receiptRate = (3 * deliveries) / receiptSeconds
  const sendRate = deliveries / sendSeconds
  const needed = { name: '3 x the pipeline\'s WhatsApp deliveries/s', value: 3 * sendRate }
  return {
    section: SECTION,
    figures: [
      compare(SECTION, `${(3 * deliveries).toLocaleString('en-US')} WhatsApp statuses, ${batch} a POST, ${connections} at once: applied`, receiptRate, 'receipts/s', needed, {
        target: 'ratio >= 1',
        met: receiptRate / needed.value >= 1,
        detail: { deliveries, receipts: 3 * deliveries, applied, batch, connections, receiptSeconds: round(receiptSeconds, 3), sendSeconds: round(sendSeconds, 3) }
      }),
      { section: SECTION, name: 'baseline: the same deliveries through the pipeline, request to all sent', value: sendRate, unit: 'deliveries/s' }
    ],
    notes: [
      `${deliveries} WhatsApp deliveries sent (${round(sendSeconds, 2)} s, the mock answering at once), then sent, delivered and read for each: ${round(receiptSeconds, 2)} s`,
      'every status signed as WhatsApp signs it, each POST answered once its statuses are applied; all deliveries end read',
      'ratio = receipts/s / (3 x deliveries/s): at least 1 and ingestion keeps up with WhatsApp\'s three statuses per message'
    ]
  }
}
