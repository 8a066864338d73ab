/**
 * How the schemas are checked, for every route and for whatever checks a
 * value against a route's schema on its own (each row of a contact import is
 * checked as one POST /v1/contacts body is):
 *
 *   - bodies strictly: a number where a string belongs is a 400, not quietly turned into "123";
 *   - query strings coerced to the declared types (they are text by nature).
 *
 * A failed check becomes the field problems every error answer lists.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FieldProblem } from '../errors.js'

// ajv-formats is CommonJS with `exports.default`; under ESM the function is the module itself.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

const options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const

/** The one Ajv for bodies: a row checked on its own meets the very same checks as a body. */
export const bodyAjv = addFormats(new Ajv({ ...options, coerceTypes: false }))
const queryAjv = addFormats(new Ajv({ ...options, coerceTypes: 'array' }))

/** Fastify's validatorCompiler: bodies by `bodyAjv`, every other part (query, params, headers) coerced. */
export function compileValidator ({ schema, httpPart }: { schema: object, httpPart?: string }): ValidateFunction {
  return (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema)
}

/** `/contact/messangers/telegram` + missing `x` -> `contact.messangers.telegram.x`; array items as `[i]`. */
function fieldOf (instancePath: string, missing: unknown): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (typeof missing === 'string') parts.push(missing)
  return parts.reduce((path, part) => /^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`, '')
}

/**
 * Ajv's errors as field problems. `where` is the part checked (`body`,
 * `query`, `params`, `headers`, or `row` for an imported row): a body's (or
 * a row's) fields are named as they are, another part's under its name
 * (`query.limit`); a problem of the whole part is named by the part.
 */
export function fieldProblems (errors: readonly ErrorObject[], where: string): FieldProblem[] {
  const bare = where === 'body' || where === 'row'
  return errors.map((v) => {
    const field = fieldOf(v.instancePath, (v.params as { missingProperty?: unknown }).missingProperty)
    const message = v.keyword === 'required'
      ? 'is required'
      : v.keyword === 'additionalProperties'
        ? `has an unknown field "${String((v.params as { additionalProperty?: unknown }).additionalProperty)}"`
        : v.message ?? 'is invalid'
    return { field: bare || field === '' ? field || where : `${where}.${field}`, message }
  })
}
