/**
 * PATCH and DELETE /v1/dispatches/{id}, and local windows, through the real
 * app (real Redis, BullMQ and mock messengers): an edit rebuilds a scheduled
 * dispatch in one step and moves its jobs; the old release job, firing during
 * the edit, releases either the old dispatch whole or nothing; a started one
 * answers 409; a delete leaves no trace in listings or counts; a delivery
 * outside its contact's local window is held until it opens, and expires if
 * expires_at comes first.
 */
import t from 'tap'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'

const BOOK = [
  { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', tags: ['team'] },
  { name: 'Lera', telegram: '123456789', tags: ['team', 'night'], timezone: 'UTC' },
  { name: 'Ivan', whatsapp: '+15551234567', tags: ['night'], timezone: 'UTC' }
]
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString()

t.test('an edit rebuilds a scheduled dispatch and moves its jobs; once started, 409 says what is left', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const later = await dispatch(alice, { text: 'Draft', contacts: ['Artem'], send_at: inAnHour() })
  t.equal(later.deliveries, 2)
  const oldJob = await app.dispatchQueue.getJob(`release-${later.id}`)
  t.ok(oldJob, 'the release job waits for send_at')

  const sendAt = new Date(Date.now() + 7_200_000).toISOString()
  const res = await alice('PATCH', `/v1/dispatches/${later.id}`, { text: 'Final', tags: { any: ['night'] }, send_at: sendAt })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { id: later.id, revision: 1, deliveries: 2, state: 'scheduled', send_at: sendAt })
  const deliveries = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${later.id}`, 'deliveries', 10)
  t.same(deliveries.map((d) => `${d.contact ?? ''} ${d.messenger} ${d.text} ${d.state}`).sort(),
    ['Ivan whatsapp Final scheduled', 'Lera telegram Final scheduled'], 'the new targets and text, nothing of the old')
  t.match((await alice('GET', `/v1/dispatches/${later.id}`)).json(), { revision: 1, total: 2, text: 'Final', counts: { scheduled: 2 } })
  t.match((await alice('GET', '/v1/dispatches')).json().totals.counts, { scheduled: 2 }, 'the user\'s totals count the new deliveries only')
  t.equal(await app.dispatchQueue.getJob(`release-${later.id}`), undefined, 'the old release job is gone')
  const newJob = await app.dispatchQueue.getJob(`release-${later.id}-r1`)
  t.equal(newJob?.data.rev, 1)
  t.ok(Math.abs(newJob!.timestamp + newJob!.delay - Date.parse(sendAt)) < 1000, 'the new one waits for the new send_at')

  // Without targets, the same ones again, looked up afresh; now, so it goes.
  const now = await alice('PATCH', `/v1/dispatches/${later.id}`, { send_at: new Date().toISOString() })
  t.match(now.json(), { revision: 2, deliveries: 2, state: 'queued' })
  const done = await settled(alice, later.id)
  t.match(done, { counts: { sent: 2 }, revision: 2 })

  const refused = await alice('PATCH', `/v1/dispatches/${later.id}`, { text: 'Too late' })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().error.code, 'DISPATCH_STARTED')
  t.match(refused.json().error.message, /cancel/)
})

t.test('the old release job firing during an edit releases the old dispatch whole or nothing, never the new one early', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  for (let round = 0; round < 6; round++) {
    const sendAt = Date.now() + 3_600_000
    const later = await dispatch(alice, { text: `Old ${round}`, tags: { any: ['team'] }, send_at: new Date(sendAt).toISOString() })
    // The old job as the worker runs it at its time, racing the edit.
    const [edit, released] = await Promise.all([
      alice('PATCH', `/v1/dispatches/${later.id}`, { text: `New ${round}`, send_at: new Date(sendAt + 3_600_000).toISOString() }),
      new Promise((resolve) => setTimeout(resolve, round)).then(async () => await app.deliveries.release(later.id, undefined, { rev: 0, at: sendAt }))
    ])
    const deliveries = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${later.id}`, 'deliveries', 10)
    if (edit.statusCode === 200) {
      t.same(released, [], `round ${round}: edited first; the old job released nothing`)
      t.ok(deliveries.every((d) => d.state === 'scheduled' && d.text === `New ${round}`), 'all new, all waiting')
    } else {
      t.equal(edit.json().error.code, 'DISPATCH_STARTED', `round ${round}: released first; the edit is refused`)
      t.equal(released.length, 3)
      t.ok(deliveries.every((d) => d.text === `Old ${round}` && d.state !== 'scheduled'), 'all old, all released')
    }
  }
  // And after an edit, the old revision's job does nothing even at the new time.
  const later = await dispatch(alice, { text: 'Again', contacts: ['Lera'], send_at: inAnHour() })
  await alice('PATCH', `/v1/dispatches/${later.id}`, { send_at: new Date(Date.now() + 1000).toISOString() }, { expectStatus: 200 })
  t.same(await app.deliveries.release(later.id, undefined, { rev: 0, at: Date.now() + 5000 }), [], 'an old job finds the revision changed')
  t.same(await app.deliveries.release(later.id, undefined, { rev: 1, at: Date.now() - 60_000 }), [], 'the new one before its time releases nothing')
  t.match(await settled(alice, later.id), { counts: { sent: 1 } }, 'and the new job sends it at its time')
})

