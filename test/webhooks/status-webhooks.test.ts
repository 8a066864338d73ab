/**
 * Status webhooks end to end: real dispatches through the real app and the
 * mock messengers, each state change told to a real receiver in this test
 * that verifies every signature with the reference `standardwebhooks`
 * package. The receiver fails (500), then hangs, then recovers: every event
 * arrives at least once after it recovers, a repeat carries the same
 * webhook-id and body, and while it hangs every delivery of a dispatch
 * still finishes (the sends never wait for webhooks).
 */
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery } from '../helpers/api.js'
import { build } from '../helpers/app.js'
import { redisKeys } from '../../src/redis-keys.js'
import { startReceiver, type Answer, type ReceivedRequest } from '../helpers/receiver.js'

const BOOK = [
  { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615' },
  { name: 'Lera', telegram: '123456789', viber: 'lera-viber-id' }
]

interface Heard { id: string, type: string, data: { id: string }, answer: Answer, body: string }

t.test('a receiver that fails, hangs and recovers hears of every change at least once, each under one webhook-id', async (t) => {
  const { app } = await build(t, { env: { WEBHOOK_RETRY_SCHEDULE_MS: Array(20).fill(150).join(','), WEBHOOK_TIMEOUT_MS: '500' } })
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, BOOK)
  const receiver = await startReceiver(t)
  const endpoint = (await alice('POST', '/v1/webhooks', {
    url: `${receiver.url}/status`,
    events: ['delivery.sent', 'delivery.delivered', 'delivery.read', 'delivery.failed', 'delivery.expired', 'delivery.cancelled', 'dispatch.finished']
  }, { expectStatus: 201 })).json()
  const signer = new Webhook(endpoint.secret as string)

  const heard: Heard[] = []
  let mode: Answer = 500
  receiver.answer((request: ReceivedRequest) => {
    // Verified by the reference package, not by our code: a request it refuses is a failure of the test.
    const payload = signer.verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature'])
    }) as { type: string, data: { id: string } }
    heard.push({ id: String(request.headers['webhook-id']), type: payload.type, data: payload.data, answer: mode, body: request.body })
    return mode
  })

  const failing = await dispatch(alice, { text: 'While it fails', all_contacts: true })
  await receiver.until(() => heard.length >= 3, 10_000, 'attempts while it fails')

  mode = 'hang'
  // The retries of what failed now hang: the second dispatch is sent while attempts are held.
  await receiver.until(() => heard.some((h) => h.answer === 'hang'), 10_000, 'an attempt that hangs')
  const hanging = await dispatch(alice, { text: 'While it hangs', all_contacts: true })
  // Proven by outcome: every delivery of this dispatch ended while every webhook attempt hangs.
  const done = await settled(alice, hanging.id)
  t.equal(done.status, 'finished')
  t.equal(done.counts.sent + done.counts.failed, hanging.deliveries, 'every delivery finished while the endpoint hangs')

  mode = 200
  const deliveries = [
    ...await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${failing.id}`, 'deliveries', 100),
    ...await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${hanging.id}`, 'deliveries', 100)
  ]
  const expected = [
    ...deliveries.map((d) => `delivery.${d.state === 'failed' ? 'failed' : 'sent'} ${d.id}`),
    `dispatch.finished ${failing.id}`,
    `dispatch.finished ${hanging.id}`
  ]
  const answered = () => new Set(heard.filter((h) => h.answer === 200).map((h) => `${h.type} ${h.data.id}`))
  await receiver.until(() => expected.every((e) => answered().has(e)), 20_000, 'every event, answered, after the recovery')
  t.pass(`all ${expected.length} events arrived after the recovery`)

  // Every message tried before the recovery came again after it, with the same webhook-id and the same bytes.
  const unanswered = new Map(heard.filter((h) => h.answer !== 200).map((h) => [h.id, h]))
  await receiver.until(() => [...unanswered.keys()].every((id) => heard.some((h) => h.id === id && h.answer === 200)), 10_000, 'every failed message again')
  for (const [id, first] of unanswered) {
    const again = heard.filter((h) => h.id === id && h.answer === 200)
    t.ok(again.every((h) => h.body === first.body && h.type === first.type), `${first.type} ${first.data.id}: the same message under ${id}`)
  }
  const idsOfEvent = new Map<string, Set<string>>()
  for (const h of heard) idsOfEvent.set(`${h.type} ${h.data.id}`, (idsOfEvent.get(`${h.type} ${h.data.id}`) ?? new Set()).add(h.id))
  t.ok([...idsOfEvent.values()].every((ids) => ids.size === 1), 'one webhook-id per event, however often it was tried')

  const attempts = (await alice('GET', `/v1/webhooks/${endpoint.id as string}/attempts?limit=1000`)).json().attempts as Array<{ ok: boolean, status?: number, error?: string }>
  t.ok(attempts.some((a) => !a.ok && a.status === 500), 'the failures are listed')
  t.ok(attempts.some((a) => !a.ok && a.status === undefined && /no answer in time|not sent/.test(a.error ?? '')), 'the hangs too')
  t.ok(attempts.some((a) => a.ok), 'and the successes')
})

t.test('an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_MS is disabled and says why; a user without endpoints records no events', async (t) => {
  const { app, redis, prefix } = await build(t, { env: { WEBHOOK_DISABLE_AFTER_MS: '300', WEBHOOK_RETRY_SCHEDULE_MS: '100,100,100,100,100,100,100,100' } })
  const alice = client(app, { user: 'alice' })
  const bob = client(app, { user: 'bob' })
  const receiver = await startReceiver(t)
  receiver.answer(500)
  const endpoint = (await alice('POST', '/v1/webhooks', { url: `${receiver.url}/down`, events: ['delivery.sent'] }, { expectStatus: 201 })).json()
  await dispatch(alice, { text: 'To a dead endpoint', addresses: [{ messenger: 'telegram', address: '@someone' }] })
  let shown: Record<string, unknown> = {}
  for (let tries = 0; tries < 200 && shown.enabled !== false; tries++) {
    shown = (await alice('GET', `/v1/webhooks/${endpoint.id as string}`)).json()
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  t.match(shown, { enabled: false, disabled_at: String, disabled_reason: /every attempt failed since/, failing_since: String })
  const tried = receiver.requests.length
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.ok(receiver.requests.length <= tried + 1, 'a disabled endpoint is no longer tried')
  const enabled = (await alice('PATCH', `/v1/webhooks/${endpoint.id as string}`, { enabled: true }, { expectStatus: 200 })).json()
  t.notOk(enabled.disabled_reason, 'enabled again, it forgets why it was disabled')

  const sent = await dispatch(bob, { text: 'Nobody listens', addresses: [{ messenger: 'telegram', address: '@other' }] })
  await settled(bob, sent.id)
  const keys = redisKeys(prefix)
  t.equal(await redis.exists(keys.webhookEvents('bob')), 0, 'no event stream for a user without endpoints')
  t.equal(await redis.xlen(keys.webhookEvents('alice')), 0, 'and alice\'s events were all relayed')
})
