/**
 * The mock messengers' configuration: the service's own settings for what
 * the two must agree on (where the mock listens, the messengers' tokens and
 * ids), and the mock's settings, read here only.
 *
 *   MOCK_LOG         the mock logs each request it answers (default false)
 *   MOCK_BEHAVIOUR   its behaviour at start, as JSON: {"viber": {"latencyMs": [1000, 3000]}, ...}
 */
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { ConfigError, loadConfig } from '../src/config.js'
import { BehaviourConfig } from './behaviour.js'

const MockEnvSchema = Type.Object({
  MOCK_LOG: Type.Boolean({ default: false }),
  MOCK_BEHAVIOUR: Type.Optional(Type.String())
})

export interface MockOptions {
  tokens: { telegram: string, whatsapp: string, viber: string }
  whatsappPhoneNumberId: string
  /** Initial behaviour per messenger; Viber rejects unless told otherwise. */
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
        ...(own.MOCK_BEHAVIOUR !== undefined && { behaviour: parseBehaviourConfig(own.MOCK_BEHAVIOUR) }),
        logger: own.MOCK_LOG
      }
    }
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`)
  }
}
