/**
 * The API's same-work baselines: the three benchmarked routes as a minimal
 * implementation would write them, on a bare Fastify with the service's own
 * server options and the same kind of Redis client (auto-pipelined), and
 * nothing else: no auth hooks, no schema validation, no rate limit, no
 * metrics, no idempotency, no code of ours between the route and Redis.
 *   POST /v1/contacts     one write (HSET of the contact's JSON into the user's book)
 *   GET  /v1/contacts     one read (HGETALL of the book) and the same JSON shape
 *   POST /v1/dispatches   one script reading the named contacts and writing a
 *                         record per messenger id (30 for 10 contacts), plus
 *                         one BullMQ job for the dispatch
 * Ours against these shows what everything else costs, route by route.
 */
import { Queue } from 'bullmq'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../src/config.js'
import { withProcessLog } from '../src/process-log.js'
import { serverOptions } from '../src/server-options.js'

const config = loadConfig(process.env)
const prefix = config.redis.prefix
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, connectionName: 'bench-same-work' })
const queue = new Queue('{bench-same-work}', { connection: new Redis(config.redis.url, { maxRetriesPerRequest: null }), prefix })
const app = Fastify(withProcessLog(serverOptions(config)))

const book = (user: string) => `${prefix}:same-work:{${user}}:book`

// KEYS[1] the book; ARGV: the dispatch id, the text, the names. One record per messenger id, as ours writes.
const CREATE = `
local made = 0
for i = 3, #ARGV do
  local json = redis.call('HGET', KEYS[1], ARGV[i])
  if json then
    local contact = cjson.decode(json)
    for _, messenger in ipairs({'telegram', 'whatsapp', 'viber'}) do
      local address = contact[messenger]
      if address then
        made = made + 1
        redis.call('HSET', KEYS[1] .. ':d:' .. ARGV[1] .. ':' .. made, 'contact', ARGV[i], 'messenger', messenger, 'address', address, 'text', ARGV[2], 'state', 'queued')
      end
    end
  end
end
return made`
redis.defineCommand('createDispatch', { numberOfKeys: 1, lua: CREATE })

interface Contact { name: string, telegram?: string, whatsapp?: string, viber?: string }
const userOf = (headers: Record<string, unknown>) => String(headers['x-user-name'] ?? 'anonymous')

app.post<{ Body: Contact }>('/v1/contacts', async (request, reply) => {
  await redis.hset(book(userOf(request.headers)), request.body.name, JSON.stringify(request.body))
  return await reply.status(201).send(request.body)
})

app.get('/v1/contacts', async (request) => {
  const all = await redis.hgetall(book(userOf(request.headers)))
  return { contacts: Object.values(all).map((json) => JSON.parse(json) as Contact) }
})

app.post<{ Body: { contacts: string[], text: string } }>('/v1/dispatches', async (request, reply) => {
  const id = randomUUID()
  const made = await (redis as unknown as { createDispatch: (...args: string[]) => Promise<number> })
    .createDispatch(book(userOf(request.headers)), id, request.body.text, ...request.body.contacts)
  await queue.add('dispatch', { id }, { jobId: id, removeOnComplete: true })
  return await reply.status(202).send({ id, deliveries: made })
})

app.get('/health', async () => ({ ok: true }))

process.once('SIGTERM', () => {
  void app.close().then(async () => {
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
    redis.disconnect()
    process.exit(0)
  })
})
await app.listen({ host: config.host, port: config.port })
