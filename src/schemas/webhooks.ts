/** The messengers' webhooks: what the service answers them (their bodies are the vendors', read in src/messengers/). */
import { Type } from 'typebox'

export const WebhookAnswer = Type.Object({
  receipts: Type.Integer({ description: 'Receipts in the body' }),
  applied: Type.Integer({ description: 'Of those, ones that moved a delivery or added to its timeline' }),
  waiting: Type.Integer({ description: 'Of those, ones whose message id is not known (yet): kept a while for the send being recorded, then dropped' }),
  inbound: Type.Integer({ description: 'Messages and subscriptions from people that were noted' })
}, { description: 'Received; the platform need not send it again' })

export const WhatsAppVerifyQuery = Type.Object({
  'hub.mode': Type.Optional(Type.String({ maxLength: 64 })),
  'hub.verify_token': Type.Optional(Type.String({ maxLength: 512 })),
  'hub.challenge': Type.Optional(Type.String({ maxLength: 512 }))
})

export const ViberWelcome = Type.Object({
  sender: Type.Object({ name: Type.String() }),
  type: Type.Literal('text'),
  text: Type.String()
}, { description: 'The answer to a conversation_started that carried an invite\'s context: the welcome message Viber shows the person' })
