/** Users and keys for the tests that turn authentication on (`AUTH_ENV`), made the way a client makes them. */
import type { FastifyInstance } from 'fastify'
import { ADMIN_KEY } from './app.js'

export interface TestUser {
  name: string
  /** The first key, as issued (shown once). */
  key: string
  keyId: string
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
export const basic = (user: string, key: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}` })
export const ADMIN = bearer(ADMIN_KEY)

/** Creates the user through POST /v1/admin/users; returns its first key. */
export async function createUser (app: FastifyInstance, name: string): Promise<TestUser> {
  const res = await app.inject({ method: 'POST', url: '/v1/admin/users', headers: ADMIN, payload: { name } })
  if (res.statusCode !== 201) throw new Error(`create user ${name}: ${res.statusCode} ${res.body}`)
  const { key } = res.json() as { key: { id: string, key: string } }
  return { name, key: key.key, keyId: key.id }
}

/** Another key of the user, through POST /v1/keys with one of its keys. */
export async function issueKey (app: FastifyInstance, key: string, label?: string): Promise<{ id: string, key: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/keys', headers: bearer(key), ...(label !== undefined && { payload: { label } }) })
  if (res.statusCode !== 201) throw new Error(`issue key: ${res.statusCode} ${res.body}`)
  return res.json()
}
