/**
 * The user's own settings (/v1/settings) through the real app, real Redis and
 * the real mock: `skip_unreachable` set by a user applies to their sends that
 * do not say (and to edits of dispatches that never said), not to another
 * user's; a send that says wins; null goes back to the deployment's default
 * (SKIP_UNREACHABLE_DEFAULT); bad bodies are refused naming the field.
 */
import t from 'tap'
import { addContacts, client, dispatch, settled } from '../helpers/api.js'
import { build } from '../helpers/app.js'

const NOW = { skip_unreachable: false, deployment_defaults: { skip_unreachable: false } }

t.test('a user who sets skip_unreachable: their sends that do not say skip dead addresses; others\' do not', async (t) => {
  const { app, mock } = await build(t)
  const alice = client(app, { user: 'alice' })
  const bob = client(app, { user: 'bob' })
  for (const api of [alice, bob]) await addContacts(api, [{ name: 'Lera', telegram: '123456789' }, { name: 'Ivan', telegram: '987654321' }])
  await app.addressFacts.markUnreachable('telegram', '123456789', { code: 403, reason: 'blocked' }, Date.now())

  t.same((await alice('GET', '/v1/settings')).json(), NOW, 'nothing set: the deployment\'s default, off')
  const set = await alice('PATCH', '/v1/settings', { skip_unreachable: true })
  t.equal(set.statusCode, 200)
  t.same(set.json(), { ...NOW, skip_unreachable: true }, 'the answer is the settings as they apply now')
  t.same((await alice('GET', '/v1/settings')).json(), { ...NOW, skip_unreachable: true }, 'and kept')
  t.same((await bob('GET', '/v1/settings')).json(), NOW, 'bob\'s are his own')

  const skipped = await dispatch(alice, { text: 'Hello', contacts: ['Lera', 'Ivan'] })
  t.match(skipped, { deliveries: 2, suppressed: 1 }, 'alice\'s send that does not say skips Lera\'s dead address')
  t.match(await settled(alice, skipped.id), { skip_unreachable: true, counts: { suppressed: 1, sent: 1 } }, 'the dispatch shows that it skipped')
  const said = await dispatch(alice, { text: 'Said otherwise', contacts: ['Lera'], skip_unreachable: false })
  t.match(said, { deliveries: 1, suppressed: 0 }, 'a send that says false is sent')
  await settled(alice, said.id)
  const bobs = await dispatch(bob, { text: 'Hello', contacts: ['Lera', 'Ivan'] })
  t.match(bobs, { deliveries: 2, suppressed: 0 }, 'bob\'s send goes to both')
  await settled(bob, bobs.id)
  t.equal((await mock.received({ messenger: 'telegram', recipient: '123456789' })).count, 2, 'the dead address got alice\'s "false" send and bob\'s, nothing more')

  const later = new Date(Date.now() + 3600_000).toISOString()
  const scheduled = await dispatch(bob, { text: 'Later', contacts: ['Lera'], send_at: later })
  t.match(scheduled, { suppressed: 0 })
  await bob('PATCH', '/v1/settings', { skip_unreachable: true }, { expectStatus: 200 })
  const edited = (await bob('PATCH', `/v1/dispatches/${scheduled.id}`, { text: 'Later, edited' }, { expectStatus: 200 })).json()
  t.match(edited, { deliveries: 1, suppressed: 0 }, 'an edit keeps what the dispatch was accepted with (it was off then)')

  const unset = await alice('PATCH', '/v1/settings', { skip_unreachable: null })
  t.same(unset.json(), NOW, 'null: back to the deployment\'s default')
  t.match(await dispatch(alice, { text: 'Again', contacts: ['Lera'] }), { suppressed: 0 }, 'and alice\'s sends try the dead address again')
  t.same((await alice('PATCH', '/v1/settings', {})).json(), NOW, 'an empty change changes nothing')
})

t.test('a user\'s false beats SKIP_UNREACHABLE_DEFAULT=true; bad bodies are refused naming the field', async (t) => {
  const { app } = await build(t, { env: { SKIP_UNREACHABLE_DEFAULT: 'true' } })
  const alice = client(app, { user: 'alice' })
  await addContacts(alice, [{ name: 'Lera', telegram: '123456789' }])
  await app.addressFacts.markUnreachable('telegram', '123456789', { code: 403, reason: 'blocked' }, Date.now())
  const defaults = { skip_unreachable: true }
  t.same((await alice('GET', '/v1/settings')).json(), { skip_unreachable: true, deployment_defaults: defaults })
  t.match(await dispatch(alice, { text: 'A', contacts: ['Lera'] }), { suppressed: 1 }, 'the deployment\'s default applies')
  t.same((await alice('PATCH', '/v1/settings', { skip_unreachable: false })).json(), { skip_unreachable: false, deployment_defaults: defaults })
  t.match(await dispatch(alice, { text: 'B', contacts: ['Lera'] }), { suppressed: 0 }, 'the user\'s own false applies')

  for (const [body, field] of [
    [{ skip_unreachable: 'yes' }, { field: 'skip_unreachable' }],
    [{ skip_unreachable: 1 }, { field: 'skip_unreachable' }],
    [{ skip_unrechable: true }, { field: 'body', message: /unknown field "skip_unrechable"/ }]
  ] as const) {
    const answer = await alice('PATCH', '/v1/settings', body)
    t.equal(answer.statusCode, 400, JSON.stringify(body))
    t.match(answer.json(), { error: { code: 'INVALID_FIELD', details: [field] } }, 'names the field')
  }
  const notJson = await alice('PATCH', '/v1/settings', '[true]', { headers: { 'content-type': 'application/json' } })
  t.equal(notJson.statusCode, 400, 'an array is not a change')
  t.same((await alice('GET', '/v1/settings')).json(), { skip_unreachable: false, deployment_defaults: defaults }, 'none of them changed anything')
})
