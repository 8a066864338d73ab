/**
 * The fanout command's API types (src/cli/api-types.ts, committed) are what
 * the current app's OpenAPI document generates: a route or schema change
 * that the command has not caught up with fails here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { API_TYPES_FILE, apiTypesSource } from '../../scripts/api-types.js'
import { build } from '../helpers/app.js'
import { repositoryRoot } from '../helpers/processes.js'

t.test('src/cli/api-types.ts is what the app\'s /docs/json generates now', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const generated = await apiTypesSource(res.json())
  const committed = readFileSync(join(repositoryRoot, API_TYPES_FILE), 'utf8')
  // One assertion with a clear way out, rather than a diff of thousands of lines.
  t.ok(generated === committed, `${API_TYPES_FILE} is up to date with the routes' schemas (if not: npm run api-types, and commit it)`)
  t.match(committed, /"\/v1\/dispatches\/\{id\}\/events"/, 'it has the event stream')
  t.notMatch(committed, /"\/api\/contacts"/, 'and only the /v1 API')
})
