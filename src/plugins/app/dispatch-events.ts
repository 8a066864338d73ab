/**
 * The plumbing of the dispatch event streams (GET /v1/dispatches/{id}/events):
 * `@fastify/sse` (the Fastify organisation's plugin: Last-Event-ID, heartbeats,
 * backpressure, and it leaves the answer a normal one until the first event,
 * so a 404 stays our JSON error), the shared progress reader
 * (deliveries/dispatch-progress.ts), and the streams open in this process.
 *
 * An open stream is a request in flight, which `app.close()` would wait for
 * forever: the preClose hook ends every stream first (clients then resume
 * elsewhere with Last-Event-ID). Decorates `fastify.dispatchEvents`.
 */
import fastifySseModule, { type fastifySSE } from '@fastify/sse'
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { createDispatchProgress, type DispatchProgress } from '../../deliveries/dispatch-progress.js'

declare module 'fastify' {
  interface FastifyInstance {
    dispatchEvents: DispatchEvents
  }
}

// CommonJS: under ESM the default import is module.exports, the plugin wrapped by fastify-plugin (so its route hook
// reaches every route); its `default` and `fastifySSE` fields are the bare function, which would stay encapsulated.
const fastifySse = fastifySseModule as unknown as typeof fastifySSE

export interface DispatchEvents {
  progress: DispatchProgress
  /** Keeps `end` to call if the app closes while the stream is open; returns the function that forgets it. */
  track (end: () => void): () => void
  /** Streams open now in this process. */
  readonly open: number
}

/** How often the counts of watched dispatches are read: at most this many events a second per stream, and this many HMGETs per watched dispatch. */
export const PROGRESS_INTERVAL_MS = 250
/** A comment line this often keeps proxies from closing a quiet stream and finds clients that went away. */
const HEARTBEAT_MS = 15_000

export default fp(async function dispatchEvents (fastify) {
  await fastify.register(fastifySse, { heartbeatInterval: HEARTBEAT_MS })
  const progress = createDispatchProgress(fastify.redis, fastify.redisKeys, {
    intervalMs: PROGRESS_INTERVAL_MS,
    onError: (err) => { fastify.log.warn({ err }, 'reading the progress of watched dispatches failed; trying again at the next tick') }
  })
  const open = new Set<() => void>()

  fastify.metrics.registry.registerMetric(new Gauge({
    registers: [],
    name: 'fanout_dispatch_event_streams',
    help: 'Dispatch event streams open in this process, and the dispatches they watch',
    labelNames: ['what'] as const,
    collect () {
      const stats = progress.stats()
      this.set({ what: 'streams' }, open.size)
      this.set({ what: 'dispatches' }, stats.dispatches)
    }
  }))

  fastify.decorate('dispatchEvents', {
    progress,
    track (end) {
      open.add(end)
      return () => { open.delete(end) }
    },
    get open () { return open.size }
  } satisfies DispatchEvents)

  fastify.addHook('preClose', async () => {
    for (const end of [...open]) end()
  })
  fastify.addHook('onClose', async () => { progress.close() })
}, { name: 'dispatch-events', dependencies: ['redis', 'config', 'metrics'] })
