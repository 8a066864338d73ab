/**
 * The /v1 contact book: a contact is `{ name, telegram?, whatsapp?, viber?, tags?, timezone? }`.
 * The shapes are checked here; what a shape cannot say (a messenger id's
 * format per messenger, a time zone being known) the route checks, and both
 * answer a 400 naming the field.
 */
import { Type, type Static } from 'typebox'
import { ContactName } from './common.js'

export const MAX_TAGS = 32
export const MAX_PAGE = 1000
export const DEFAULT_PAGE = 100

export const Tag = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[\\p{L}\\p{N}_.:-]+$',
  description: 'A label to pick contacts by: 1-64 letters, digits, `_`, `.`, `:` or `-`'
})

const Tags = Type.Array(Tag, {
  maxItems: MAX_TAGS,
  description: `At most ${MAX_TAGS} tags; a repeated tag is kept once; an empty list means no tags`
})

const Telegram = Type.String({ maxLength: 64, description: 'A numeric chat id, or a username with or without its `@`' })
const WhatsApp = Type.String({ maxLength: 64, description: 'An E.164 phone number, e.g. +15551234567' })
const Viber = Type.String({ maxLength: 64, description: 'A Viber subscriber id: up to 64 of `A-Z a-z 0-9 + / = _ -`' })
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'The IANA time zone of the person, e.g. Europe/Moscow' })

export const NewContactBody = Type.Object({
  name: ContactName,
  telegram: Type.Optional(Telegram),
  whatsapp: Type.Optional(WhatsApp),
  viber: Type.Optional(Viber),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(TimeZone)
}, { additionalProperties: false, description: 'A contact; an absent field is none (no id on that messenger, no tags, no time zone)' })
export type NewContactBody = Static<typeof NewContactBody>

export const ReplaceContactBody = Type.Object({
  /** May be given; then it must be the name in the path (no renaming). */
  name: Type.Optional(ContactName),
  telegram: Type.Optional(Telegram),
  whatsapp: Type.Optional(WhatsApp),
  viber: Type.Optional(Viber),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(TimeZone)
}, { additionalProperties: false, description: 'The whole contact: a field left out is removed' })
export type ReplaceContactBody = Static<typeof ReplaceContactBody>

export const PatchContactBody = Type.Partial(Type.Object({
  /** May be given; then it must be the name in the path (no renaming). */
  name: ContactName,
  telegram: Type.Union([Telegram, Type.Null()]),
  whatsapp: Type.Union([WhatsApp, Type.Null()]),
  viber: Type.Union([Viber, Type.Null()]),
  tags: Type.Union([Tags, Type.Null()]),
  timezone: Type.Union([TimeZone, Type.Null()])
}), {
  additionalProperties: false,
  description: 'The fields to change: a given field is set (tags replace the old ones), null removes it, a field left out is kept'
})
export type PatchContactBody = Static<typeof PatchContactBody>

export const Contact = Type.Object({
  name: Type.String(),
  telegram: Type.Optional(Type.String()),
  whatsapp: Type.Optional(Type.String()),
  viber: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  timezone: Type.Optional(Type.String())
}, { description: 'A contact; a field it does not have is absent' })

export const ContactParams = Type.Object({ name: ContactName })

const TagList = Type.Array(Type.String(), {
  maxItems: MAX_TAGS,
  description: 'Tags, as repeated parameters and/or comma-separated'
})

export const ContactListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: 'Contacts per page' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'The `next_cursor` of the previous page' })),
  tags_any: Type.Optional(TagList),
  tags_all: Type.Optional(TagList)
}, { additionalProperties: false })
export type ContactListQuery = Static<typeof ContactListQuery>

export const ContactList = Type.Object({
  contacts: Type.Array(Contact, { description: 'In name order (UTF-8 bytes)' }),
  next_cursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' }))
})

export const Removed = Type.Null({ description: 'The contact is removed' })
