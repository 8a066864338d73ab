/**
 * Who a request acts for. With AUTH=on (the default) every route but /health
 * and /docs needs credentials:
 *
 *   Authorization: Bearer <key>                        a user's API key
 *   Authorization: Basic base64(<user_name>:<key>)     the same key, with its user's name (as one origin system did)
 *   Authorization: Bearer <ADMIN_API_KEY>              the administrator, on /v1/admin and /metrics only
 *   Authorization: Basic base64(admin:<ADMIN_API_KEY>) the same, as a browser sends it (the admin page)
 *
 * Missing or invalid credentials are a 401 with `WWW-Authenticate`; the
 * message never says which part was wrong (unknown key, revoked key, another
 * user's name), so nothing can be learned by trying. With AUTH=off (a trial on
 * loopback only, see config.ts) nothing is checked here and the routes take
 * the user from the request, as before keys existed.
 *
 * A browser keeps Basic credentials and sends them with every request to the
 * service, including ones another site's page makes it send. Such requests
 * (`Sec-Fetch-Site: cross-site` or `same-site`) may not use Basic: a 403.
 * (The API takes only JSON bodies and sends no CORS headers, so another site
 * could not read an answer or send a JSON body anyway; this closes the rest.)
 *
 * Decorates `fastify.users` (the user store) and the onRequest hooks the
 * route plugins add: `authenticateUser`, `authenticateAdmin` and, for the
 * admin page, `authenticateUserOrAdmin`.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Compile } from 'typebox/compile'
import { checkAuthSettings } from '../../config.js'
import { forbidden, invalidField, unauthenticated } from '../../errors.js'
import { UserName } from '../../schemas/common.js'
import { createUserStore, sha256, type UserStore } from '../../users/user-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    users: UserStore
    /** onRequest hook of the user routes: sets `request.userName` and `request.apiKeyId` (AUTH=on), or nothing (AUTH=off). */
    authenticateUser: (request: FastifyRequest) => Promise<void>
    /** onRequest hook of the admin routes: only the administrator key passes, whatever AUTH says. */
    authenticateAdmin: (request: FastifyRequest) => Promise<void>
    /** onRequest hook of the admin page: the administrator key sets `request.isAdmin`, a user's key `request.userName`; AUTH=off lets anyone in. */
    authenticateUserOrAdmin: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    /** The user this request acts for; '' until known. */
    userName: string
    /** The id of the API key the request came with (the rate limit counts per key). */
    apiKeyId: string | undefined
    isAdmin: boolean
  }
}

const MISSING = 'credentials are required: send `Authorization: Bearer <API key>`, or HTTP Basic with user_name:API key'
const INVALID = 'the credentials are not valid (an unknown, revoked or mistyped key, or a key of another user)'

type Credentials = { scheme: 'bearer', key: string } | { scheme: 'basic', user: string, key: string }

/** The user name that goes with the administrator key in Basic credentials. */
const ADMIN_BASIC_USER = 'admin'

/** The credentials in the Authorization header; undefined when there is none; a 401 when it cannot be read. */
function credentialsOf (request: FastifyRequest): Credentials | undefined {
  const header = request.headers.authorization
  if (header === undefined || header === '') return undefined
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2)
  if (/^bearer$/i.test(scheme) && value !== '') return { scheme: 'bearer', key: value }
  if (/^basic$/i.test(scheme) && value !== '') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0) return { scheme: 'basic', user: decoded.slice(0, colon), key: decoded.slice(colon + 1) }
  }
  throw unauthenticated('the Authorization header must be `Bearer <API key>` or `Basic base64(user_name:API key)`')
}

/** The credentials, refused when they are a browser's saved Basic ones sent for another site's page. */
function givenCredentials (request: FastifyRequest): Credentials | undefined {
  const given = credentialsOf(request)
  const site = request.headers['sec-fetch-site']
  if (given?.scheme === 'basic' && (site === 'cross-site' || site === 'same-site')) {
    throw forbidden('a request made by another site\'s page may not use the browser\'s saved credentials')
  }
  return given
}

