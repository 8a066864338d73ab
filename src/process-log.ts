/**
 * Where a service process writes its log: stdout, asynchronously. Lines
 * logged while a write is under way go out together in the next one, so a
 * burst of requests or deliveries (a line each, at `info`) costs a few system
 * calls instead of one per line; on a VM a write to a pipe costs tens of
 * microseconds, more than the request's own work. Lines still buffered are
 * written synchronously when the process exits (normally, or through
 * close-with-grace's process.exit); a SIGKILL loses the few not yet written.
 *
 * Tests give the logger their own stream; the processes (server.ts and the
 * bench's bare route, so that both run the same way) use this one.
 */
import type { FastifyServerOptions } from 'fastify'
import pino from 'pino'

export function withProcessLog (options: FastifyServerOptions): FastifyServerOptions {
  if (typeof options.logger !== 'object' || options.logger === null) return options
  return { ...options, logger: { ...options.logger, stream: pino.destination({ dest: 1, sync: false }) } }
}
