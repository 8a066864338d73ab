/**
 * Sending, end to end inside one process: the app's BullMQ workers send over
 * real HTTP to the mock messengers, with a real Redis behind both.
 */
import t from 'tap'
import { PassThrough } from 'node:stream'
import { retryDelay } from '../../src/deliveries/send-worker.js'
import { deliveryId } from '../../src/model/delivery.js'
import { addContacts, client, dispatch, finished, legacyAddContact, legacyContacts, legacySend, listAll, settled, type ApiDelivery } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { dispatchIdOf } from '../helpers/ids.js'

t.test('retry delays grow exponentially with jitter, stay under the cap, and honour the messenger\'s wait', async (t) => {
  const policy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 10_000 }
  t.equal(retryDelay(policy, 1, 0, () => 0), 500, 'first retry: at least half the base')
  t.equal(retryDelay(policy, 1, 0, () => 1), 1000, 'and at most the base')
  t.equal(retryDelay(policy, 3, 0, () => 1), 4000, 'doubles with each failure')
  t.equal(retryDelay(policy, 10, 0, () => 1), 10_000, 'capped')
  t.equal(retryDelay(policy, 1, 3000, () => 1), 3000, 'never sooner than retry_after')
  const spread = new Set(Array.from({ length: 50 }, () => retryDelay(policy, 2)))
  t.ok(spread.size > 10, 'jitter spreads a burst of retries')
  t.ok([...spread].every((d) => d >= 1000 && d <= 2000))
})

t.test('a transient failure is retried, with the same idempotency key, until the messenger accepts it', async (t) => {
  const { app, mock } = await build(t)
  await legacyAddContact(client(app), 'u', 'Artem', { telegram: '1001' })
  await mock.behave('telegram', { failNext: 2 })
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', ['Artem'], 'retry me')
  const delivery = await finished(app, deliveryId(dispatchId, 0))
  t.match(delivery, { state: 'sent', attempts: 3, lastError: 'telegram HTTP 503' })
  const seen = await mock.received({ messenger: 'telegram' })
  t.same(seen.messages.map((m) => m.outcome), ['HTTP 503', 'HTTP 503', 'accepted'])
  t.same(seen.repeats, { [delivery.id]: 3 }, 'every attempt carried the delivery id')
})

t.test('retries stop at the configured number of attempts and the delivery fails with its last error', async (t) => {
  const { app, mock } = await build(t, { env: { DELIVERY_ATTEMPTS: '3' } })
  await legacyAddContact(client(app), 'u', 'Artem', { whatsapp: '+15551234567' })
  await mock.behave('whatsapp', { failNext: 100 })
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', ['Artem'], 'never arrives')
  const delivery = await finished(app, deliveryId(dispatchId, 0))
  t.match(delivery, { state: 'failed', attempts: 3, lastError: 'whatsapp HTTP 503', url: `${mock.url}/whatsapp/v21.0/100000000000001/messages` })
  t.equal((await mock.received({ messenger: 'whatsapp' })).count, 3)
  const failed = (await app.inject({ method: 'GET', url: '/api/get_failed_mess?user_name=u' })).json()
  t.match(failed.data, [{ contact: 'Artem', messenger: 'whatsapp', attempts: 3, error: 'whatsapp HTTP 503' }])
})

t.test('a permanent error fails at once, without retries', async (t) => {
  const { app, mock } = await build(t)
  await legacyAddContact(client(app), 'u', 'Artem', { telegram: '1001' })
  await mock.behave('telegram', { reject: true })
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', ['Artem'], 'blocked')
  t.match(await finished(app, deliveryId(dispatchId, 0)), { state: 'failed', attempts: 1, lastError: 'telegram 403: Forbidden: bot was blocked by the user' })
  t.equal((await mock.received({ messenger: 'telegram' })).count, 1)
})