export default fp(async function auth (fastify) {
  const { config } = fastify
  checkAuthSettings(config)
  const users = createUserStore(fastify.redis, fastify.redisKeys)
  // Hashed once: the comparison is then of two fixed-length digests, in constant time.
  const adminDigest = config.auth.adminKey === undefined ? undefined : sha256(config.auth.adminKey)
  const isAdminKey = (key: string) => adminDigest !== undefined && timingSafeEqual(sha256(key), adminDigest)
  const isAdmin = (given: Credentials) => isAdminKey(given.key) && (given.scheme === 'bearer' || given.user === ADMIN_BASIC_USER)

  /** The user and key the credentials are valid for; undefined when they are not (Basic must name the key's owner). */
  async function ownerOf (given: Credentials): Promise<{ user: string, keyId: string } | undefined> {
    const owner = await users.verify(given.key)
    return owner === undefined || (given.scheme === 'basic' && given.user !== owner.user) ? undefined : owner
  }

  /** The request acts for the owner of the credentials' key; a 401 when they are not a valid user key. */
  async function actAsOwner (request: FastifyRequest, given: Credentials): Promise<void> {
    const owner = await ownerOf(given)
    if (owner === undefined) throw unauthenticated(INVALID)
    request.userName = owner.user
    request.apiKeyId = owner.keyId
  }

  fastify.decorate('users', users)
  fastify.decorateRequest('userName', '')
  fastify.decorateRequest('apiKeyId', undefined)
  fastify.decorateRequest('isAdmin', false)

  fastify.decorate('authenticateUser', async function (request: FastifyRequest) {
    if (!config.auth.enabled) return
    const given = givenCredentials(request)
    if (given === undefined) throw unauthenticated(MISSING)
    if (isAdmin(given)) {
      throw forbidden('the administrator key manages users (/v1/admin); act as a user with that user\'s key')
    }
    await actAsOwner(request, given)
  })

  fastify.decorate('authenticateAdmin', async function (request: FastifyRequest) {
    const given = givenCredentials(request)
    if (given === undefined) throw unauthenticated(MISSING)
    if (isAdmin(given)) {
      request.isAdmin = true
      return
    }
    if (adminDigest === undefined) throw unauthenticated('no administrator key is configured (ADMIN_API_KEY), so no one may manage users')
    if (await ownerOf(given) !== undefined) throw forbidden('this route needs the administrator key, not a user\'s')
    throw unauthenticated(INVALID)
  })

  fastify.decorate('authenticateUserOrAdmin', async function (request: FastifyRequest) {
    const given = givenCredentials(request)
    if (given === undefined) {
      if (config.auth.enabled) throw unauthenticated(MISSING)
      return
    }
    if (isAdmin(given)) request.isAdmin = true
    else await actAsOwner(request, given)
  })
}, { name: 'auth', dependencies: ['config', 'redis'] })

/**
 * A user named in the request itself (the legacy body's `user_name`, the
 * X-User-Name header) must be the authenticated one: a 403 naming the field
 * otherwise. With AUTH=off the named user is taken as given.
 */
export function actAs (request: FastifyRequest, named: string | undefined, field: string): string {
  if (request.userName === '') {
    if (named === undefined) return ''
    request.userName = named
    return named
  }
  if (named !== undefined && named !== request.userName) {
    throw forbidden('names another user than the one whose key the request carries', field)
  }
  return request.userName
}

// Compiled once: Value.Check builds its pattern's RegExp on every call, and this runs on every request.
const userNameCheck = Compile(UserName)

/** Whether `name` can be a user's name (it becomes part of Redis keys). */
export function isUserName (name: unknown): name is string {
  return typeof name === 'string' && userNameCheck.Check(name)
}

/** With AUTH=off, names the user a /v1 request acts for; with a key, if given, it must name the key's owner. */
export const USER_HEADER = 'x-user-name'

/**
 * The query parameter that stands for X-User-Name on the routes that declare
 * `config: { userFromQuery: true }` (the event stream): a browser's
 * EventSource cannot set headers. It means exactly what the header means
 * (with AUTH=off it names the user; with a key, if given, it must name the
 * key's owner), so it opens nothing the header does not.
 */
export const USER_QUERY = 'user'

/** The X-User-Name header (or, where the route allows it, `?user=`): required with AUTH=off, and when given with a key it must name the key's owner. */
export async function userFromHeader (request: FastifyRequest): Promise<void> {
  const header = request.headers[USER_HEADER]
  const fromQuery = (header === undefined || header === '') &&
    (request.routeOptions.config as { userFromQuery?: boolean } | undefined)?.userFromQuery === true
  const field = fromQuery ? `query.${USER_QUERY}` : USER_HEADER
  const given: unknown = fromQuery ? (request.query as Record<string, unknown> | undefined)?.[USER_QUERY] : header
  if (given === undefined || given === '') {
    if (request.userName === '') {
      throw invalidField(USER_HEADER, `header is required: the user the request acts for (AUTH is off)${fromQuery ? `; an EventSource, which cannot set it, may pass ?${USER_QUERY}= instead` : ''}`)
    }
    return
  }
  if (!isUserName(given)) throw invalidField(field, `${fromQuery ? '' : 'header '}must be 1-64 letters, digits, \`.\`, \`_\`, \`@\` or \`-\``)
  actAs(request, given, field)
}
