/**
 * Graceful shutdown: on SIGTERM the service stops, lets its senders finish
 * the sends they hold, and exits cleanly.
 */
import t from 'tap'
import { redisKeys } from '../../src/redis-keys.js'
import { deliveryId } from '../../src/model/delivery.js'
import { client, legacyAddContact, legacySend } from '../helpers/api.js'
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

  const api = client(service.url)
  await legacyAddContact(api, 'u', 'A', { telegram: '1001' })
  await legacyAddContact(api, 'u', 'B', { telegram: '1002' })
  const sent = await legacySend(api, 'u', ['A', 'B'], 'in flight')
  const ids = [deliveryId(sent.dispatch_id, 0), deliveryId(sent.dispatch_id, 1)]
  await eventually(async () => {
    const states = await Promise.all(ids.map((id) => redis.hget(keys.delivery(id), 'state')))
    return states.every((s) => s === 'sending')
  }, 'both deliveries to be in flight')

  service.child.kill('SIGTERM')
  t.equal(await service.exited, 0, 'exit code 0')
  t.same(await Promise.all(ids.map((id) => redis.hget(keys.delivery(id), 'state'))), ['sent', 'sent'],
    'the sends in flight finished and were recorded before the process left')
  t.match(service.output(), /"signal":"SIGTERM".*"msg":"shutting down"/)
})
