/** The mock messengers for a test: the real mock server, listening on a free loopback port. */
import type { Test } from 'tap'
import { buildMock, type ReceiptRecord, type ReceivedMessage } from '../../mock-messengers/app.js'
import type { BehaviourChange } from '../../mock-messengers/behaviour.js'
import type { MockOptions } from '../../mock-messengers/config.js'
import type { Messenger } from '../../src/model/messenger.js'

/** The tokens and ids the service's configuration defaults to. */
export const MOCK_CREDENTIALS = {
  tokens: { telegram: 'mock-telegram-token', whatsapp: 'mock-whatsapp-token', viber: 'mock-viber-token' },
  whatsappPhoneNumberId: '100000000000001'
}

export interface TestMock {
  url: string
  port: number
  received (filter?: { messenger?: Messenger, recipient?: string, outcome?: string }): Promise<{
    count: number
    messages: ReceivedMessage[]
    repeats: Record<string, number>
  }>
  behave (messenger: Messenger, behaviour: BehaviourChange): Promise<void>
  /** The receipts the mock POSTed (payloads parsed: a Viber message_token loses digits here, not in the POST). */
  receipts (filter?: { messenger?: 'whatsapp' | 'viber', outcome?: string }): Promise<{
    count: number
    /** Receipts still waiting for their moment, not yet POSTed. */
    scheduled: number
    receipts: Array<Omit<ReceiptRecord, 'payload'> & { payload: any }>
  }>
  /** A test control of the mock (POST /_mock/...): its JSON answer, or an error naming its status. */
  control (path: string, body: unknown): Promise<any>
}

export async function startMock (t: Test, options: Partial<MockOptions> = {}): Promise<TestMock> {
  const mock = buildMock({ ...MOCK_CREDENTIALS, ...options })
  const url = await mock.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => mock.close())
  return {
    url,
    port: Number(new URL(url).port),
    async received (filter = {}) {
      const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as Array<[string, string]>)
      const response = await mock.inject({ method: 'GET', url: `/_mock/messages?${query}` })
      return response.json()
    },
    async behave (messenger, behaviour) {
      const response = await mock.inject({ method: 'PUT', url: `/_mock/behaviour/${messenger}`, payload: behaviour })
      if (response.statusCode !== 200) throw new Error(`mock behaviour: ${response.body}`)
    },
    async receipts (filter = {}) {
      const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as Array<[string, string]>)
      const response = await mock.inject({ method: 'GET', url: `/_mock/receipts?${query}` })
      return response.json()
    },
    async control (path, body) {
      const response = await mock.inject({ method: 'POST', url: path, payload: body as object })
      if (response.statusCode !== 200) throw new Error(`POST ${path}: ${response.statusCode} ${response.body}`)
      return response.json()
    }
  }
}

/** The service configuration's environment that points every messenger at this mock. */
export function mockEnv (mock: TestMock): Record<string, string> {
  return {
    MOCK_PORT: String(mock.port),
    TELEGRAM_API_URL: `${mock.url}/telegram`,
    WHATSAPP_API_URL: `${mock.url}/whatsapp`,
    VIBER_API_URL: `${mock.url}/viber`
  }
}
