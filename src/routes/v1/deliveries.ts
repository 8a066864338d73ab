import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const deliveries: FastifyPluginAsyncTypebox = async function (_fastify) {
}

export default deliveries
