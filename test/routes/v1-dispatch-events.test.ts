/**
 * GET /v1/dispatches/{id}/events, over real HTTP to a listening service: the
 * dispatch's progress as Server-Sent Events until it is finished, resumable
 * with Last-Event-ID, for its owner only; streams end when the client goes
 * and when the app closes; several users' dispatches, in slots a Redis
 * Cluster keeps on different masters, watched at once. And what a stream
 * costs: Redis reads per stream per second while thousands of deliveries
 * change, reported as a figure. Runs on a Cluster with TEST_REDIS_TARGET=cluster.
 */
import { PassThrough } from 'node:stream'
import calculateSlot from 'cluster-key-slot'
import t from 'tap'
import { slotOfUser } from '../../src/redis-keys.js'
import { addContacts, client, dispatch, settled } from '../helpers/api.js'
import { AUTH_ENV, build, eventually } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'
import { openStream } from '../helpers/events.js'
import { dispatchIdOf } from '../helpers/ids.js'

type Json = Record<string, any>

const PENDING = ['scheduled', 'queued', 'sending']
const pendingOf = (view: Json) => PENDING.reduce((n, s) => n + (view.counts[s] as number), 0)

t.test('with authentication on', async (t) => {
  // Two Telegram sends at a time: the 20 of the first test take a couple of seconds, so ticks see states in between.
  const { app, mock } = await build(t, { env: { ...AUTH_ENV, TELEGRAM_CONCURRENCY: '2' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const alice = await createUser(app, 'alice')
  const bob = await createUser(app, 'bob')
  const asAlice = client(app, { headers: bearer(alice.key) })
  await addContacts(asAlice, Array.from({ length: 20 }, (_, i) => ({ name: `c${i}`, telegram: String(1000 + i), viber: `viber-${i}` })))

  t.test('the owner sees progress per messenger until finished, then the stream ends', async (t) => {
    await mock.behave('telegram', { latencyMs: [100, 300] })
    t.teardown(() => mock.behave('telegram', { latencyMs: [0, 0] }))
    const accepted = await dispatch(asAlice, { text: 'live', all_contacts: true })
    const stream = await openStream(t, `${base}/v1/dispatches/${accepted.id}/events`, bearer(alice.key))
    t.equal(stream.status, 200)
    t.match(stream.headers.get('content-type'), /^text\/event-stream/)
    t.equal(stream.headers.get('cache-control'), 'no-cache')
    t.ok(stream.headers.get('x-request-id'), 'our headers go along')
    await stream.ended
    t.ok(stream.endedByServer(), 'the server ends the stream once finished')

    const { events } = stream
    t.ok(events.length >= 2, `${events.length} events`)
    t.ok(events.slice(0, -1).every((e) => e.event === 'progress' && pendingOf(e.data) > 0), 'progress events while deliveries are pending')
    const last = events.at(-1)!
    t.equal(last.event, 'finished', 'the last event says finished')
    t.equal(pendingOf(last.data), 0)
    t.same(last.data, (await asAlice('GET', `/v1/dispatches/${accepted.id}`)).json(), 'the same view as GET /v1/dispatches/{id}')
    t.same(Object.keys(last.data.by_messenger).sort(), ['telegram', 'viber'])
    t.match(last.data.by_messenger, { telegram: { sent: 20 }, viber: { failed: 20 } })
    t.ok(events.every((e) => typeof e.id === 'string' && e.id.length === 16), 'every event has an id')
    t.equal(new Set(events.map((e) => e.id)).size, events.length, 'no state is sent twice')
    // Telegram took 100-300 ms a send: some of the events show it under way.
    t.ok(events.some((e) => e.data.by_messenger.telegram.sent > 0 && e.data.by_messenger.telegram.sent < 20), 'a state in between was seen')

    t.test('resuming: the finished state again is a 204 (an EventSource stops there)', async (t) => {
      const again = await openStream(t, `${base}/v1/dispatches/${accepted.id}/events`, { ...bearer(alice.key), 'last-event-id': last.id! })
      t.equal(again.status, 204)
      t.equal(again.text, '')
    })
    t.test('resuming from an earlier event: the current state at once, then the end', async (t) => {
      const again = await openStream(t, `${base}/v1/dispatches/${accepted.id}/events`, { ...bearer(alice.key), 'last-event-id': events[0]!.id! })
      await again.ended
      t.same(again.events.map((e) => [e.event, e.id]), [['finished', last.id]])
    })
  })

  t.test('a scheduled dispatch: its state at once, nothing while nothing moves, and a resume with that state sends nothing', async (t) => {
    const accepted = await dispatch(asAlice, { text: 'later', contacts: ['c1'], send_at: '2099-01-01T00:00:00Z' })
    const url = `${base}/v1/dispatches/${accepted.id}/events`
    const stream = await openStream(t, url, bearer(alice.key))
    await eventually(async () => stream.events.length === 1, 'the first event')
    t.match(stream.events[0], { event: 'progress', data: { status: 'scheduled', counts: { scheduled: 2 } } })
    const resumed = await openStream(t, url, { ...bearer(alice.key), 'last-event-id': stream.events[0]!.id! })
    t.equal(resumed.status, 200)
    await new Promise((resolve) => setTimeout(resolve, 700))
    t.same(resumed.events, [], 'the resumed stream sends nothing until something changes')
    t.equal(stream.events.length, 1)

    // A cancel finishes it: both streams hear it and end.
    await asAlice('POST', `/v1/dispatches/${accepted.id}/cancel`, undefined, { expectStatus: 200 })
    await Promise.all([stream.ended, resumed.ended])
    for (const s of [stream, resumed]) t.match(s.events.at(-1), { event: 'finished', data: { status: 'finished', counts: { cancelled: 2 } } })
    t.equal(app.dispatchEvents.open, 0, 'no stream left open')
    t.equal(app.dispatchEvents.progress.stats().dispatches, 0, 'nothing watched')
  })

  t.test('another user, no credentials, a wrong Accept: answered as on every route, in JSON', async (t) => {
    const accepted = await dispatch(asAlice, { text: 'mine', contacts: ['c2'] })
    const url = `${base}/v1/dispatches/${accepted.id}/events`
    const asBob = await openStream(t, url, bearer(bob.key))
    t.equal(asBob.status, 404, 'another user\'s dispatch is a 404')
    t.match(JSON.parse(asBob.text), { error: { code: 'NOT_FOUND' } })
    t.notMatch(asBob.text, /mine/)
    const never = dispatchIdOf('bob')
    const unknown = await openStream(t, `${base}/v1/dispatches/${never}/events`, bearer(bob.key))
    t.same([unknown.status, JSON.parse(unknown.text)], [404, JSON.parse(asBob.text.replace(accepted.id, never))],
      'exactly as an id that does not exist')
    const anonymous = await openStream(t, url)
    t.equal(anonymous.status, 401)
    t.match(anonymous.headers.get('www-authenticate'), /^Basic/)
    const alien = await openStream(t, url, { ...bearer(alice.key), 'x-user-name': 'bob' })
    t.equal(alien.status, 403, 'naming another user with a key is a 403')
    const queryAlien = await openStream(t, `${url}?user=bob`, bearer(alice.key))
    t.equal(queryAlien.status, 403, '?user= means what X-User-Name means: with a key, the key\'s owner only')
    const json = await openStream(t, url, { ...bearer(alice.key), accept: 'application/json' })
    t.equal(json.status, 406)
    t.match(JSON.parse(json.text), { error: { code: 'NOT_ACCEPTABLE' } })
    const bad = await openStream(t, `${base}/v1/dispatches/not-an-id/events`, bearer(alice.key))
    t.equal(bad.status, 400)
  })

  t.test('a client that goes away: the server forgets its stream', async (t) => {
    const accepted = await dispatch(asAlice, { text: 'gone', contacts: ['c3'], send_at: '2099-01-01T00:00:00Z' })
    const streams = await Promise.all(Array.from({ length: 3 }, async () => await openStream(t, `${base}/v1/dispatches/${accepted.id}/events`, bearer(alice.key))))
    await eventually(async () => app.dispatchEvents.open === 3, 'three open streams')
    t.match(app.dispatchEvents.progress.stats(), { dispatches: 1, listeners: 3 }, 'one dispatch watched, for three streams')
    for (const s of streams) s.leave()
    await eventually(async () => app.dispatchEvents.open === 0, 'the streams to be forgotten')
    t.equal(app.dispatchEvents.progress.stats().dispatches, 0)
  })
})

t.test('with authentication off, ?user= names the user (an EventSource cannot send X-User-Name)', async (t) => {
  const { app } = await build(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const asDora = client(app, { user: 'dora' })
  await addContacts(asDora, [{ name: 'Lera', telegram: '42' }])
  const accepted = await dispatch(asDora, { text: 'hi', contacts: ['Lera'] })
  await settled(asDora, accepted.id)
  const url = `${base}/v1/dispatches/${accepted.id}/events`
  const byQuery = await openStream(t, `${url}?user=dora`)
  await byQuery.ended
  t.match(byQuery.events, [{ event: 'finished', data: { counts: { sent: 1 } } }])
  const byHeader = await openStream(t, url, { 'x-user-name': 'dora' })
  await byHeader.ended
  t.equal(byHeader.events.length, 1)
  t.equal((await openStream(t, `${url}?user=eve`)).status, 404, 'another user\'s name finds nothing')
  const none = await openStream(t, url)
  t.equal(none.status, 400)
  t.match(none.text, /\?user=/, 'the error says how an EventSource names the user')
  t.equal((await openStream(t, `${url}?user=${encodeURIComponent('a:b')}`)).status, 400, 'a name that cannot be a user\'s is refused')
  t.equal((await client(app)('GET', '/v1/dispatches?user=dora')).statusCode, 400, 'other routes take no ?user=')
})

/** Three user names whose data is in slots far apart: a three-master Redis Cluster (redis-cli --cluster create) serves each third on another master. */
function usersOnEveryThird (): string[] {
  const users: string[] = []
  for (let i = 0; users.length < 3; i++) {
    const third = Math.floor(calculateSlot(`{${slotOfUser(`u${i}`)}}`) * 3 / 16384)
    if (users[third] === undefined) users[third] = `u${i}`
  }
  return users
}

t.test('several users\' dispatches watched at once (on a Cluster, on different masters): each stream follows its own to the end', async (t) => {
  const log = new PassThrough()
  const lines: string[] = []
  log.on('data', (chunk: Buffer) => { lines.push(...chunk.toString().split('\n').filter((line) => line !== '')) })
  const { app, mock } = await build(t, { logStream: log })
  await mock.behave('telegram', { latencyMs: [50, 150] })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const users = usersOnEveryThird()
  const ids = await Promise.all(users.map(async (user, u) => {
    const api = client(app, { user })
    await addContacts(api, Array.from({ length: 6 }, (_, i) => ({ name: `c${i}`, telegram: String(2000 + 10 * u + i) })))
    return (await dispatch(api, { text: `for ${user}`, all_contacts: true })).id
  }))
  const streams = await Promise.all(ids.map(async (id, u) => await openStream(t, `${base}/v1/dispatches/${id}/events?user=${users[u]}`)))
  await Promise.all(streams.map(async (s) => await s.ended))
  streams.forEach((s, u) => {
    t.match(s.events.at(-1), { event: 'finished', data: { id: ids[u], text: `for ${users[u]}`, counts: { sent: 6 } } }, `${users[u]}'s stream saw their dispatch finish`)
  })
  t.ok(streams.some((s) => s.events.length > 1), 'progress came while they were sent')
  t.same(lines.filter((line) => line.includes('reading the progress of watched dispatches failed')), [], 'no tick of the shared reader failed')
})

t.test('app.close() ends open streams at once (clients may resume elsewhere)', async (t) => {
  const { app } = await build(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const asDora = client(app, { user: 'dora' })
  await addContacts(asDora, [{ name: 'Lera', telegram: '42' }])
  const accepted = await dispatch(asDora, { text: 'later', contacts: ['Lera'], send_at: '2099-01-01T00:00:00Z' })
  const stream = await openStream(t, `${base}/v1/dispatches/${accepted.id}/events?user=dora`)
  await eventually(async () => stream.events.length === 1, 'the first event')
  const started = Date.now()
  await app.close()
  await stream.ended
  t.ok(stream.endedByServer(), 'the server ended the stream')
  t.ok(Date.now() - started < 5000, `closed in ${Date.now() - started} ms, not held open by the stream`)
})

t.test('cost: Redis reads per stream per second while thousands of deliveries change (a figure, not a limit)', async (t) => {
  const { app } = await build(t, { env: { TELEGRAM_CONCURRENCY: '50', WHATSAPP_CONCURRENCY: '50' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const asDora = client(app, { user: 'dora' })
  const CONTACTS = 500
  const DISPATCHES = 4
  const STREAMS_EACH = 25
  await addContacts(asDora, Array.from({ length: CONTACTS }, (_, i) => ({ name: `p${i}`, telegram: String(10_000 + i), whatsapp: `+1555${String(1_000_000 + i)}` })))
  const before = app.dispatchEvents.progress.stats()
  const started = Date.now()
  const ids = []
  for (let i = 0; i < DISPATCHES; i++) ids.push((await dispatch(asDora, { text: `load ${i}`, all_contacts: true })).id)
  const streams = await Promise.all(ids.flatMap((id) => Array.from({ length: STREAMS_EACH },
    async () => await openStream(t, `${base}/v1/dispatches/${id}/events?user=dora`))))
  await Promise.all(streams.map(async (s) => await s.ended))
  const seconds = (Date.now() - started) / 1000
  const after = app.dispatchEvents.progress.stats()
  const reads = after.reads - before.reads
  const deliveries = CONTACTS * 2 * DISPATCHES
  t.ok(streams.every((s) => s.events.at(-1)?.event === 'finished'), 'every stream saw its dispatch finish')
  const perStream = reads / streams.length / seconds
  const eventsPerStream = streams.reduce((n, s) => n + s.events.length, 0) / streams.length / seconds
  t.comment(`cost: ${deliveries} deliveries changed in ${seconds.toFixed(1)} s (${Math.round(deliveries * 3 / seconds)} state changes/s); ` +
    `${streams.length} streams on ${DISPATCHES} dispatches: ${reads} HMGETs in ${after.ticks - before.ticks} ticks, ` +
    `${perStream.toFixed(2)} Redis commands per stream per second (${(reads / DISPATCHES / seconds).toFixed(2)} per watched dispatch per second), ` +
    `${eventsPerStream.toFixed(2)} events per stream per second`)
  t.ok(reads <= (after.ticks - before.ticks) * DISPATCHES, 'at most one read per watched dispatch per tick, however many streams watch it')
})
