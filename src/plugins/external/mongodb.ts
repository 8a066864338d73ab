/** The MongoDB client (`fastify.mongo`), registered only when MONGODB_URL is set; closed with the app. */
import fastifyMongo from '@fastify/mongodb'
import fp from 'fastify-plugin'

/** Database used when the URL names none. */
export const DEFAULT_DATABASE = 'fanout'

export default fp(async function mongodb (fastify) {
  const mongo = fastify.config.mongodb
  if (mongo === undefined) return
  const named = new URL(mongo.url).pathname.replace(/^\//, '')
  await fastify.register(fastifyMongo, {
    url: mongo.url,
    ...(named === '' && { database: DEFAULT_DATABASE }),
    forceClose: true,
    serverSelectionTimeoutMS: 5000
  })
}, { name: 'mongodb', dependencies: ['config'] })
