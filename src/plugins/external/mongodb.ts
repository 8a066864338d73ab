/** The MongoDB client (`fastify.mongo`), registered only when MONGODB_URL is set; closed with the app. */
import fastifyMongo from '@fastify/mongodb'
import fp from 'fastify-plugin'

export default fp(async function mongodb (fastify) {
  const mongo = fastify.config.mongodb
  if (mongo === undefined) return
  await fastify.register(fastifyMongo, {
    url: mongo.url,
    database: mongo.database,
    forceClose: true,
    serverSelectionTimeoutMS: 5000
  })
}, { name: 'mongodb', dependencies: ['config'] })
