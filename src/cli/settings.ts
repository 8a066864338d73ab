/**
 * Where the fanout command finds the service and who it acts as, first found
 * wins:
 *
 *   1. flags:        --url, --api-key, --user
 *   2. environment:  FANOUT_URL, FANOUT_API_KEY, FANOUT_USER
 *   3. config file:  FANOUT_CONFIG, else $XDG_CONFIG_HOME/fanout/config.json,
 *                    else ~/.config/fanout/config.json:
 *                    {"url": "...", "api_key": "...", "user": "..."}
 *   4. the quick start's service: http://127.0.0.1:8080
 *
 * With an API key the command sends `Authorization: Bearer <key>`. The user
 * names who it acts for when the service runs without authentication (the
 * loopback trial, AUTH=off); with a key it may be left out.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from './errors.js'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

export interface Settings {
  /** The service's base URL, without credentials or a trailing slash. */
  url: string
  apiKey?: string
  user?: string
  /** Where the settings file was looked for (for messages), and whether it was there. */
  configFile: { path: string, found: boolean }
  /** How long `send --wait` and `dispatches watch` keep trying to get a lost event stream back (FANOUT_RECONNECT_SECONDS). */
  reconnectSeconds: number
}

/** Long enough to ride out a restart of the service. */
export const DEFAULT_RECONNECT_SECONDS = 60

export interface SettingFlags {
  url?: string
  apiKey?: string
  user?: string
}

type Env = Record<string, string | undefined>

/** The settings file's path: FANOUT_CONFIG, else the XDG config folder's fanout/config.json. */
export function configPath (env: Env): string {
  if (env.FANOUT_CONFIG !== undefined && env.FANOUT_CONFIG !== '') return env.FANOUT_CONFIG
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config')
  return join(base, 'fanout', 'config.json')
}

interface FileSettings { url?: string, api_key?: string, user?: string }

function readConfigFile (path: string, named: boolean): FileSettings | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    // Only a file someone named must exist; the default one is optional.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) return undefined
    throw new UsageError(`cannot read the config file ${path}: ${(err as Error).message}`, 'fix FANOUT_CONFIG, or unset it to use the default file')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`the config file ${path} is not JSON (${(err as Error).message})`, 'it holds {"url": "...", "api_key": "...", "user": "..."}')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`the config file ${path} must hold a JSON object`, 'it holds {"url": "...", "api_key": "...", "user": "..."}')
  }
  const fields = parsed as Record<string, unknown>
  for (const field of ['url', 'api_key', 'user']) {
    if (fields[field] !== undefined && typeof fields[field] !== 'string') {
      throw new UsageError(`the config file ${path}: "${field}" must be a string`, 'it holds {"url": "...", "api_key": "...", "user": "..."}')
    }
  }
  return fields as FileSettings
}

const given = (...values: Array<string | undefined>) => values.find((v) => v !== undefined && v !== '')

/** The settings from flags, the environment and the config file, in that order. */
export function resolveSettings (flags: SettingFlags, env: Env = process.env): Settings {
  const path = configPath(env)
  const file = readConfigFile(path, env.FANOUT_CONFIG !== undefined && env.FANOUT_CONFIG !== '')
  const rawUrl = given(flags.url, env.FANOUT_URL, file?.url) ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    throw new UsageError(`"${rawUrl}" is not a URL`, `give the service's address, e.g. --url ${DEFAULT_URL}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${url.protocol}" is not http: or https:`, `give the service's address, e.g. --url ${DEFAULT_URL}`)
  }
  // Credentials belong in the key setting, never in a URL that error messages show.
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('the URL carries credentials', 'put the key in FANOUT_API_KEY or the config file, and give the URL without them')
  }
  const apiKey = given(flags.apiKey, env.FANOUT_API_KEY, file?.api_key)
  const user = given(flags.user, env.FANOUT_USER, file?.user)
  const reconnect = env.FANOUT_RECONNECT_SECONDS
  const reconnectSeconds = reconnect === undefined || reconnect === '' ? DEFAULT_RECONNECT_SECONDS : Number(reconnect)
  if (!Number.isFinite(reconnectSeconds) || reconnectSeconds < 0) {
    throw new UsageError(`FANOUT_RECONNECT_SECONDS is "${reconnect}", not a number of seconds`, `leave it unset for ${DEFAULT_RECONNECT_SECONDS}`)
  }
  return {
    reconnectSeconds,
    url: url.href.replace(/\/+$/, ''),
    ...(apiKey !== undefined && { apiKey }),
    ...(user !== undefined && { user }),
    configFile: { path, found: file !== undefined }
  }
}

/** The key's id (`fo_<id>_<secret>`), to point at the key in use in `keys list`; undefined for a key of another shape. */
export function keyIdOf (apiKey: string | undefined): string | undefined {
  return /^fo_([0-9a-f]{16})_/.exec(apiKey ?? '')?.[1]
}
