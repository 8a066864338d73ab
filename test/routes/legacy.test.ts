/**
 * The legacy-compatible API, through the real app (real Redis, real HTTP to
 * the mock messengers): the origin document's requests and answers, and what
 * bad input gets.
 */
import t from 'tap'
import { build, eventually } from '../helpers/app.js'
import { keysMatching } from '../helpers/redis.js'
import { redisKeys } from '../../src/redis-keys.js'
import { DISPATCH_ID_PATTERN } from '../../src/model/delivery.js'

const ARTEM = { name: 'Artem', messangers: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' } }

t.test('a contact is created, listed, replaced and deleted as in the origin examples', async (t) => {
  const { app } = await build(t)

  // The origin example, extra top-level "name" included.
  let res = await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'test', contact: ARTEM, name: 'Artem' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { success: true })

  res = await app.inject({ method: 'GET', url: '/api/contacts', payload: { user_name: 'test' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { contacts: { Artem: { telegram: 'ArtemZaitsev', whatsApp: '+799200828615', viber: '' } } })

  // Adding a contact that exists replaces its ids.
  res = await app.inject({
    method: 'POST',
    url: '/api/contacts',
    payload: { user_name: 'test', contact: { name: 'Artem', messangers: { telegram: '', whatsApp: '+15551234567', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' } } }
  })
  t.same(res.json(), { success: true })
  res = await app.inject({ method: 'GET', url: '/api/contacts?user_name=test' })
  t.same(res.json(), { contacts: { Artem: { telegram: '', whatsApp: '+15551234567', viber: 'jc9HsWTZ2Yf2NkRZ8KcNug==' } } })

  res = await app.inject({ method: 'DELETE', url: '/api/contacts', payload: { user_name: 'test', contact: 'Artem' } })
  t.same(res.json(), { success: true })
  res = await app.inject({ method: 'DELETE', url: '/api/contacts', payload: { user_name: 'test', contact: 'Artem' } })
  t.same(res.json(), { success: false }, 'deleting a contact that is not there says so')
  res = await app.inject({ method: 'GET', url: '/api/contacts', payload: { user_name: 'test' } })
  t.same(res.json(), { contacts: {} })
})

t.test('contact books are per user', async (t) => {
  const { app } = await build(t)
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'alice', contact: ARTEM } })
  const res = await app.inject({ method: 'GET', url: '/api/contacts', payload: { user_name: 'bob' } })
  t.same(res.json(), { contacts: {} })
})

t.test('a send fans out to every id of every known contact and reports unknown names', async (t) => {
  const { app, mock } = await build(t)
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'test', contact: ARTEM } })
  await app.inject({
    method: 'POST',
    url: '/api/contacts',
    payload: { user_name: 'test', contact: { name: 'Lera', messangers: { telegram: '123456789', whatsApp: '', viber: 'lera-viber-id' } } }
  })
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'test', contact: { name: 'Empty', messangers: {} } } })

  // The origin example: a time in the past means now; "Vasya" is not in the book.
  const res = await app.inject({
    method: 'PUT',
    url: '/api/contacts',
    payload: { user_name: 'test', contact: ['Artem', 'Lera', 'Vasya', 'Empty', 'Artem'], message: 'Hello there', time: [2019, 11, 30, 14, 0, 6] }
  })
  t.equal(res.statusCode, 200)
  const answer = res.json()
  t.equal(answer.success, true)
  t.equal(answer.deliveries, 4, 'Artem: telegram + whatsapp; Lera: telegram + viber; a repeated name is sent once')
  t.same(answer.unknown, ['Vasya'])
  t.same(answer.without_ids, ['Empty'])
  t.equal(answer.scheduled, false)
  t.equal(answer.send_at, '2019-11-30T14:00:06.000Z')
  t.match(answer.dispatch_id, new RegExp(`^${DISPATCH_ID_PATTERN}$`))

  const accepted = await eventually(async () => {
    const got = await mock.received({ outcome: 'accepted' })
    return got.count >= 3 && got
  }, 'three accepted messages at the mock')
  t.same(accepted.messages.map((m) => `${m.messenger}:${m.recipient}:${m.text}`).sort(), [
    'telegram:123456789:Hello there',
    'telegram:@ArtemZaitsev:Hello there',
    'whatsapp:+799200828615:Hello there'
  ])
  t.ok(accepted.messages.every((m) => m.idempotencyKey?.startsWith(`${answer.dispatch_id}.`)), 'each send carries its delivery id')

  const failed = await eventually(async () => {
    const body = (await app.inject({ method: 'GET', url: '/api/get_failed_mess', payload: { user_name: 'test' } })).json()
    return body.data.length > 0 && body
  }, 'the Viber delivery in the failed lookup')
  t.equal(failed.total, 1)
  t.match(failed.data[0], {
    sender: 'test',
    message: 'Hello there',
    contact: 'Lera',
    url: `${mock.url}/viber/pa/send_message`,
    time: [2019, 11, 30, 14, 0, 6],
    messenger: 'viber',
    address: 'lera-viber-id',
    attempts: 1,
    error: 'viber 6: receiverNotSubscribed',
    dispatch_id: answer.dispatch_id
  })
  t.ok(Date.parse(failed.data[0].failed_at) > 0)
  t.equal((await mock.received({ messenger: 'viber' })).count, 1, 'a permanent Viber error is not retried')
})

