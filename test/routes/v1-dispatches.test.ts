/**
 * /v1 dispatches and deliveries through the real app (real Redis, real HTTP
 * to the mock messengers): every delivery state reached and observed, cancel,
 * redrive, purge, duplicate suppression, windows, idempotency, pagination and
 * stats that equal the listed deliveries.
 */
import t from 'tap'
import { requestFingerprint } from '../../src/idempotency/idempotency-store.js'
import { redisKeys } from '../../src/redis-keys.js'
import type { Messenger } from '../../src/model/messenger.js'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { keysMatching } from '../helpers/redis.js'

type Json = Record<string, any>

const BOOK = [
  { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', tags: ['team', 'moscow'] },
  { name: 'Lera', telegram: '123456789', viber: 'lera-viber-id', tags: ['team'] },
  { name: 'Ivan', whatsapp: '+15551234567', tags: ['moscow'] }
]

t.test('a dispatch fans out to names, tags, the whole book and direct addresses, and every delivery ends as expected', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)

  const res = await alice('POST', '/v1/dispatches', { text: 'Hello team', contacts: ['Artem', 'Nobody'], tags: { any: ['team'] }, addresses: [{ messenger: 'telegram', address: '@direct_user' }] })
  t.equal(res.statusCode, 202)
  const accepted = res.json()
  t.equal(res.headers.location, `/v1/dispatches/${accepted.id}`)
  t.match(accepted, { deliveries: 5, suppressed: 0, unknown: ['Nobody'], without_addresses: [], state: 'queued' })

  const done = await settled(alice, accepted.id)
  t.match(done, { total: 5, counts: { sent: 4, failed: 1, queued: 0, sending: 0, scheduled: 0 } })
  t.match(done.by_messenger, { telegram: { sent: 3, queued: 0 }, whatsapp: { sent: 1 }, viber: { failed: 1, sent: 0 } }, 'and per messenger')
  const deliveries = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${accepted.id}`, 'deliveries', 3)
  t.same(deliveries.map((d) => `${d.contact ?? '-'} ${d.messenger} ${d.address} ${d.state}`).sort(), [
    '- telegram @direct_user sent',
    'Artem telegram @ArtemZaitsev sent',
    'Artem whatsapp +799200828615 sent',
    'Lera telegram 123456789 sent',
    'Lera viber lera-viber-id failed'
  ])
  const viber = deliveries.find((d) => d.messenger === 'viber')!
  t.match(viber, { attempts: 1, url: `${mock.url}/viber/pa/send_message` })
  t.match(viber.last_error, /viber/)
  const sent = deliveries.find((d) => d.address === '@ArtemZaitsev')!
  t.ok(sent.provider_message_id, 'a delivery the messenger accepted has its message id')
  t.same((await alice('GET', `/v1/deliveries/${sent.id}`)).json(), sent, 'one delivery reads as it is listed')

  const tagAll = await dispatch(alice, { text: 'Moscow team only', tags: { all: ['team', 'moscow'] }, messengers: ['whatsapp'] })
  t.equal(tagAll.deliveries, 1, 'all-of tags and a messenger subset: Artem on WhatsApp only')
  const everyone = await dispatch(alice, { text: 'Everyone', all_contacts: true, messengers: ['telegram', 'whatsapp'] })
  t.match(everyone, { deliveries: 4, without_addresses: [] })
  const viberOnly = await dispatch(alice, { text: 'Viber only', all_contacts: true, messengers: ['viber'] })
  t.match(viberOnly, { deliveries: 1, without_addresses: ['Artem', 'Ivan'] })
})

t.test('each state is reached and observed: scheduled, queued, sending, sent, failed, cancelled, expired, suppressed', async (t) => {
  const { app, mock } = await build(t, { env: { DELIVERY_ATTEMPTS: '1000' } })
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const stateOf = async (id: string) => (await alice('GET', `/v1/deliveries/${id}`)).json().state
  const first = async (dispatchId: string) => (await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${dispatchId}`, 'deliveries', 3)).at(-1)!

  // scheduled, then cancelled.
  const later = await dispatch(alice, { text: 'Later', contacts: ['Lera'], messengers: ['telegram'], send_at: new Date(Date.now() + 3_600_000).toISOString() })
  t.equal(later.state, 'scheduled')
  const scheduled = await first(later.id)
  t.equal(scheduled.state, 'scheduled')
  t.match((await alice('GET', `/v1/dispatches/${later.id}`)).json(), { status: 'scheduled', counts: { scheduled: 1 } })
  const cancel = (await alice('POST', `/v1/dispatches/${later.id}/cancel`)).json()
  t.same(cancel, { cancelled: [scheduled.id], in_flight: [], already_finished: [] })
  t.equal(await stateOf(scheduled.id), 'cancelled')

  // sending (the mock holds Telegram for a while), then sent.
  await mock.behave('telegram', { latencyMs: [700, 700] })
  const slow = await dispatch(alice, { text: 'Slow', contacts: ['Lera'], messengers: ['telegram'] })
  const slowDelivery = await first(slow.id)
  await eventually(async () => await stateOf(slowDelivery.id) === 'sending', 'the slow send to be in flight')
  await eventually(async () => await stateOf(slowDelivery.id) === 'sent', 'the slow send to be sent')

  // failed: Viber always fails.
  const viber = await dispatch(alice, { text: 'To Viber', contacts: ['Lera'], messengers: ['viber'] })
  await settled(alice, viber.id)
  t.equal(await stateOf((await first(viber.id)).id), 'failed')

  // suppressed: the same text to the same address again.
  const again = await dispatch(alice, { text: 'Slow', contacts: ['Lera'], messengers: ['telegram'] })
  t.equal(again.suppressed, 1)
  t.match(await first(again.id), { state: 'suppressed', duplicate_of: slowDelivery.id })

  // expired: WhatsApp keeps failing and the window closes before an attempt gets through.
  await mock.behave('whatsapp', { errorRate: 1, errorStatus: 503 })
  const expiring = await dispatch(alice, { text: 'Short-lived', contacts: ['Ivan'], expires_at: new Date(Date.now() + 1500).toISOString() })
  const expiringDelivery = await first(expiring.id)
  await eventually(async () => await stateOf(expiringDelivery.id) === 'expired', 'the retried delivery to expire')
  const expired = (await alice('GET', `/v1/deliveries/${expiringDelivery.id}`)).json()
  t.ok(expired.attempts >= 2, `it was retried until the end time (${expired.attempts} attempts)`)
  t.equal(expired.last_error, 'whatsapp HTTP 503', 'and keeps the last error')
  t.ok(Date.parse(expired.finished_at) >= Date.parse(expiring.expires_at!) - 50, 'it ended at the end time, not before')

  // queued: an API-only process accepts, no sender takes it.
  const apiProcess = await build(t, { env: { ROLE: 'api' } })
  const viaApiProcess = client(apiProcess.app, { user: 'alice' })
  await addContacts(viaApiProcess, BOOK)
  const waiting = await dispatch(viaApiProcess, { text: 'Nobody sends this', contacts: ['Lera'], messengers: ['telegram'] })
  t.equal((await (await viaApiProcess('GET', `/v1/dispatches/${waiting.id}`)).json()).counts.queued, 1)
  t.equal((await alice('GET', `/v1/dispatches/${waiting.id}`)).statusCode, 404, 'another deployment (key prefix) does not see it')
  const queuedDelivery = (await viaApiProcess('GET', `/v1/deliveries?dispatch=${waiting.id}`)).json().deliveries[0]
  t.equal(queuedDelivery.state, 'queued')
})

