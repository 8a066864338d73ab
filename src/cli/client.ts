/**
 * The fanout command's client of the /v1 API: openapi-fetch typed with the
 * types generated from the service's own OpenAPI document (api-types.ts), so
 * every path, parameter, body and answer is checked against the API. `call`
 * turns an error answer, or no answer at all, into an error that says what
 * to do next. The API key goes in the Authorization header and nowhere else.
 */
import createClient, { type Client } from 'openapi-fetch'
import type { paths } from './api-types.js'
import { ApiError, CliError, EXIT } from './errors.js'
import type { Settings } from './settings.js'

export type Api = Client<paths>

/** The typed client for these settings. */
export function apiClient (settings: Settings): Api {
  return createClient<paths>({
    baseUrl: settings.url,
    headers: {
      accept: 'application/json',
      ...(settings.apiKey !== undefined && { authorization: `Bearer ${settings.apiKey}` }),
      ...(settings.user !== undefined && { 'x-user-name': settings.user })
    }
  })
}

interface ErrorBody { error?: { code?: string, message?: string, details?: Array<{ field?: string }> } }

/** What to do about an error answer, from what the settings were. */
function hintFor (status: number, body: ErrorBody, response: Response, settings: Settings): string | undefined {
  const fields = body.error?.details?.map((d) => d.field) ?? []
  const where = `--api-key, FANOUT_API_KEY or ${settings.configFile.path}`
  if (status === 400 && fields.includes('x-user-name')) {
    return 'the service runs without authentication (a trial): name the user with --user or FANOUT_USER'
  }
  if (status === 401) {
    return settings.apiKey === undefined
      ? `the service needs an API key: set one with ${where} (the administrator issues them)`
      : `check the API key given with ${where}; a rotated or revoked key no longer works`
  }
  if (status === 429) return `wait ${response.headers.get('retry-after') ?? 'a while'} s and try again`
  if (status >= 500) return `the service's log has this request under id ${response.headers.get('x-request-id') ?? '(none)'}`
  return undefined
}

/** The error of a request that got no answer. */
export function unreachable (settings: Settings, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  const why = cause?.code ?? cause?.message ?? (err as Error).message
  return new CliError(`cannot reach the service at ${settings.url} (${why})`, EXIT.unavailable,
    'is it running (npm start)? Give its address with --url or FANOUT_URL')
}

/** The error an error answer stands for. */
export function answerError (settings: Settings, response: Response, error: unknown): ApiError {
  const body: ErrorBody = typeof error === 'object' && error !== null ? error as ErrorBody : {}
  const message = body.error?.message ?? (typeof error === 'string' && error !== '' ? error : `${response.status} ${response.statusText}`)
  return new ApiError(response.status, body.error?.code ?? `HTTP_${response.status}`, message, hintFor(response.status, body, response, settings))
}

/** The answer's data, or the error the answer (or its absence) stands for. */
export async function call<T> (settings: Settings, request: Promise<{ data?: T, error?: unknown, response: Response }>): Promise<T> {
  let answer: { data?: T, error?: unknown, response: Response }
  try {
    answer = await request
  } catch (err) {
    throw unreachable(settings, err)
  }
  if (!answer.response.ok) throw answerError(settings, answer.response, answer.error)
  return answer.data as T
}
