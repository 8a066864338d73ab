/**
 * A send too big for the API's command timeout: its one script runs on a
 * connection of its own (ten times the timeout), so it is answered 202 and
 * written whole, not refused with a 503 for a script Redis finishes anyway.
 * On the run's one Redis only: the test cluster's node timeout is 1 s (so
 * that its failover tests are quick), and a master busy for seconds with
 * this script is taken for dead and failed over, which loses the script's
 * writes (measured: the cluster's epoch moves on, the dispatch is gone); see
 * docs/operations.md, "Redis Cluster and Sentinel". The timeout is the same
 * on every deployment.
 */
import t from 'tap'
import { redisKeys } from '../../src/redis-keys.js'
import { client } from '../helpers/api.js'
import { build } from '../helpers/app.js'
t.test('a send of 60,000 deliveries outlasts the request command timeout and is still answered 202 (its script has a connection of its own)', async (t) => {
  // 500 ms for the API's commands; the script writing 60,000 deliveries takes longer than that (about 0.7 s on 2 idle cores), within ten times it.
  const { app, redis, prefix } = await build(t, { env: { REDIS_COMMAND_TIMEOUT_MS: '500' } })
  const api = client(app, { user: 'big' })
  const rows = Array.from({ length: 20_000 }, (_, i) => `c${i},${100_000 + i},+1555${2_000_000 + i},viber-${i}`)
  const imported = await api('POST', '/v1/contacts/import', `name,telegram,whatsapp,viber\n${rows.join('\n')}\n`, { headers: { 'content-type': 'text/csv' } })
  t.equal(imported.statusCode, 200, 'the book: 20,000 contacts on three messengers')
  const started = Date.now()
  const accepted = await api('POST', '/v1/dispatches', { text: 'to everyone, next year', all_contacts: true, send_at: new Date(Date.now() + 365 * 86_400_000).toISOString() })
  t.comment(`answered in ${Date.now() - started} ms`)
  t.equal(accepted.statusCode, 202, 'accepted, not a 503')
  const { id, deliveries } = accepted.json<{ id: string, deliveries: number }>()
  t.equal(deliveries, 60_000)
  t.equal(await redis.hget(redisKeys(prefix).dispatch(id), 'n:scheduled'), '60000', 'and all of it written')
})
