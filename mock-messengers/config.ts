/**
 * The mock messengers' configuration: the service's own settings for what
 * the two must agree on (where the mock listens, the messengers' tokens and
 * ids), and the mock's settings, read here only.
 *
 *   MOCK_LOG           the mock logs each request it answers (default false)
 *   MOCK_BEHAVIOUR     its behaviour at start, as JSON: {"viber": {"latencyMs": [1000, 3000]}, ...}
 *   MOCK_PROFILE       `default` (Viber always fails, no platform rules) or `realistic`
 *                      (the platforms' rules: WhatsApp's 24-hour window, Telegram's
 *                      started bots, Viber's webhook and subscribers)
 *   MOCK_RECEIPTS_URL  the service's base URL: WhatsApp status webhooks go to
 *                      {url}/webhooks/whatsapp, Viber callbacks to {url}/webhooks/viber
 *                      (or to the URL given to /pa/set_webhook); unset: none are sent
 */
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { ConfigError, loadConfig } from '../src/config.js'
import { BehaviourConfig } from './behaviour.js'

export const MOCK_PROFILES = ['default', 'realistic'] as const
export type MockProfile = typeof MOCK_PROFILES[number]

const MockEnvSchema = Type.Object({
  MOCK_LOG: Type.Boolean({ default: false }),
  MOCK_BEHAVIOUR: Type.Optional(Type.String()),
  MOCK_PROFILE: Type.Enum(MOCK_PROFILES, { default: 'default' }),
  MOCK_RECEIPTS_URL: Type.Optional(Type.String({ minLength: 1 }))
})

export interface MockOptions {
  tokens: { telegram: string, whatsapp: string, viber: string }
  whatsappPhoneNumberId: string
  /** The Meta app secret that signs WhatsApp webhooks; default: the service's default WHATSAPP_APP_SECRET. */
  whatsappAppSecret?: string
  /** `default`: no platform rules, Viber always fails; `realistic`: the platforms' rules (docs/messengers.md). */
  profile?: MockProfile
  /** The service's base URL, where receipts go (/webhooks/whatsapp, /webhooks/viber); unset: no receipts. */
  receiptsUrl?: string
  /** How a receipt POST is retried: attempts after the first, the first wait (doubling), each attempt's timeout. */
  receiptRetry?: { retries?: number, minTimeoutMs?: number, timeoutMs?: number }
  /** Initial behaviour per messenger; Viber rejects (in the default profile) unless told otherwise. */
  behaviour?: BehaviourConfig
  /** Oldest records are dropped beyond this many. */
  maxRecords?: number
  logger?: boolean
}

/**
 * Reads MOCK_BEHAVIOUR, e.g. `{"viber": {"latencyMs": [1000, 3000]}, "whatsapp": {"errorRate": 0.2}}`;
 * throws a message naming what is wrong.
 */
export function parseBehaviourConfig (json: string): BehaviourConfig {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw new Error('MOCK_BEHAVIOUR is not JSON')
  }
  if (!Value.Check(BehaviourConfig, value)) {
    const [first] = Value.Errors(BehaviourConfig, value)
    throw new Error(`MOCK_BEHAVIOUR${first?.instancePath.replaceAll('/', '.') ?? ''} ${first?.message ?? 'is invalid'}`)
  }
  return value
}

function receiptsUrl (setting: string): string {
  const url = setting.replace(/\/+$/, '')
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`MOCK_RECEIPTS_URL "${setting}" is not an http(s) URL`)
  }
  return url
}

/** Where the mock listens and how it starts, from the environment; a ConfigError names a bad setting. */
export function loadMockConfig (env: Record<string, string | undefined> = process.env): { host: string, port: number, options: MockOptions } {
  const config = loadConfig(env)
  try {
    const own = envSchema<Static<typeof MockEnvSchema>>({ schema: MockEnvSchema, data: env, env: false, dotenv: false })
    return {
      ...config.mock,
      options: {
        tokens: {
          telegram: config.messengers.telegram.token,
          whatsapp: config.messengers.whatsapp.token,
          viber: config.messengers.viber.token
        },
        whatsappPhoneNumberId: config.messengers.whatsapp.phoneNumberId,
        whatsappAppSecret: config.messengers.whatsapp.appSecret,
        profile: own.MOCK_PROFILE,
        ...(own.MOCK_RECEIPTS_URL !== undefined && { receiptsUrl: receiptsUrl(own.MOCK_RECEIPTS_URL) }),
        ...(own.MOCK_BEHAVIOUR !== undefined && { behaviour: parseBehaviourConfig(own.MOCK_BEHAVIOUR) }),
        logger: own.MOCK_LOG
      }
    }
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`)
  }
}
