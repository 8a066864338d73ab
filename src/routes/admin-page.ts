/**
 * The bundled web admin page: `GET /admin` (the HTML) and its script and
 * style sheet, plain files in `src/admin-page/` read once at start-up (from
 * the source tree, in the built layout too: see source-path.ts).
 *
 * A browser signs in with HTTP Basic: a user as `user_name:API key`, the
 * administrator as `admin:<ADMIN_API_KEY>`. The page is at `/admin`, not
 * `/admin/`, so the browser keeps the credentials for `/` and sends them with
 * the page's own calls to `/v1/...` as well. With AUTH=off and no credentials
 * the page asks for a user name and sends it as `X-User-Name`.
 *
 * The HTML tells the script who is signed in (`data-role`, `data-user` on
 * <body>); the script renders every piece of user data as text, and the
 * Content-Security-Policy allows no inline script or style at all.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { RequestErrors } from '../schemas/common.js'
import { sourcePath } from '../source-path.js'

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Who the page is for: the administrator, a user, or (AUTH=off, no credentials) someone who will name a user. */
function roleOf (request: FastifyRequest): { role: 'admin' | 'user' | 'anonymous', user: string } {
  if (request.isAdmin) return { role: 'admin', user: '' }
  return request.userName === '' ? { role: 'anonymous', user: '' } : { role: 'user', user: request.userName }
}

const adminPage: FastifyPluginAsyncTypebox = async function (fastify) {
  const dir = sourcePath(import.meta.url, '..', 'admin-page')
  const read = (file: string) => readFileSync(join(dir, file), 'utf8')
  const html = read('index.html')
  const assets = {
    'app.js': { body: read('app.js'), type: 'text/javascript; charset=utf-8' },
    'app.css': { body: read('app.css'), type: 'text/css; charset=utf-8' }
  }

  // Every answer of these routes, 401s included.
  fastify.addHook('onSend', async (_request, reply) => { reply.headers(PAGE_HEADERS) })

  fastify.get('/admin', {
    onRequest: fastify.authenticateUserOrAdmin,
    schema: {
      tags: ['admin page'],
      summary: 'The web admin page, for a browser: sign in with HTTP Basic (user_name:API key, or admin:<ADMIN_API_KEY>)',
      description: 'A user sees their contact book, sends texts and works their deliveries (the failed ones first); ' +
        'the administrator manages users and their keys. With AUTH=off and no credentials the page asks for a user name.',
      response: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } }, ...RequestErrors }
    }
  }, async (request, reply) => {
    const { role, user } = roleOf(request)
    return await reply.type('text/html; charset=utf-8')
      .send(html.replace('{{role}}', role).replace('{{user}}', () => escapeHtml(user)))
  })

  for (const [file, asset] of Object.entries(assets)) {
    fastify.get(`/admin/${file}`, {
      onRequest: fastify.authenticateUserOrAdmin,
      schema: { hide: true }
    }, async (_request, reply) => await reply.type(asset.type).send(asset.body))
  }
}

export default adminPage