t.test('a scheduled send is not sent before its time, and is after it', async (t) => {
  const { app, mock } = await build(t)
  await legacyAddContact(client(app), 'u', 'Artem', { telegram: '1001', whatsapp: '+15551234567' })
  // The legacy time has whole seconds: aim two to three seconds ahead.
  const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000)
  const time = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()]
  const answer = await legacySend(client(app), 'u', ['Artem'], 'later', time)
  t.match(answer, { deliveries: 2, scheduled: true })
  t.equal((await app.deliveries.get(deliveryId(answer.dispatch_id, 0)))?.state, 'scheduled')

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() - Date.now() - 500)))
  t.equal((await mock.received()).count, 0, 'nothing reached a messenger half a second before the time')
  t.equal((await app.deliveries.get(deliveryId(answer.dispatch_id, 1)))?.state, 'scheduled')

  const sent = await Promise.all([0, 1].map((i) => finished(app, deliveryId(answer.dispatch_id, i))))
  t.same(sent.map((d) => d.state), ['sent', 'sent'])
  const receivedAt = (await mock.received()).messages.map((m) => Date.parse(m.receivedAt))
  t.ok(receivedAt.every((ms) => ms >= at.getTime()), 'both arrived at or after the time')
})

t.test('a slow Viber does not hold up Telegram or WhatsApp', async (t) => {
  const { app, mock } = await build(t, { env: { VIBER_CONCURRENCY: '2' } })
  await mock.behave('viber', { reject: false, latencyMs: [1500, 1500] })
  const names = await legacyContacts(client(app), 'u', 10, (i) => ({ telegram: String(1000 + i), whatsapp: `+1555000${1000 + i}`, viber: `viber-${i}` }))
  const { dispatch_id: dispatchId, deliveries } = await legacySend(client(app), 'u', names, 'isolation')
  t.equal(deliveries, 30)
  const started = Date.now()
  await eventually(async () => (await mock.received({ outcome: 'accepted' })).messages.filter((m) => m.messenger !== 'viber').length === 20,
    'all Telegram and WhatsApp deliveries', 5000)
  const fastDone = Date.now() - started
  const viberDelivered = (await mock.received({ messenger: 'viber', outcome: 'accepted' })).count
  // Ten Viber sends at 1.5 s, two at a time, need 7.5 s; the other twenty must not wait for them.
  t.ok(viberDelivered <= 4, `Viber was still busy (${viberDelivered} of 10 done) when the others had finished in ${fastDone} ms`)
  const viber = await Promise.all(names.map((_, i) => finished(app, deliveryId(dispatchId, 3 * i + 2), 20_000)))
  t.ok(viber.every((d) => d.state === 'sent'), 'and Viber got there in the end')
})

t.test('a dispatch left in the outbox by a crash mid-accept is queued by the sweeper', async (t) => {
  const { app, mock } = await build(t)
  // What a process that died between writing the records and queueing the jobs leaves behind.
  const createdAt = Date.now()
  const id = dispatchIdOf('u', createdAt)
  await app.deliveries.createDispatch({ id, user: 'u', text: 'recovered', sendAt: createdAt, createdAt, dedupWindowSeconds: 0, checkAt: createdAt }, [
    { contact: 'A', messenger: 'telegram', address: '1001' },
    { contact: 'A', messenger: 'viber', address: 'v-1' }
  ])
  const [tg, vb] = await Promise.all([finished(app, deliveryId(id, 0)), finished(app, deliveryId(id, 1))])
  t.equal(tg.state, 'sent')
  t.equal(vb.state, 'failed')
  t.equal((await mock.received({ messenger: 'telegram', outcome: 'accepted' })).count, 1, 'sent once')
  await eventually(async () => (await app.deliveries.outboxDue(Date.now() + 3600_000)).length === 0, 'the sweep to forget the finished dispatch')
  t.pass('and the outbox is empty again')
})