t.test('`contacts` and `contact` both name the recipients; a single name is accepted', async (t) => {
  const { app } = await build(t)
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'u', contact: ARTEM } })
  for (const payload of [
    { user_name: 'u', contacts: ['Artem'], message: 'a' },
    { user_name: 'u', contact: 'Artem', message: 'b' }
  ]) {
    const res = await app.inject({ method: 'PUT', url: '/api/contacts', payload })
    t.equal(res.json().deliveries, 2, JSON.stringify(payload))
  }
})

t.test('a send to nobody known creates nothing and says why', async (t) => {
  const { app, redis, prefix } = await build(t)
  const res = await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'u', contact: ['Nobody'], message: 'hi' } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { success: false, deliveries: 0, unknown: ['Nobody'] })
  t.notOk(res.json().dispatch_id)
  t.same(await keysMatching(redis, redisKeys(prefix).dispatch('*')), [], 'no dispatch was written')
})

t.test('the failed lookup is newest first, per user, and honours limit', async (t) => {
  const { app } = await build(t)
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'u', contact: { name: 'V', messangers: { viber: 'v-1' } } } })
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'other', contact: { name: 'V', messangers: { viber: 'v-2' } } } })
  for (const message of ['first', 'second', 'third']) {
    await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'u', contact: ['V'], message } })
    await eventually(async () => {
      const body = (await app.inject({ method: 'GET', url: '/api/get_failed_mess?user_name=u' })).json()
      return body.data.some((d: { message: string }) => d.message === message)
    }, `the failure of "${message}"`)
  }
  await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'other', contact: ['V'], message: 'not yours' } })

  const all = (await app.inject({ method: 'GET', url: '/api/get_failed_mess', payload: { user_name: 'u' } })).json()
  t.same(all.data.map((d: { message: string }) => d.message), ['third', 'second', 'first'])
  const limited = (await app.inject({ method: 'GET', url: '/api/get_failed_mess?user_name=u&limit=2' })).json()
  t.same(limited.data.map((d: { message: string }) => d.message), ['third', 'second'])
  t.equal(limited.total, 3, 'total says how many there are beyond the limit')
})

