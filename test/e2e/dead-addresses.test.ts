/**
 * Dead addresses, end to end: the service listening on a real port, the mock
 * playing the platforms' rules (MOCK_PROFILE=realistic) and posting WhatsApp
 * receipts back, signed, over HTTP.
 *
 * A person who never started the bot (403 can't initiate), one who blocked
 * it (403 blocked) and a WhatsApp number that turns out undeliverable (a
 * 131026 status webhook after acceptance) are marked dead by one dispatch and
 * shown in their contacts' health; a later dispatch with skip_unreachable
 * does not send to them (suppressed, address_unreachable, nothing reaches the
 * mock), one without it tries them again; the person who starts the bot
 * afterwards is reached, which clears the mark.
 */
import t from 'tap'
import { addContacts, client, dispatch, listAll, settled, type ApiDelivery, type Client } from '../helpers/api.js'
import { build, eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { freePort } from '../helpers/processes.js'

const health = async (alice: Client, name: string) => (await alice('GET', `/v1/contacts/${name}`)).json().health

t.test('marked by a dispatch, shown, skipped when asked, tried again when not, cleared once the person starts the bot', async (t) => {
  const port = await freePort()
  const mock = await startMock(t, { profile: 'realistic', receiptsUrl: `http://127.0.0.1:${port}` })
  const { app } = await build(t, { mock })
  await app.listen({ host: '127.0.0.1', port })
  const alice = client(`http://127.0.0.1:${port}`, { user: 'alice' })

  // Started the bot: reachable. Never started it: 403. Started, then blocked it: 403 blocked (the mock's reject knob).
  await mock.control('/_mock/telegram/start', { chat_id: 1001 })
  await mock.control('/_mock/whatsapp/inbound', { from: '+15550000001', text: 'hi' })
  await mock.control('/_mock/whatsapp/inbound', { from: '+15550000002', text: 'hi' })
  await eventually(async () => (await app.addressFacts.whatsappWindow('+15550000002')) === 'open', 'the inbound webhooks to arrive')
  await addContacts(alice, [
    { name: 'Started', telegram: '1001', whatsapp: '+15550000001' },
    { name: 'Never', telegram: '1002' },
    { name: 'Undeliverable', whatsapp: '+15550000002' }
  ])

  // First dispatch: Never's Telegram answers 403; WhatsApp takes both texts, and reports the second number undeliverable.
  await mock.behave('whatsapp', { receipts: { failRate: 1, failCode: 131026 } })
  const first = await dispatch(alice, { text: 'First', contacts: ['Started', 'Never'], messengers: ['telegram'] })
  await settled(alice, first.id)
  const wa = await dispatch(alice, { text: 'First on WhatsApp', contacts: ['Undeliverable'] })
  await settled(alice, wa.id)
  await mock.behave('whatsapp', { receipts: { failRate: 0 } })
  t.match(await health(alice, 'Never'), { telegram: { reachable: false, reason: 'not_started', code: 403, count: 1 } }, 'the person who never started the bot')
  const undeliverable = await eventually(async () => {
    const h = await health(alice, 'Undeliverable')
    return h.whatsapp.reachable === false && h
  }, 'the 131026 status webhook to mark the number')
  t.match(undeliverable.whatsapp, { reason: 'not_on_whatsapp', code: 131026, count: 1 }, 'a failure reported after acceptance, by receipt')
  t.same(await health(alice, 'Started'), { telegram: { reachable: true }, whatsapp: { reachable: true } })

  // Started blocks the bot: the next send to it marks it too.
  await mock.behave('telegram', { reject: true })
  const second = await dispatch(alice, { text: 'Second', contacts: ['Started'], messengers: ['telegram'] })
  await settled(alice, second.id)
  await mock.behave('telegram', { reject: false })
  t.match(await health(alice, 'Started'), { telegram: { reachable: false, reason: 'blocked', code: 403, count: 1 }, whatsapp: { reachable: true } })

  // With skip_unreachable: the dead addresses are not sent to, the live one is.
  const sentBefore = (await mock.received()).count
  const skipping = await dispatch(alice, { text: 'Third', contacts: ['Started', 'Never', 'Undeliverable'], skip_unreachable: true })
  t.match(skipping, { deliveries: 4, suppressed: 3 })
  const done = await settled(alice, skipping.id)
  t.match(done, { status: 'finished', counts: { suppressed: 3, sent: 1, failed: 0 } })
  const legs = await listAll<ApiDelivery>(alice, `/v1/deliveries?dispatch=${skipping.id}`, 'deliveries', 100)
  t.same(legs.map((d) => `${d.contact ?? ''} ${d.messenger} ${d.state} ${d.reason ?? '-'}`).sort(), [
    'Never telegram suppressed address_unreachable',
    'Started telegram suppressed address_unreachable',
    'Started whatsapp sent -',
    'Undeliverable whatsapp suppressed address_unreachable'
  ])
  t.equal((await mock.received()).count, sentBefore + 1, 'only the live address reached the mock')
  const failed = await listAll<ApiDelivery>(alice, '/v1/deliveries?state=failed', 'deliveries', 100)
  t.notOk(failed.some((d) => d.dispatch_id === skipping.id), 'nothing of it in the failed lookup')

  // Without it: tried again (and Never, who has now started the bot, is reached: the mark goes).
  await mock.control('/_mock/telegram/start', { chat_id: 1002 })
  const again = await dispatch(alice, { text: 'Fourth', contacts: ['Never'] })
  t.match(again, { deliveries: 1, suppressed: 0 }, 'off by default: sent to the dead address again')
  t.match(await settled(alice, again.id), { counts: { sent: 1 } })
  t.same(await health(alice, 'Never'), { telegram: { reachable: true } }, 'the accepted send cleared the mark')
  await mock.behave('telegram', { reject: true })
  const stillDead = await dispatch(alice, { text: 'Fifth', contacts: ['Started'], messengers: ['telegram'] })
  t.match(await settled(alice, stillDead.id), { counts: { failed: 1 } }, 'the one that still blocks the bot fails again')
  t.match(await health(alice, 'Started'), { telegram: { reachable: false, reason: 'blocked', count: 2 } }, 'and is counted again')
})
