/** Prometheus metrics for the operator: the administrator key only (a scraper sends it as a bearer token). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { RequestErrors } from '../schemas/common.js'

const metrics: FastifyPluginAsyncTypebox = async function (fastify) {
  const { registry } = fastify.metrics
  fastify.get('/metrics', {
    onRequest: fastify.authenticateAdmin,
    schema: {
      tags: ['admin'],
      summary: 'Prometheus metrics of this process and of the whole service (administrator key)',
      description: 'Prometheus text format. `fanout_http_*`, `fanout_sends_total`, `fanout_send_duration_seconds`, `fanout_circuit_state` and the `fanout_process_*`/`fanout_nodejs_*` figures are this process\'s own: sum them over processes. `fanout_queue_jobs` and `fanout_deliveries` are read from Redis and are the same from every process.',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }), ...RequestErrors }
    }
  }, async (_request, reply) => {
    const text = await registry.metrics()
    return await reply.type(registry.contentType).send(text)
  })
}

export default metrics
