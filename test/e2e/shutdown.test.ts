/**
 * Graceful shutdown: on SIGTERM the service stops, lets its senders finish
 * the sends they hold, and exits cleanly.
 */
import t from 'tap'
import { redisKeys } from '../../src/redis-keys.js'
import { deliveryId } from '../../src/model/delivery.js'
import { eventually } from '../helpers/app.js'
import { startMock } from '../helpers/mock.js'
import { runService } from '../helpers/processes.js'
import { freshPrefix, testRedis } from '../helpers/redis.js'

t.test('SIGTERM drains the sends in flight, then exits 0', async (t) => {
  const prefix = freshPrefix()
  const redis = testRedis(t, prefix)
  const keys = redisKeys(prefix)
  const mock = await startMock(t)
  await mock.behave('telegram', { latencyMs: [1500, 1500] })
  const service = await runService(t, prefix, mock.url)

  const call = async (method: string, body: unknown) => {
    const res = await fetch(`${service.url}/api/contacts`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return await res.json()
  }
  await call('POST', { user_name: 'u', contact: { name: 'A', messangers: { telegram: '1001' } } })
  await call('POST', { user_name: 'u', contact: { name: 'B', messangers: { telegram: '1002' } } })
  const sent = await call('PUT', { user_name: 'u', contacts: ['A', 'B'], message: 'in flight' }) as { dispatch_id: string }
  const ids = [deliveryId(sent.dispatch_id, 0), deliveryId(sent.dispatch_id, 1)]
  await eventually(async () => {
    const states = await Promise.all(ids.map((id) => redis.hget(keys.delivery(id), 'state')))
    return states.every((s) => s === 'sending')
  }, 'both deliveries to be in flight')

  service.child.kill('SIGTERM')
  t.equal(await service.exited, 0, 'exit code 0')
  t.same(await Promise.all(ids.map((id) => redis.hget(keys.delivery(id), 'state'))), ['delivered', 'delivered'],
    'the sends in flight finished and were recorded before the process left')
  t.match(service.output(), /"signal":"SIGTERM".*"msg":"shutting down"/)
})