t.test('bad edits are 4xx naming the field and change nothing', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const later = await dispatch(alice, { text: 'Draft', contacts: ['Artem'], send_at: inAnHour() })
  const path = `/v1/dispatches/${later.id}`
  t.equal((await alice('PATCH', path, {})).statusCode, 400, 'an empty edit')
  let res = await alice('PATCH', path, { local_window: { from: '09:00', to: '09:00' } })
  t.match(res.json().error, { code: 'INVALID_FIELD', details: [{ field: 'local_window.to' }] })
  res = await alice('PATCH', path, { local_window: { from: '09:00', to: '21:00', default_timezone: 'Mars/Olympus' } })
  t.match(res.json().error, { details: [{ field: 'local_window.default_timezone' }] })
  res = await alice('PATCH', path, { contacts: ['Nobody'] })
  t.equal(res.statusCode, 422)
  t.equal(res.json().error.code, 'NO_DELIVERIES')
  res = await alice('PATCH', path, { send_at: new Date(Date.now() - 60_000).toISOString(), expires_at: new Date(Date.now() - 1000).toISOString() })
  t.equal(res.json().error.code, 'WINDOW_CLOSED')
  t.equal((await client(app, { user: 'bob' })('PATCH', path, { text: 'mine' })).statusCode, 404, 'another user\'s dispatch')
  t.match((await alice('GET', path)).json(), { revision: 0, text: 'Draft', total: 2, counts: { scheduled: 2 } }, 'nothing changed')
})

t.test('a delete cancels what is pending and leaves nothing in listings or counts', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const kept = await dispatch(alice, { text: 'Kept', contacts: ['Lera'], send_at: inAnHour() })
  const sent = await dispatch(alice, { text: 'Sent', tags: { any: ['team'] } })
  await settled(alice, sent.id)
  const later = await dispatch(alice, { text: 'Later', contacts: ['Artem'], send_at: inAnHour(), expires_at: new Date(Date.now() + 7_200_000).toISOString() })
  const ids = (await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${sent.id}`, 'deliveries', 10)).map((d) => d.id)

  t.equal((await client(app, { user: 'bob' })('DELETE', `/v1/dispatches/${sent.id}`)).statusCode, 404, 'another user\'s')
  t.same((await alice('DELETE', `/v1/dispatches/${sent.id}`)).json(), { cancelled: 0, deleted: 3, in_flight: [] })
  t.same((await alice('DELETE', `/v1/dispatches/${later.id}`)).json(), { cancelled: 2, deleted: 2, in_flight: [] })
  t.equal((await alice('GET', `/v1/dispatches/${sent.id}`)).statusCode, 404)
  t.equal((await alice('DELETE', `/v1/dispatches/${later.id}`)).statusCode, 404, 'gone')
  t.equal((await alice('GET', `/v1/deliveries/${ids[0]!}`)).statusCode, 404)
  const list = (await alice('GET', '/v1/dispatches')).json()
  t.same(list.dispatches.map((d: { id: string }) => d.id), [kept.id])
  t.match(list.totals, { dispatches: 1, counts: { scheduled: 1, sent: 0, failed: 0, cancelled: 0 } }, 'the totals are the kept dispatch\'s')
  t.same((await alice('GET', '/v1/deliveries?state=failed')).json().deliveries, [], 'not in the failed lookup either')
  t.equal(await app.dispatchQueue.getJob(`release-${later.id}`), undefined, 'its jobs are gone')
  t.equal(await app.dispatchQueue.getJob(`expire-${later.id}`), undefined)
})

t.test('a local window holds a delivery until it opens, and expires_at coming first ends it expired', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
  // Closed now in UTC (Lera, Ivan, and Artem through default_timezone): it opens in two hours.
  const opens = Math.ceil((Date.now() + 2 * 3_600_000) / 60_000) * 60_000
  const window = { from: hhmm(opens), to: hhmm(opens + 3_600_000), default_timezone: 'UTC' }
  const open = { from: hhmm(Date.now() - 3_600_000), to: hhmm(Date.now() + 3_600_000), default_timezone: 'UTC' }

  const held = await dispatch(alice, { text: 'In your hours', contacts: ['Lera'], local_window: window })
  t.equal(held.state, 'scheduled', 'nothing goes now: the answer says scheduled')
  t.match((await alice('GET', `/v1/dispatches/${held.id}`)).json(), { status: 'scheduled' }, 'as the dispatch\'s status does')
  const [delivery] = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${held.id}`, 'deliveries', 10)
  t.match(delivery, { state: 'scheduled', due_at: new Date(opens).toISOString() }, 'held until the window opens')
  t.match((await alice('GET', `/v1/dispatches/${held.id}`)).json(), { local_window: window })
  const job = await app.dispatchQueue.getJob(`release-${held.id}-t${opens}`)
  t.ok(job, 'a release job waits for the opening')
  // The opening comes (BullMQ's delay cut short): the job releases it.
  await job!.promote()
  t.match(await settled(alice, held.id), { counts: { sent: 1 } })

  const expiring = await dispatch(alice, { text: 'Too late', tags: { any: ['night'] }, local_window: window, expires_at: new Date(Date.now() + 1500).toISOString() })
  t.equal(await app.dispatchQueue.getJob(`release-${expiring.id}-t${opens}`), undefined, 'no release past expires_at')
  t.match(await settled(alice, expiring.id), { counts: { expired: 2, sent: 0 } }, 'expired when expires_at came first')

  const inside = await dispatch(alice, { text: 'Now', contacts: ['Artem'], messengers: ['telegram'], local_window: open })
  t.equal(inside.state, 'queued', 'inside the window: it goes now')
  const [now] = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${inside.id}`, 'deliveries', 10)
  t.equal(now!.due_at, undefined, 'inside the window (Artem has no zone: the default one): not held')
  await eventually(async () => (await alice('GET', `/v1/dispatches/${inside.id}`)).json().status === 'finished', 'the open window to send at once')
})
