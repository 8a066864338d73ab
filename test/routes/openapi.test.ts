/**
 * The OpenAPI document: valid OpenAPI 3 (checked by an independent
 * validator), every route in it, each tagged, summarised and with a response
 * schema for its success and its errors; Swagger UI at /docs.
 */
import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { build } from '../helpers/app.js'

type Operation = {
  tags?: string[]
  summary?: string
  responses?: Record<string, { content?: unknown }>
  parameters?: Array<{ in: string, name: string }>
  security?: Array<Record<string, string[]>>
}

const ROUTES = [
  'GET /health',
  'POST /api/contacts', 'DELETE /api/contacts', 'PUT /api/contacts', 'GET /api/contacts', 'GET /api/get_failed_mess',
  'POST /v1/contacts', 'GET /v1/contacts', 'GET /v1/contacts/{name}', 'PUT /v1/contacts/{name}', 'PATCH /v1/contacts/{name}', 'DELETE /v1/contacts/{name}',
  'POST /v1/contacts/import', 'GET /v1/contacts/export', 'POST /v1/contacts/{name}/health/{messenger}/reset',
  'POST /v1/contacts/{name}/invites',
  'POST /v1/dispatches', 'GET /v1/dispatches', 'GET /v1/dispatches/{id}', 'PATCH /v1/dispatches/{id}', 'DELETE /v1/dispatches/{id}', 'GET /v1/dispatches/{id}/events', 'POST /v1/dispatches/{id}/cancel', 'POST /v1/dispatches/{id}/redrive',
  'GET /v1/deliveries', 'DELETE /v1/deliveries', 'GET /v1/deliveries/{id}', 'POST /v1/deliveries/{id}/cancel', 'POST /v1/deliveries/{id}/redrive',
  'POST /v1/deliveries/lookup', 'POST /v1/deliveries/cancel',
  'GET /v1/settings', 'PATCH /v1/settings',
  'GET /v1/keys', 'POST /v1/keys', 'POST /v1/keys/{id}/rotate', 'DELETE /v1/keys/{id}',
  'GET /v1/webhooks', 'POST /v1/webhooks', 'GET /v1/webhooks/{id}', 'PATCH /v1/webhooks/{id}', 'DELETE /v1/webhooks/{id}',
  'POST /v1/webhooks/{id}/rotate', 'GET /v1/webhooks/{id}/attempts', 'POST /v1/webhooks/{id}/attempts/{attemptId}/retry', 'POST /v1/webhooks/{id}/test',
  'POST /v1/admin/users', 'GET /v1/admin/users', 'GET /v1/admin/users/{name}', 'POST /v1/admin/users/{name}/keys', 'DELETE /v1/admin/users/{name}/keys/{id}',
  'GET /metrics', 'GET /admin',
  'GET /webhooks/whatsapp', 'POST /webhooks/whatsapp', 'POST /webhooks/viber', 'POST /webhooks/telegram'
]

t.test('the OpenAPI document is valid and documents every route with tags and responses, errors included', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string, paths: Record<string, Record<string, Operation>>, components: { securitySchemes: object } }
  t.same(doc.components.securitySchemes, {
    apiKey: { type: 'http', scheme: 'bearer', description: 'A user\'s API key, or on /v1/admin and /metrics the ADMIN_API_KEY' },
    basic: { type: 'http', scheme: 'basic', description: 'user_name as the user name, the API key as the password; on /v1/admin and /metrics, `admin` and the ADMIN_API_KEY' }
  })

  const result = await new Validator().validate(doc)
  t.same(result, { valid: true }, 'valid OpenAPI 3 (@seriousme/openapi-schema-validator)')
  t.match(doc.openapi, /^3\./)

  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
  t.same([...documented].sort(), [...ROUTES].sort(), 'every route, and nothing else')

  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const name = `${method.toUpperCase()} ${path}`
      t.ok(op.tags !== undefined && op.tags.length > 0, `${name}: tagged`)
      t.ok(op.summary, `${name}: summarised`)
      const statuses = Object.keys(op.responses ?? {})
      t.ok(statuses.some((s) => s.startsWith('2')), `${name}: a success response`)
      t.ok(['400', '413', '415'].every((s) => statuses.includes(s)), `${name}: its errors for a body it cannot read are documented`)
      if (path.includes('{')) t.ok(statuses.includes('404'), `${name}: its 404 is documented`)
      if (path.startsWith('/api/')) t.same(op.tags, ['legacy'], `${name}: marked legacy`)
      if (path === '/health') {
        t.equal(op.security, undefined, `${name}: open`)
        continue
      }
      if (path.startsWith('/webhooks/')) {
        t.equal(op.security, undefined, `${name}: no API key (the platform signs it)`)
        if (method === 'post') t.ok(statuses.includes('401'), `${name}: its 401 for a bad signature is documented`)
        continue
      }
      t.ok(['401', '403', '429'].every((s) => statuses.includes(s)), `${name}: its 401, 403 and 429 are documented`)
      t.match(op.responses?.['403'], { description: /another site's page made/ }, `${name}: its 403 names the cross-site rule every route has`)
      t.same(op.security, [{ apiKey: [] }, { basic: [] }], `${name}: a key, as Bearer or Basic`)
      if (path.startsWith('/v1/admin/') || path === '/metrics') {
        t.match(op.responses?.['403'], { description: /administrator route/ }, `${name}: for the administrator`)
        continue
      }
      if (path.startsWith('/v1/')) t.ok(op.parameters?.some((p) => p.in === 'header' && p.name === 'x-user-name'), `${name}: the AUTH=off user header`)
    }
  }
  t.ok(doc.paths['/v1/dispatches']?.post?.responses?.['422'], 'the 422 of an impossible dispatch is documented')
  t.ok(doc.paths['/v1/contacts']?.post?.responses?.['409'], 'the 409 of a taken name is documented')
  t.match(doc.paths['/admin']?.get?.responses?.['200'], { content: { 'text/html': { schema: { type: 'string' } } } }, 'the admin page is documented as HTML')
  t.notOk(Object.keys(doc.paths).some((path) => path.startsWith('/admin/')), 'the page\'s script and style sheet are not')
  const events = doc.paths['/v1/dispatches/{id}/events']?.get
  t.match(events?.responses?.['200'], { content: { 'text/event-stream': { schema: { type: 'string' } } } }, 'the event stream is documented as text/event-stream')
  t.ok(events?.parameters?.some((p) => p.in === 'query' && p.name === 'user'), 'with its ?user= for an EventSource with AUTH=off')
  t.ok(events?.parameters?.some((p) => p.in === 'header' && p.name === 'last-event-id'), 'and its Last-Event-ID')
  t.ok(events?.responses?.['204'] && events.responses['406'], 'its 204 (finished already) and 406 (not an event stream) are documented')

  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
  t.match(ui.body, /swagger/i, 'Swagger UI is served at /docs')
})