t.test('bad input gets a 4xx JSON error naming the problem, and nothing is written', async (t) => {
  const { app, redis, prefix } = await build(t)
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'u', contact: ARTEM } })
  // Everything but BullMQ's own bookkeeping (the outbox sweeper's schedule, stalled checks), which moves on its own.
  const snapshot = async () => {
    const keys = (await keysMatching(redis, `${prefix}:*`)).filter((k) => !/:q:\{maintenance\}:|:stalled-check$|:marker$/.test(k)).sort()
    return { keys, contacts: await redis.hgetall(redisKeys(prefix).contacts('u')) }
  }
  const before = await snapshot()

  const cases: Array<{ name: string, method: 'POST' | 'PUT' | 'GET' | 'DELETE', body: string, status: number, code: string, field?: string, contentType?: string }> = [
    { name: 'not JSON', method: 'POST', body: '{"user_name": "u", "contact": ', status: 400, code: 'INVALID_JSON' },
    { name: 'JSON that is not an object', method: 'PUT', body: '[1, 2]', status: 400, code: 'INVALID_FIELD', field: 'body' },
    { name: 'empty JSON body', method: 'DELETE', body: '', status: 400, code: 'INVALID_FIELD', field: 'body' },
    { name: 'missing user_name', method: 'POST', body: JSON.stringify({ contact: ARTEM }), status: 400, code: 'INVALID_FIELD', field: 'user_name' },
    { name: 'user_name of the wrong type', method: 'POST', body: JSON.stringify({ user_name: 42, contact: ARTEM }), status: 400, code: 'INVALID_FIELD', field: 'user_name' },
    { name: 'user_name with a key separator', method: 'GET', body: JSON.stringify({ user_name: 'a:b' }), status: 400, code: 'INVALID_FIELD', field: 'user_name' },
    { name: 'missing contact name', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { messangers: {} } }), status: 400, code: 'INVALID_FIELD', field: 'contact.name' },
    { name: 'messenger id of the wrong type', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { name: 'X', messangers: { telegram: 123 } } }), status: 400, code: 'INVALID_FIELD', field: 'contact.messangers.telegram' },
    { name: 'misspelt messenger', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { name: 'X', messangers: { telegramm: 'abcdef' } } }), status: 400, code: 'INVALID_FIELD', field: 'contact.messangers' },
    { name: 'WhatsApp id that is not E.164', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { name: 'X', messangers: { whatsApp: '8-800-555' } } }), status: 400, code: 'INVALID_FIELD', field: 'contact.messangers.whatsApp' },
    { name: 'Telegram username too short', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { name: 'X', messangers: { telegram: 'abc' } } }), status: 400, code: 'INVALID_FIELD', field: 'contact.messangers.telegram' },
    { name: 'Viber id with spaces', method: 'POST', body: JSON.stringify({ user_name: 'u', contact: { name: 'X', messangers: { viber: 'a b' } } }), status: 400, code: 'INVALID_FIELD', field: 'contact.messangers.viber' },
    { name: 'send without recipients', method: 'PUT', body: JSON.stringify({ user_name: 'u', message: 'hi' }), status: 400, code: 'INVALID_FIELD', field: 'contacts' },
    { name: 'send without message', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'] }), status: 400, code: 'INVALID_FIELD', field: 'message' },
    { name: 'message of the wrong type', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 5 }), status: 400, code: 'INVALID_FIELD', field: 'message' },
    { name: 'empty message', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: '' }), status: 400, code: 'INVALID_FIELD', field: 'message' },
    { name: 'message longer than Telegram takes', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'x'.repeat(4097) }), status: 400, code: 'INVALID_FIELD', field: 'message' },
    { name: 'month 13', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: [2030, 13, 1, 0, 0, 0] }), status: 400, code: 'INVALID_FIELD', field: 'time[1]' },
    { name: 'February 30th', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: [2030, 2, 30, 0, 0, 0] }), status: 400, code: 'INVALID_FIELD', field: 'time[2]' },
    { name: 'hour 24', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: [2030, 1, 1, 24, 0, 0] }), status: 400, code: 'INVALID_FIELD', field: 'time[3]' },
    { name: 'time with too few parts', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: [2030, 1] }), status: 400, code: 'INVALID_FIELD', field: 'time' },
    { name: 'time with a fraction', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: [2030, 1, 1.5] }), status: 400, code: 'INVALID_FIELD', field: 'time[2]' },
    { name: 'time as a string', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: ['Artem'], message: 'hi', time: '2030-01-01' }), status: 400, code: 'INVALID_FIELD', field: 'time' },
    { name: 'recipients of the wrong type', method: 'PUT', body: JSON.stringify({ user_name: 'u', contact: [1, 2], message: 'hi' }), status: 400, code: 'INVALID_FIELD' },
    { name: 'GET without user_name', method: 'GET', body: '{}', status: 400, code: 'INVALID_FIELD', field: 'user_name' },
    { name: 'a content type that is not JSON', method: 'POST', body: 'user_name=u', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', contentType: 'application/x-www-form-urlencoded' }
  ]
  for (const c of cases) {
    const res = await app.inject({
      method: c.method,
      url: '/api/contacts',
      headers: { 'content-type': c.contentType ?? 'application/json' },
      body: c.body
    })
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    t.match(res.headers['content-type'], /application\/json/, `${c.name}: JSON`)
    const body = res.json()
    t.equal(body.success, false, `${c.name}: success false`)
    t.equal(body.error.code, c.code, `${c.name}: code`)
    t.type(body.error.message, 'string', `${c.name}: message`)
    if (c.field !== undefined) {
      t.equal(body.error.details?.[0]?.field, c.field, `${c.name}: names ${c.field} (${body.error.message})`)
      t.ok(body.error.message.includes(c.field), `${c.name}: the message names the field too`)
    }
  }
  t.same(await snapshot(), before, 'no bad request wrote anything')
})

t.test('a huge body gets 413, not a crash', async (t) => {
  const { app, config } = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: '/api/contacts',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_name: 'u', contact: ARTEM, padding: 'x'.repeat(config.bodyLimit) })
  })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error.code, 'BODY_TOO_LARGE')
})

t.test('unknown routes answer a JSON 404', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/nothing' })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { success: false, error: { code: 'NOT_FOUND' } })
})

t.test('time is read in the configured time zone', async (t) => {
  const { app } = await build(t, { env: { TIME_ZONE: 'Europe/Moscow' } })
  await app.inject({ method: 'POST', url: '/api/contacts', payload: { user_name: 'u', contact: ARTEM } })
  const res = await app.inject({ method: 'PUT', url: '/api/contacts', payload: { user_name: 'u', contact: ['Artem'], message: 'hi', time: [2019, 11, 30, 14, 0, 6] } })
  t.equal(res.json().send_at, '2019-11-30T11:00:06.000Z', '14:00:06 in Moscow (UTC+3)')
})