t.test('windows: both times past is a 422; a past send_at with a future expires_at starts now', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const past = new Date(Date.now() - 60_000).toISOString()
  const future = new Date(Date.now() + 60_000).toISOString()
  let res = await alice('POST', '/v1/dispatches', { text: 'x', contacts: ['Lera'], send_at: past, expires_at: past })
  t.equal(res.statusCode, 422)
  t.match(res.json(), { error: { code: 'WINDOW_CLOSED', details: [{ field: 'expires_at' }] } })
  res = await alice('POST', '/v1/dispatches', { text: 'x', contacts: ['Lera'], send_at: new Date(Date.now() + 120_000).toISOString(), expires_at: future })
  t.equal(res.statusCode, 422, 'expires before it may start')
  const now = await dispatch(alice, { text: 'Starts now', contacts: ['Lera'], messengers: ['telegram'], send_at: past, expires_at: future })
  t.match(now, { state: 'queued', send_at: past, expires_at: future })
  t.match(await settled(alice, now.id), { counts: { sent: 1 } })
  t.equal((await keysMatching(app.redis, app.redisKeys.dispatch('*'))).length, 1, 'nothing was written for the refused ones')
})

t.test('cancel racing with sending never yields two terminal states, and cancelled deliveries are never sent', async (t) => {
  const { app, mock } = await build(t, { env: { TELEGRAM_CONCURRENCY: '4', WHATSAPP_CONCURRENCY: '4' } })
  const alice = client(app, { user: 'alice' })
  await mock.behave('telegram', { latencyMs: [5, 30] })
  await mock.behave('whatsapp', { latencyMs: [5, 30] })
  const addresses = Array.from({ length: 150 }, (_, i) => ({ messenger: (i % 2 === 0 ? 'telegram' : 'whatsapp') as Messenger, address: i % 2 === 0 ? String(5000 + i) : `+1555${String(1_000_000 + i)}` }))
  const accepted = await dispatch(alice, { text: 'Race me', addresses })
  await eventually(async () => (await mock.received({ outcome: 'accepted' })).count >= 20, 'some sends to go out')
  const report = (await alice('POST', `/v1/dispatches/${accepted.id}/cancel`)).json()
  t.equal(report.cancelled.length + report.in_flight.length + report.already_finished.length, 150, 'every delivery is reported once')
  t.ok(report.cancelled.length > 0 && report.already_finished.length > 0, `cancelled ${report.cancelled.length}, in flight ${report.in_flight.length}, finished ${report.already_finished.length}`)

  const done = await settled(alice, accepted.id)
  const deliveries = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${accepted.id}`, 'deliveries', 50)
  t.equal(deliveries.length, 150)
  for (const state of ['sent', 'cancelled'] as const) {
    t.equal(done.counts[state], deliveries.filter((d) => d.state === state).length, `${state}: the count equals the listed deliveries`)
  }
  t.equal(done.counts.sent + done.counts.cancelled, 150, 'each delivery in exactly one terminal state')
  const sent = new Set((await mock.received({ outcome: 'accepted' })).messages.map((m) => m.idempotencyKey))
  t.same(report.cancelled.filter((id: string) => sent.has(id)), [], 'no cancelled delivery reached the messenger')
  t.same(deliveries.filter((d) => d.state === 'sent' && !sent.has(d.id)).map((d) => d.id), [], 'every sent one did')
  const cancelledInFlight = deliveries.filter((d) => report.in_flight.includes(d.id))
  t.ok(cancelledInFlight.every((d) => d.state === 'sent' || d.state === 'cancelled'), 'in-flight deliveries finished one way or the other')

  const one = (await alice('POST', `/v1/deliveries/${report.cancelled[0]}/cancel`)).json()
  t.same(one, { cancelled: [], in_flight: [], already_finished: [{ id: report.cancelled[0], state: 'cancelled' }] }, 'cancelling twice changes nothing')
})

t.test('redrive resends failed deliveries only; accepted ones are never resent', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const accepted = await dispatch(alice, { text: 'Try Viber again', contacts: ['Lera'] })
  await settled(alice, accepted.id)
  const deliveries = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${accepted.id}`, 'deliveries', 3)
  const failed = deliveries.find((d) => d.state === 'failed')!
  const sentOne = deliveries.find((d) => d.state === 'sent')!

  let res = await alice('POST', `/v1/deliveries/${sentOne.id}/redrive`)
  t.equal(res.statusCode, 409)
  t.equal(res.json().error.code, 'NOT_FAILED')

  await mock.behave('viber', { reject: false })
  res = await alice('POST', `/v1/dispatches/${accepted.id}/redrive`)
  t.same(res.json(), { redriven: [failed.id], not_failed: [{ id: sentOne.id, state: 'sent' }] })
  const done = await settled(alice, accepted.id)
  t.match(done.counts, { sent: 2, failed: 0 })
  t.match((await alice('GET', `/v1/deliveries/${failed.id}`)).json(), { state: 'sent', attempts: 1 })
  t.equal((await mock.received({ messenger: 'telegram' })).count, 1, 'the accepted Telegram delivery was sent once')
  t.equal((await listAll<ApiDelivery>(alice, '/v1/deliveries?state=failed', 'deliveries', 3)).length, 0, 'the failed lookup is empty now')
})

