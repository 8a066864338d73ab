import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const dispatches: FastifyPluginAsyncTypebox = async function (_fastify) {
}

export default dispatches
