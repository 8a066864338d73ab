/**
 * The API baseline: a bare Fastify server with one route answering a
 * constant, built with the service's own server options (logger, level,
 * timeouts) from the same configuration and the same log destination, so the
 * only difference from the service is the work its routes do.
 */
import Fastify from 'fastify'
import { loadConfig } from '../src/config.js'
import { serverOptions } from '../src/server-options.js'
import { withProcessLog } from '../src/process-log.js'

const config = loadConfig(process.env)
const app = Fastify(withProcessLog(serverOptions(config)))
app.get('/bare', async () => ({ success: true }))

process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
await app.listen({ host: config.host, port: config.port })
