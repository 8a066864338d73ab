/**
 * The service process: reads configuration, builds the app, listens, and on
 * SIGINT/SIGTERM stops taking requests, lets senders finish what they hold,
 * closes every connection and exits.
 */
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import app from './app.js'
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js'
import { serverOptions } from './server-options.js'
import { withProcessLog } from './process-log.js'

export async function start (config: Config) {
  const fastify = Fastify(withProcessLog(serverOptions(config)))
  await fastify.register(app, { config })

  closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
    if (err !== undefined) fastify.log.error({ err }, 'shutting down after an error')
    else fastify.log.info({ signal }, 'shutting down')
    await fastify.close()
  })

  await fastify.listen({ host: config.host, port: config.port })
  return fastify
}

try {
  loadDotEnv()
  await start(loadConfig())
} catch (err) {
  // Bad configuration is the operator's to fix: say what, without a stack trace.
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
}
