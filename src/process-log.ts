/**
 * Where a service process writes its log.
 *
 * To a terminal (`npm start` in a shell): readable lines, through
 * pino-pretty as a transport (in a worker thread, off the request path).
 *
 * Otherwise (a pipe, a file, a log collector): JSON lines on stdout,
 * buffered and written asynchronously, 4 KB at a time and at least every
 * LOG_FLUSH_MS, so a burst of requests or deliveries (a line each, at `info`)
 * costs one system call per dozen lines instead of one per line (on a VM a
 * write to a pipe, or the wake of the thread that does it, costs tens of
 * microseconds: more than a request's own work). Lines still buffered are
 * written synchronously when the process exits (normally, or through
 * close-with-grace's process.exit); a SIGKILL loses at most the last 4 KB.
 *
 * Tests give the logger their own stream; the processes (server.ts and the
 * bench's bare route, so that both run the same way) use this one.
 */
import type { FastifyServerOptions } from 'fastify'
import pino from 'pino'

/** A quiet process's lines still reach stdout within this long. */
const LOG_FLUSH_MS = 200

export function withProcessLog (options: FastifyServerOptions, terminal = process.stdout.isTTY): FastifyServerOptions {
  if (typeof options.logger !== 'object' || options.logger === null) return options
  if (terminal) {
    return {
      ...options,
      logger: { ...options.logger, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
    }
  }
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_MS })
  return { ...options, logger: { ...options.logger, stream } }
}
