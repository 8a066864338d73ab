/**
 * The mock messengers: Telegram, WhatsApp and Viber at the real APIs' paths,
 * answering in their shapes (successes, errors, throttling), so that pointing
 * the service at the real ones is configuration only; and, like the real
 * ones, sending receipts to the service's webhooks afterwards.
 *
 *   /telegram/bot{token}/{method}             telegram.ts (no receipts: Telegram has none)
 *   /whatsapp/{version}/{phone_number_id}/... whatsapp.ts (status webhooks to {receiptsUrl}/webhooks/whatsapp)
 *   /viber/pa/...                             viber.ts (fails by default, as HTTP 200 + non-zero status;
 *                                             callbacks to the set_webhook URL, else {receiptsUrl}/webhooks/viber)
 *
 * The default profile has no platform rules and Viber always fails; the
 * realistic one plays the rules of platform-state.ts. It records every
 * message it receives (GET /_mock/messages) and every receipt it POSTs
 * (GET /_mock/receipts), reset with DELETE. Each messenger's behaviour
 * (behaviour.ts) is set at start (MOCK_BEHAVIOUR, config.ts) and changed at
 * run time with PUT /_mock/behaviour/{messenger}.
 *
 * A client whose base URL is fixed can reach it as its HTTP proxy: a request
 * for https://api.telegram.org/..., https://graph.facebook.com/... or
 * https://chatapi.viber.com/... (absolute form) is answered as the mock's own
 * /telegram/..., /whatsapp/... or /viber/...
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { MESSENGERS, type Messenger } from '../src/model/messenger.js'
import { readEnv } from '../src/config.js'
import { BehaviourChange, DEFAULT_BEHAVIOUR, changed, type Behaviour } from './behaviour.js'
import type { MockOptions } from './config.js'
import type { MockContext } from './context.js'
import { createFaults } from './faults.js'
import { PlatformState } from './platform-state.js'
import { ReceiptDelivery } from './receipt-delivery.js'
import { ReceiptSchedule } from './receipts.js'
import { MessageRecords } from './records.js'
import { registerTelegram } from './telegram.js'
import { registerViber } from './viber.js'
import { registerWhatsApp, whatsappWebhookBody } from './whatsapp.js'

export type { ReceivedMessage } from './records.js'
export type { ReceiptRecord } from './receipt-delivery.js'

/** The real APIs' hosts, and where the mock answers for each. */
const REAL_HOSTS: Record<string, string> = {
  'api.telegram.org': '/telegram',
  'graph.facebook.com': '/whatsapp',
  'chatapi.viber.com': '/viber'
}

/** A request in absolute form (to a proxy) for a real API, as the mock's own path; anything else as it is. */
function mockPath (url: string): string {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return url
  const target = new URL(url)
  const prefix = REAL_HOSTS[target.hostname]
  return prefix === undefined ? url : `${prefix}${target.pathname}${target.search}`
}

export function buildMock (options: MockOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    // A knob set to "true" or "2" is a mistake to report, not a value to guess.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Hung requests must not keep the mock from closing.
    forceCloseConnections: true,
    rewriteUrl: (request) => mockPath(request.url ?? '/')
  })
  const profile = options.profile ?? 'default'
  const maxRecords = options.maxRecords ?? 100_000
  const behaviour = Object.fromEntries(MESSENGERS.map((m) => [m, changed({
    ...structuredClone(DEFAULT_BEHAVIOUR),
    // The default profile's Viber always fails; the realistic one's follows Viber's rules.
    reject: m === 'viber' && profile === 'default'
  }, options.behaviour?.[m] ?? {})])) as Record<Messenger, Behaviour>
  const records = new MessageRecords(maxRecords)
  const delivery = new ReceiptDelivery({
    keys: { whatsapp: options.whatsappAppSecret ?? readEnv({}).WHATSAPP_APP_SECRET, viber: options.tokens.viber },
    ...(options.receiptRetry !== undefined && { retry: options.receiptRetry }),
    maxRecords,
    log: app.log
  })
  const state = new PlatformState()
  const receiptsUrl = options.receiptsUrl?.replace(/\/+$/, '')
  const ctx: MockContext = {
    options,
    profile,
    realistic: profile === 'realistic',
    behaviour,
    records,
    faults: createFaults(behaviour, records),
    state,
    delivery,
    schedule: new ReceiptSchedule(delivery, (statuses) => whatsappWebhookBody(options.whatsappPhoneNumberId, { statuses })),
    webhookUrl: (messenger) => messenger === 'viber' && state.viberWebhook !== undefined
      ? state.viberWebhook.url
      : receiptsUrl === undefined ? undefined : `${receiptsUrl}/webhooks/${messenger}`
  }

  registerTelegram(app, ctx)
  registerWhatsApp(app, ctx)
  registerViber(app, ctx)
  records.routes(app)
  delivery.routes(app, () => ctx.schedule.waiting)

  app.get('/_mock/behaviour', async () => behaviour)

  app.put<{ Params: { messenger: string }, Body: BehaviourChange }>('/_mock/behaviour/:messenger', {
    schema: { body: BehaviourChange }
  }, async (request, reply) => {
    const { messenger } = request.params
    if (!(MESSENGERS as readonly string[]).includes(messenger)) {
      return reply.status(404).send({ error: `no messenger ${messenger}` })
    }
    behaviour[messenger as Messenger] = changed(behaviour[messenger as Messenger], request.body)
    return behaviour[messenger as Messenger]
  })

  app.addHook('onClose', async () => {
    ctx.schedule.close()
    await delivery.close()
  })

  return app
}