t.test('idempotency: a replay answers the first answer; another body is a 422; a request in flight is a 409', async (t) => {
  const { app, redis, prefix } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const body = { text: 'Exactly once', contacts: ['Artem'] }
  const key = { headers: { 'idempotency-key': 'order-1' } }
  const first = await alice('POST', '/v1/dispatches', body, key)
  t.equal(first.statusCode, 202)
  const replay = await alice('POST', '/v1/dispatches', { contacts: ['Artem'], text: 'Exactly once' }, key)
  t.equal(replay.statusCode, 202)
  t.same(replay.json(), first.json(), 'the same answer, keys in any order')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal((await alice('GET', '/v1/dispatches')).json().dispatches.length, 1, 'one dispatch')

  const other = await alice('POST', '/v1/dispatches', { ...body, text: 'Something else' }, key)
  t.equal(other.statusCode, 422)
  t.match(other.json(), { error: { code: 'IDEMPOTENCY_KEY_REUSED', details: [{ field: 'idempotency-key' }] } })
  const bobs = await client(app, { user: 'bob' })('POST', '/v1/dispatches', body, key)
  t.equal(bobs.json().error.code, 'NO_DELIVERIES', 'keys are per user: bob\'s request runs (and finds no contact Artem in his book)')

  // Two at once with a fresh key: one runs, the other is told it is in flight or gets the replay.
  const both = await Promise.all([1, 2].map(() => alice('POST', '/v1/dispatches', { text: 'Concurrent', all_contacts: true }, { headers: { 'idempotency-key': 'order-2' } })))
  t.same(both.map((r) => r.statusCode).sort(), both.some((r) => r.statusCode === 409) ? [202, 409] : [202, 202])
  t.equal((await alice('GET', '/v1/dispatches')).json().dispatches.length, 2, 'still only one dispatch for the key')
  // In flight, deterministically: the first request's claim, as a process mid-request leaves it.
  await redis.set(redisKeys(prefix).idempotency('alice', 'order-3'), JSON.stringify({ fingerprint: requestFingerprint(body) }), 'EX', 60)
  const inFlight = await alice('POST', '/v1/dispatches', body, { headers: { 'idempotency-key': 'order-3' } })
  t.equal(inFlight.statusCode, 409)
  t.equal(inFlight.json().error.code, 'REQUEST_IN_FLIGHT')
  t.equal((await alice('POST', '/v1/dispatches', { ...body, text: 'changed' }, { headers: { 'idempotency-key': 'order-3' } })).statusCode, 422,
    'another body is refused even while the first is in flight')

  const failing = await alice('POST', '/v1/dispatches', { text: 'x', contacts: ['Nobody'] }, { headers: { 'idempotency-key': 'order-4' } })
  t.equal(failing.statusCode, 422)
  await addContacts(alice, [{ name: 'Nobody', telegram: '777777' }])
  t.equal((await alice('POST', '/v1/dispatches', { text: 'x', contacts: ['Nobody'] }, { headers: { 'idempotency-key': 'order-4' } })).statusCode, 202,
    'a failed request does not hold its key')
})

