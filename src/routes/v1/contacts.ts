import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const contacts: FastifyPluginAsyncTypebox = async function (_fastify) {
}

export default contacts
