/**
 * A second API reference: the bare route of bare-route.ts doing one Redis
 * round trip (an HGET through a client set up as the service's records client:
 * auto-pipelined) before it answers its constant. It is not the issue's
 * baseline; it shows how much of the bare route's throughput any route that
 * reads or writes Redis once can keep on this machine, which bounds what our
 * routes (one to four round trips each) can reach.
 */
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { loadConfig } from '../src/config.js'
import { serverOptions } from '../src/server-options.js'
import { withProcessLog } from '../src/process-log.js'

const config = loadConfig(process.env)
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, connectionName: 'bench-bare-redis' })
const app = Fastify(withProcessLog(serverOptions(config)))
const key = `${config.redis.prefix}:bare`
app.get('/bare', async () => {
  await redis.hget(key, 'field')
  return { success: true }
})

process.once('SIGTERM', () => { void app.close().then(() => { redis.disconnect(); process.exit(0) }) })
await app.listen({ host: config.host, port: config.port })