t.test('listings: filters, pages stable under concurrent inserts, totals equal to the listed deliveries, purge', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const ids: string[] = []
  for (let i = 0; i < 4; i++) ids.push((await dispatch(alice, { text: `Round ${i}`, all_contacts: true })).id)
  for (const id of ids) await settled(alice, id)
  const all = await listAll<ApiDelivery>(alice, '/v1/deliveries', 'deliveries', 3)
  t.equal(all.length, 20)
  t.same([...new Set(all.map((d) => d.dispatch_id))], [...ids].reverse(), 'newest dispatch first')

  // Walk one at a time while new dispatches arrive: every delivery there at the start is listed exactly once.
  const seen = await listAll<ApiDelivery>(alice, '/v1/deliveries', 'deliveries', 4, {
    onPage: async (_, page) => { await dispatch(alice, { text: `Inserted ${page}`, contacts: ['Ivan'] }) }
  })
  t.same(seen.map((d) => d.id), all.map((d) => d.id))
  await eventually(async () => (await listAll<ApiDelivery>(alice, '/v1/deliveries', 'deliveries', 100)).every((d) => ['sent', 'failed'].includes(d.state)), 'the inserted dispatches to finish')

  const list = (await alice('GET', '/v1/dispatches?limit=2')).json()
  t.equal(list.dispatches.length, 2)
  t.ok(list.next_cursor)
  const everything = await listAll<ApiDelivery>(alice, '/v1/deliveries', 'deliveries', 100)
  for (const [state, count] of Object.entries(list.totals.counts)) {
    t.equal(count, everything.filter((d) => d.state === state).length, `totals.${state} equals the listed deliveries`)
  }
  const dispatchCount = (await listAll<unknown>(alice, '/v1/dispatches', 'dispatches', 2)).length
  t.equal(list.totals.dispatches, dispatchCount, 'totals.dispatches equals the listed dispatches')
  t.equal(new Set(everything.map((d) => d.dispatch_id)).size, dispatchCount)

  t.same((await listAll<ApiDelivery>(alice, '/v1/deliveries?state=failed&messenger=viber', 'deliveries', 3)).map((d) => d.contact), ['Lera', 'Lera', 'Lera', 'Lera'])
  t.equal((await listAll<ApiDelivery>(alice, '/v1/deliveries?contact=Ivan&messenger=telegram', 'deliveries', 3)).length, 0)
  const to = new Date(Date.now() + 1000).toISOString()
  t.equal((await listAll<ApiDelivery>(alice, `/v1/deliveries?from=${encodeURIComponent(new Date(0).toISOString())}&to=${encodeURIComponent(to)}`, 'deliveries', 50)).length, everything.length)

  // Every delivery has finished (awaited above), so a purge takes them all.
  const purged = (await alice('DELETE', '/v1/deliveries')).json()
  t.equal(purged.purged, everything.length, 'every finished delivery is purged')
  t.same((await alice('GET', '/v1/dispatches')).json(), { dispatches: [], totals: { dispatches: 0, counts: Object.fromEntries(Object.keys(list.totals.counts).map((s) => [s, 0])) } })
})