t.test('when queueing fails after the records are written, the send is still accepted and the outbox delivers it', async (t) => {
  // A deployment split in two: an API process and a sender process on the same Redis.
  const api = await build(t, { env: { ROLE: 'api' } })
  const worker = await build(t, { env: { ROLE: 'worker' }, prefix: api.prefix, mock: api.mock })
  await legacyAddContact(client(api.app), 'u', 'Artem', { telegram: '1001' })
  // The API process loses its queue connection between writing the records and scheduling the dispatch.
  await api.app.dispatchQueue.close()
  const answer = await legacySend(client(api.app), 'u', ['Artem'], 'still arrives')
  t.match(answer, { success: true, deliveries: 1 }, 'the client is told it was accepted (a 500 would invite a resend)')
  t.match(await finished(worker.app, deliveryId(answer.dispatch_id, 0)), { state: 'sent', attempts: 1 })
  t.equal((await api.mock.received({ outcome: 'accepted' })).count, 1, 'sent once')
})

t.test('logs: one line per request with its request id, one per delivery state change with the delivery id', async (t) => {
  const stream = new PassThrough()
  const lines: Array<Record<string, unknown>> = []
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
  })
  const { app } = await build(t, { logStream: stream })
  await legacyAddContact(client(app), 'u', 'Lera', { telegram: '1001', viber: 'v-1' })
  const { dispatch_id: dispatchId } = await legacySend(client(app), 'u', ['Lera'], 'logged')
  await Promise.all([0, 1].map((i) => finished(app, deliveryId(dispatchId, i))))
  await new Promise((resolve) => setImmediate(resolve))

  const requests = lines.filter((l) => l.msg === 'request')
  t.equal(requests.length, 2, 'two requests, two lines')
  t.ok(requests.every((l) => typeof l.reqId === 'string' && typeof l.statusCode === 'number' && typeof l.ms === 'number'))
  t.equal(new Set(requests.map((l) => l.reqId)).size, 2, 'each with its own request id')
  t.ok(lines.some((l) => l.msg === 'dispatch accepted' && l.dispatch === dispatchId && l.deliveries === 2))
  const changes = lines.filter((l) => l.msg === 'delivery state changed').map((l) => `${String(l.delivery)} ${String(l.state)}`)
  t.same(changes.sort(), [
    `${deliveryId(dispatchId, 0)} sending`, `${deliveryId(dispatchId, 0)} sent`, `${deliveryId(dispatchId, 1)} failed`, `${deliveryId(dispatchId, 1)} sending`
  ])
  t.notOk(lines.some((l) => JSON.stringify(l).includes('mock-telegram-token')), 'no token in any log line')
})

t.test('a Telegram group that became a supergroup: sent once more to its new id, recorded, and the contact follows it', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  await mock.control('/_mock/telegram/migrate', { chat_id: -4001, to: -1004001 })
  await addContacts(alice, [{ name: 'Team', telegram: '-4001' }, { name: 'Edited', telegram: '-4002' }])
  await mock.control('/_mock/telegram/migrate', { chat_id: -4002, to: -1004002 })
  const sent = await dispatch(alice, { text: 'Standup', contacts: ['Team'] })
  const [delivery] = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${(await settled(alice, sent.id)).id}`, 'deliveries', 10)
  t.match(delivery, { state: 'sent', address: '-1004001', migrated_from: '-4001', attempts: 1 })
  t.same((await mock.received({ messenger: 'telegram' })).messages.map((m) => `${m.recipient} ${m.outcome}`), ['-4001 400 migrated', '-1004001 accepted'], 'the same text, once more, to the new id')
  t.match((await alice('GET', '/v1/contacts/Team')).json(), { telegram: '-1004001' }, 'the contact follows it')

  // Edited between the dispatch and its send: the user's edit wins over the migration.
  const later = await dispatch(alice, { text: 'Standup', contacts: ['Edited'], send_at: new Date(Date.now() + 1500).toISOString() })
  await alice('PATCH', '/v1/contacts/Edited', { telegram: '-4003' }, { expectStatus: 200 })
  const [moved] = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${(await settled(alice, later.id)).id}`, 'deliveries', 10)
  t.match(moved, { state: 'sent', address: '-1004002', migrated_from: '-4002' }, 'the delivery went where its dispatch sent it, and on')
  t.match((await alice('GET', '/v1/contacts/Edited')).json(), { telegram: '-4003' }, 'the contact keeps the edit')
})
