/** Invite links: what POST /v1/contacts/{name}/invites answers, and a contact's connections. */
import { Type } from 'typebox'
import { MESSENGERS } from '../model/messenger.js'

const MessengerName = Type.Enum(MESSENGERS, { description: MESSENGERS.join(', ') })

const Link = (extra: string) => Type.Object({
  url: Type.String({ description: `The link the person opens; ${extra}` }),
  token: Type.String({ description: 'The token it carries: usable once, until expires_at' }),
  code: Type.Optional(Type.String({ description: 'WhatsApp: the text the person sends (prefilled by the link)' })),
  qr_svg: Type.Optional(Type.String({ description: 'With ?qr=svg: the link as a QR code, an SVG document' }))
})

export const InviteQuery = Type.Object({
  qr: Type.Optional(Type.Enum(['svg'] as const, { description: '`svg`: each link also comes as a QR code (`qr_svg`)' }))
}, { additionalProperties: false })

export const InviteAnswer = Type.Object({
  contact: Type.String(),
  expires_at: Type.String({ format: 'date-time', description: 'The tokens can be used until then (INVITE_TTL_SECONDS after now)' }),
  links: Type.Object({
    telegram: Type.Optional(Link('`https://t.me/<bot>?start=<token>`: the bot gets /start <token>')),
    viber: Type.Optional(Link('`viber://pa?chatURI=<uri>&context=<token>`: the bot gets the token as the context of conversation_started')),
    whatsapp: Type.Optional(Link('`https://wa.me/<number>?text=invite%3A<token>`: the person sends the code to the business'))
  }, { description: 'A link per messenger the service has the settings of' }),
  unavailable: Type.Array(Type.Object({ messenger: MessengerName, reason: Type.String() }), {
    description: 'Messengers without a link, and why (the setting that is missing)'
  })
}, { description: 'New invite links for the contact: each connects the messenger id of whoever opens it and answers (once)' })

export const Connection = Type.Object({
  messenger: MessengerName,
  id: Type.String({ description: 'The address connected' }),
  previous_id: Type.Optional(Type.String({ description: 'The address it replaced' })),
  at: Type.String({ format: 'date-time' }),
  via: Type.Literal('invite')
}, { description: 'An address the contact got by invite' })
