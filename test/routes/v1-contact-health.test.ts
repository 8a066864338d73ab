/**
 * Dead addresses through the real app (real Redis, real HTTP to the mock):
 * a failure that says the address is dead marks it, GET /v1/contacts/{name}
 * shows it, a later success, an edit or the reset route clears it, and
 * dispatches with skip_unreachable end its deliveries `suppressed` (reason
 * address_unreachable), counted as such and not listed as failed, while
 * dispatches without it send there as before.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { whatsappWebhookBody } from '../../mock-messengers/whatsapp.js'
import { hmacHex } from '../../src/messengers/webhook-signature.js'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery, type Client } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { startReceiver } from '../helpers/receiver.js'

const BLOCKED = { reachable: false, reason: 'blocked', code: 403, count: 1 }

async function deliveriesOf (api: Client, dispatchId: string) {
  return await listAll<ApiDelivery>(api, `/v1/deliveries?dispatch=${dispatchId}`, 'deliveries', 100)
}

t.test('a blocked Telegram address: marked, shown, skipped when asked, tried again when not, cleared by a success', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789', viber: 'lera-viber-id' }, { name: 'Ivan', telegram: '987654321' }])
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: true }, viber: { reachable: true } },
    'an address never sent to is reachable; only the messengers the contact has')

  await mock.behave('telegram', { reject: true })
  const first = await dispatch(alice, { text: 'One', contacts: ['Lera'] })
  await settled(alice, first.id)
  await mock.behave('telegram', { reject: false })
  const lera = (await alice('GET', '/v1/contacts/Lera')).json()
  t.match(lera.health, { telegram: BLOCKED, viber: { reachable: false, reason: 'not_subscribed', code: 6, count: 1 } },
    'Telegram 403 blocked, and the mock\'s Viber (status 6, not subscribed)')
  t.ok(Date.parse(lera.health.telegram.at) > Date.now() - 60_000, 'stamped when it failed')

  const skipped = await dispatch(alice, { text: 'Two', contacts: ['Lera', 'Ivan'], skip_unreachable: true })
  t.match(skipped, { deliveries: 3, suppressed: 2 }, 'the answer counts the skipped ones as suppressed')
  const done = await settled(alice, skipped.id)
  t.match(done, { status: 'finished', skip_unreachable: true, counts: { suppressed: 2, sent: 1, failed: 0 } })
  const legs = await deliveriesOf(alice, skipped.id)
  t.same(legs.map((d) => `${d.contact ?? ''} ${d.messenger} ${d.state} ${d.reason ?? '-'} ${d.attempts}`).sort(), [
    'Ivan telegram sent - 1',
    'Lera telegram suppressed address_unreachable 0',
    'Lera viber suppressed address_unreachable 0'
  ], 'not sent (no attempt), not failed; the reachable one goes')
  t.notOk(legs.some((d) => d.duplicate_of !== undefined), 'no duplicate_of: it repeats nothing')
  t.equal((await mock.received({ messenger: 'telegram', recipient: '123456789' })).count, 1, 'the mock got nothing more for Lera')
  const failed = await listAll<ApiDelivery>(alice, '/v1/deliveries?state=failed', 'deliveries', 100)
  t.notOk(failed.some((d) => d.dispatch_id === skipped.id), 'the failed lookup does not list them')
  const suppressed = await listAll<ApiDelivery>(alice, `/v1/deliveries?state=suppressed&dispatch=${skipped.id}`, 'deliveries', 100)
  t.equal(suppressed.length, 2, 'the suppressed listing does, as the counts say')

  const tried = await dispatch(alice, { text: 'Three', contacts: ['Lera'], messengers: ['telegram'] })
  t.match(tried, { deliveries: 1, suppressed: 0 }, 'off by default: the dead address is tried again')
  t.match(await settled(alice, tried.id), { counts: { sent: 1 } }, 'and it works now (the person unblocked the bot)')
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health.telegram, { reachable: true }, 'an accepted send clears the mark')
})

t.test('the reset route: owner only, 404s, clears and answers the contact with its health', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  const bob = client(app, { user: 'bob' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789', viber: 'lera-viber-id' }])
  await app.addressFacts.markUnreachable('viber', 'lera-viber-id', { code: 6, reason: 'not_subscribed' }, Date.now())

  t.equal((await alice('POST', '/v1/contacts/Nobody/health/viber/reset')).statusCode, 404, 'no such contact')
  const none = await alice('POST', '/v1/contacts/Lera/health/whatsapp/reset')
  t.equal(none.statusCode, 404, 'no address on that messenger')
  t.match(none.json(), { error: { code: 'NOT_FOUND', message: /whatsapp/ } })
  t.equal((await alice('POST', '/v1/contacts/Lera/health/icq/reset')).statusCode, 400, 'not a messenger')
  t.equal((await bob('POST', '/v1/contacts/Lera/health/viber/reset')).statusCode, 404, 'another user\'s contact is no contact')
  t.match((await alice('GET', '/v1/contacts/Lera')).json().health.viber, { reachable: false }, 'bob changed nothing')

  const reset = await alice('POST', '/v1/contacts/Lera/health/viber/reset', '', { headers: { 'content-type': 'application/json' } })
  t.equal(reset.statusCode, 200, 'as curl sends it: a JSON content type and no body')
  t.same(reset.json(), { name: 'Lera', telegram: '123456789', viber: 'lera-viber-id', health: { telegram: { reachable: true }, viber: { reachable: true } } })
  await app.addressFacts.markUnreachable('viber', 'lera-viber-id', { code: 6, reason: 'not_subscribed' }, Date.now() - 60_000)
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health.viber, { reachable: true }, 'a failure dated before the reset, told late, does not mark it again')
})

t.test('an edit that gives a messenger a new address clears that address; the same address keeps its mark', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789', whatsapp: '+15551234567' }])
  const now = Date.now()
  for (const [messenger, address] of [['telegram', '123456789'], ['telegram', '555000111'], ['whatsapp', '+15551234567']] as const) {
    await app.addressFacts.markUnreachable(messenger, address, messenger === 'whatsapp' ? { code: 131026, reason: 'not_on_whatsapp' } : { code: 403, reason: 'blocked' }, now)
  }
  await alice('PATCH', '/v1/contacts/Lera', { tags: ['team'] }, { expectStatus: 200 })
  t.match((await alice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: false }, whatsapp: { reachable: false } }, 'a patch of other fields clears nothing')
  await alice('PUT', '/v1/contacts/Lera', { telegram: '123456789', whatsapp: '+15551234567', tags: ['x'] }, { expectStatus: 200 })
  t.match((await alice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: false }, whatsapp: { reachable: false } }, 'nor a replace with the same addresses')
  await alice('PATCH', '/v1/contacts/Lera', { telegram: '555000111' }, { expectStatus: 200 })
  t.match((await alice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: true }, whatsapp: { reachable: false } },
    'the new Telegram id, marked before, is cleared: the user gave it anew')
  await alice('PUT', '/v1/contacts/Lera', { telegram: '555000111', whatsapp: '+15557654321' }, { expectStatus: 200 })
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: true }, whatsapp: { reachable: true } }, 'a new number by PUT too')
  t.match(await app.addressFacts.health('telegram', '123456789'), { reachable: false }, 'the old address keeps what is known of it')
})

t.test('WhatsApp 131026 by status webhook marks the number; a delivered receipt clears it', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Ivan', whatsapp: '+15551234567' }])
  const sent = await dispatch(alice, { text: 'Hello', contacts: ['Ivan'] })
  await settled(alice, sent.id)
  const [delivery] = await deliveriesOf(alice, sent.id)
  const wamid = delivery!.provider_message_id!
  const status = (state: string, at: number) => whatsappWebhookBody('100000000000001', {
    statuses: [{
      id: wamid,
      status: state,
      timestamp: String(Math.floor(at / 1000)),
      recipient_id: '15551234567',
      ...(state === 'failed' && { errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'not on WhatsApp' } }] })
    }]
  })
  const post = async (app: FastifyInstance, raw: string) => await app.inject({
    method: 'POST', url: '/webhooks/whatsapp', payload: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmacHex(raw, 'mock-whatsapp-app-secret')}` }
  })
  const now = Date.now()
  t.equal((await post(app, status('failed', now - 10_000))).statusCode, 200)
  const health = (await alice('GET', '/v1/contacts/Ivan')).json().health.whatsapp
  t.match(health, { reachable: false, reason: 'not_on_whatsapp', code: 131026, count: 1 })
  t.equal(health.at, new Date(Math.floor((now - 10_000) / 1000) * 1000).toISOString(), 'at the time WhatsApp stamped')
  await post(app, status('delivered', now))
  await eventually(async () => (await alice('GET', '/v1/contacts/Ivan')).json().health.whatsapp.reachable === true, 'the delivered receipt to clear it')
  t.pass('cleared')
})

t.test('a Viber unsubscribed callback marks the user; a subscription clears it', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', viber: 'viber-user-2' }])
  const post = async (raw: string) => await app.inject({
    method: 'POST', url: '/webhooks/viber', payload: raw, headers: { 'content-type': 'application/json', 'x-viber-content-signature': hmacHex(raw, 'mock-viber-token') }
  })
  const at = Date.now() - 5000
  await post(`{"event":"unsubscribed","timestamp":${at},"chat_hostname":"SN-CHAT-01_","user_id":"viber-user-2","message_token":4912661846655238145}`)
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health.viber,
    { reachable: false, reason: 'unsubscribed', code: 'unsubscribed', at: new Date(at).toISOString(), count: 1 })
  await post(`{"event":"subscribed","timestamp":${at + 1000},"chat_hostname":"SN-CHAT-01_","user":{"id":"viber-user-2","name":"Lera"},"message_token":4912661846655238146}`)
  t.same((await alice('GET', '/v1/contacts/Lera')).json().health.viber, { reachable: true })
})

t.test('skip_unreachable on an edit: kept when not given, and a dispatch whose every delivery is skipped finishes at once', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789' }, { name: 'Ivan', telegram: '987654321' }])
  await app.addressFacts.markUnreachable('telegram', '123456789', { code: 403, reason: 'blocked' }, Date.now())
  const later = new Date(Date.now() + 3600_000).toISOString()
  const scheduled = await dispatch(alice, { text: 'Later', contacts: ['Lera', 'Ivan'], send_at: later })
  t.match(scheduled, { deliveries: 2, suppressed: 0 })
  const edited = (await alice('PATCH', `/v1/dispatches/${scheduled.id}`, { skip_unreachable: true }, { expectStatus: 200 })).json()
  t.match(edited, { deliveries: 2, suppressed: 1 }, 'the edit skips the dead address')
  const again = (await alice('PATCH', `/v1/dispatches/${scheduled.id}`, { text: 'Later, edited' }, { expectStatus: 200 })).json()
  t.match(again, { deliveries: 2, suppressed: 1 }, 'an edit that does not say keeps it')
  const legs = await deliveriesOf(alice, scheduled.id)
  t.same(legs.map((d) => `${d.contact ?? ''} ${d.state} ${d.reason ?? '-'}`).sort(), ['Ivan scheduled -', 'Lera suppressed address_unreachable'])
  const off = (await alice('PATCH', `/v1/dispatches/${scheduled.id}`, { skip_unreachable: false }, { expectStatus: 200 })).json()
  t.match(off, { deliveries: 2, suppressed: 0 }, 'and false turns it off')
  const view = (await alice('GET', `/v1/dispatches/${scheduled.id}`)).json()
  t.notOk('skip_unreachable' in view)

  const all = await dispatch(alice, { text: 'Only Lera', contacts: ['Lera'], skip_unreachable: true })
  t.match(all, { deliveries: 1, suppressed: 1 })
  t.match((await alice('GET', `/v1/dispatches/${all.id}`)).json(), { status: 'finished', counts: { suppressed: 1 } }, 'finished as it is accepted')
  const [only] = await deliveriesOf(alice, all.id)
  t.match(only, { state: 'suppressed', reason: 'address_unreachable' })
  t.equal((await mock.received({ messenger: 'telegram' })).count, 0, 'nothing was sent')
})

t.test('a duplicate says so: reason duplicate, with duplicate_of', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Ivan', telegram: '987654321' }])
  const one = await dispatch(alice, { text: 'Same', contacts: ['Ivan'] })
  const two = await dispatch(alice, { text: 'Same', contacts: ['Ivan'] })
  t.match(two, { suppressed: 1 })
  const [repeat] = await deliveriesOf(alice, two.id)
  t.match(repeat, { state: 'suppressed', reason: 'duplicate', duplicate_of: `${one.id}.00000` })
})

t.test('SKIP_UNREACHABLE_DEFAULT=true: a dispatch that does not say skips dead addresses; one that says false sends', async (t) => {
  const { app } = await build(t, { env: { SKIP_UNREACHABLE_DEFAULT: 'true' } })
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789' }])
  await app.addressFacts.markUnreachable('telegram', '123456789', { code: 403, reason: 'blocked' }, Date.now())
  t.match(await dispatch(alice, { text: 'A', contacts: ['Lera'] }), { suppressed: 1 })
  const sent = await dispatch(alice, { text: 'B', contacts: ['Lera'], skip_unreachable: false })
  t.match(sent, { suppressed: 0 })
  t.match(await settled(alice, sent.id), { counts: { sent: 1 } })
})

t.test('a dispatch whose every delivery is suppressed tells its status webhook it is finished', async (t) => {
  const { app } = await build(t)
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789' }])
  await app.addressFacts.markUnreachable('telegram', '123456789', { code: 403, reason: 'blocked' }, Date.now())
  const receiver = await startReceiver(t)
  await alice('POST', '/v1/webhooks', { url: `${receiver.url}/status`, events: ['dispatch.finished'] }, { expectStatus: 201 })
  const skipped = await dispatch(alice, { text: 'Nobody alive', contacts: ['Lera'], skip_unreachable: true })
  t.match(skipped, { deliveries: 1, suppressed: 1 })
  const [heard] = await receiver.until((requests) => requests.length >= 1, 10_000, 'the dispatch.finished webhook')
  t.match(JSON.parse(heard!.body), { type: 'dispatch.finished', data: { id: skipped.id, status: 'finished', counts: { suppressed: 1 } } })
})