t.test('bad input and other users\' ids: a 4xx naming the field, 404 for what is not yours', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const mine = await dispatch(alice, { text: 'Mine', contacts: ['Lera'] })
  const bob = client(app, { user: 'bob' })
  for (const url of [`/v1/dispatches/${mine.id}`, `/v1/deliveries/${mine.id}.00000`]) {
    const res = await bob('GET', url)
    t.equal(res.statusCode, 404, `${url} is not bob's`)
    t.equal(res.json().error.code, 'NOT_FOUND')
  }
  t.equal((await bob('POST', `/v1/dispatches/${mine.id}/cancel`)).statusCode, 404)
  t.equal((await bob('POST', `/v1/deliveries/${mine.id}.00000/redrive`)).statusCode, 404)
  t.same((await bob('GET', '/v1/deliveries')).json(), { deliveries: [] })

  const cases: Array<[string, Json, number, string]> = [
    ['no target', { text: 'x' }, 400, 'contacts'],
    ['no text', { contacts: ['Lera'] }, 400, 'text'],
    ['empty text', { text: '', contacts: ['Lera'] }, 400, 'text'],
    ['bad direct address', { text: 'x', addresses: [{ messenger: 'whatsapp', address: '12345' }] }, 400, 'addresses[0].address'],
    ['unknown messenger', { text: 'x', addresses: [{ messenger: 'icq', address: '1' }] }, 400, 'addresses[0].messenger'],
    ['bad send_at', { text: 'x', contacts: ['Lera'], send_at: 'tomorrow' }, 400, 'send_at'],
    ['unknown field', { text: 'x', contacts: ['Lera'], colour: 'red' }, 400, ''],
    ['too long for Telegram', { text: 'x'.repeat(5000), contacts: ['Lera'] }, 400, 'text'],
    ['nobody known', { text: 'x', contacts: ['Nobody'] }, 422, '']
  ]
  for (const [name, body, status, field] of cases) {
    const res = await alice('POST', '/v1/dispatches', body)
    t.equal(res.statusCode, status, `${name}: ${status}`)
    if (field !== '') t.equal(res.json().error.details?.[0]?.field, field, `${name}: names ${field} (${res.json().error.message})`)
  }
  t.equal((await alice('GET', '/v1/deliveries?state=lost')).statusCode, 400)
  t.equal((await alice('GET', '/v1/deliveries?cursor=nope')).statusCode, 400)
  t.equal((await alice('GET', '/v1/dispatches/not-an-id')).statusCode, 400)
  const noUser = await app.inject({ method: 'GET', url: '/v1/dispatches' })
  t.equal(noUser.statusCode, 400)
  t.equal(noUser.json().error.details[0].field, 'x-user-name')
  t.equal((await alice('GET', '/v1/dispatches')).json().dispatches.length, 1, 'nothing was written by the refused requests')
})
