/** What every command works with: the settings, the typed API client and the output, from the global options. */
import type { Command } from 'commander'
import { apiClient, call, type Api } from './client.js'
import { UsageError } from './errors.js'
import { Output } from './output.js'
import { resolveSettings, type Settings } from './settings.js'

export interface GlobalOptions {
  url?: string
  apiKey?: string
  user?: string
  json?: boolean
  color?: boolean
}

export interface Context {
  settings: Settings
  api: Api
  out: Output
  /** The answer's data, or the error it stands for (see client.ts). */
  call: <T>(request: Promise<{ data?: T, error?: unknown, response: Response }>) => Promise<T>
}

let secret: string | undefined

/** The API key the command runs with, once the settings are read: blanked out of error messages too. */
export function secretInUse (): string | undefined {
  return secret
}

/** The output alone, for errors that come before the settings are known. */
export function outputOf (options: GlobalOptions, secret?: string): Output {
  return new Output({ json: options.json === true, color: options.color !== false, ...(secret !== undefined && { secret }) })
}

/** The context of a command, from the global options it was given. */
export function contextOf (command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>()
  const settings = resolveSettings({ url: options.url, apiKey: options.apiKey, user: options.user })
  secret = settings.apiKey
  if (settings.apiKey === undefined && settings.user === undefined) {
    throw new UsageError('no API key and no user: the command does not know who to act as',
      `set FANOUT_API_KEY (or --api-key, or "api_key" in ${settings.configFile.path}); ` +
      'against a trial service without authentication (npm start), name the user with FANOUT_USER or --user')
  }
  return {
    settings,
    api: apiClient(settings),
    out: outputOf(options, settings.apiKey),
    call: async (request) => await call(settings, request)
  }
}
