/**
 * The /v1 contact book: a contact is `{ name, telegram?, whatsapp?, viber?, tags?, timezone?, operator? }`.
 * The shapes are checked here; what a shape cannot say (a messenger id's
 * format per messenger, a time zone being known) the route checks, and both
 * answer a 400 naming the field.
 */
import { MESSENGERS, UNREACHABLE_REASONS, type Messenger } from '../model/messenger.js'
import { OPERATOR_PATTERN } from '../model/operator.js'
import { Type, type Static } from 'typebox'
import { ContactName, ErrorBody } from './common.js'
import { Connection } from './invites.js'

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
export const OperatorCode = Type.String({
  pattern: OPERATOR_PATTERN,
  description: 'The mobile operator code, e.g. RU-Beeline (country, `-`, carrier) or 250-01: left out, it is derived from the WhatsApp number ' +
    '(the carrier its range was allocated to, in Google\'s libphonenumber data) where that names one'
})

export const NewContactBody = Type.Object({
  name: ContactName,
  telegram: Type.Optional(Telegram),
  whatsapp: Type.Optional(WhatsApp),
  viber: Type.Optional(Viber),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(TimeZone),
  operator: Type.Optional(OperatorCode)
}, { additionalProperties: false, description: 'A contact; an absent field is none (no id on that messenger, no tags, no time zone)' })
export type NewContactBody = Static<typeof NewContactBody>

export const ReplaceContactBody = Type.Object({
  /** May be given; then it must be the name in the path (no renaming). */
  name: Type.Optional(ContactName),
  telegram: Type.Optional(Telegram),
  whatsapp: Type.Optional(WhatsApp),
  viber: Type.Optional(Viber),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(TimeZone),
  operator: Type.Optional(OperatorCode)
}, { additionalProperties: false, description: 'The whole contact: a field left out is removed' })
export type ReplaceContactBody = Static<typeof ReplaceContactBody>

export const PatchContactBody = Type.Partial(Type.Object({
  /** May be given; then it must be the name in the path (no renaming). */
  name: ContactName,
  telegram: Type.Union([Telegram, Type.Null()]),
  whatsapp: Type.Union([WhatsApp, Type.Null()]),
  viber: Type.Union([Viber, Type.Null()]),
  tags: Type.Union([Tags, Type.Null()]),
  timezone: Type.Union([TimeZone, Type.Null()]),
  operator: Type.Union([OperatorCode, Type.Null()])
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
  timezone: Type.Optional(Type.String()),
  operator: Type.Optional(Type.String({ description: 'The mobile operator code, given or derived from the WhatsApp number' })),
  connections: Type.Optional(Type.Array(Connection, {
    description: 'GET /v1/contacts/{name} only: the addresses connected by invite, newest first (the last 50); absent when none'
  }))
}, { description: 'A contact; a field it does not have is absent' })

const Reachable = Type.Object({ reachable: Type.Literal(true) }, { description: 'No failure since the address was last heard alive says it is dead' })
const Unreachable = Type.Object({
  reachable: Type.Literal(false),
  reason: Type.Enum(UNREACHABLE_REASONS, {
    description: 'What the latest such failure said: blocked (Telegram: the person blocked the bot), not_started (Telegram: never started it), ' +
      'forbidden (Telegram: another 403, e.g. a deleted account), chat_not_found (Telegram), not_on_whatsapp (WhatsApp 131026), ' +
      'not_registered (Viber 5), not_subscribed (Viber 6), unsubscribed (Viber: the person unsubscribed)'
  }),
  code: Type.Union([Type.Integer(), Type.String()], { description: 'The messenger\'s code: 403, 400, 131026, 5, 6, or `unsubscribed`' }),
  at: Type.String({ format: 'date-time', description: 'When the latest such failure happened' }),
  count: Type.Integer({ minimum: 1, description: 'Such failures since the address was last heard alive (at most 50 are counted)' })
}, { description: 'A failure said the address itself is dead: dispatches with skip_unreachable do not send to it' })

export const AddressHealth = Type.Union([Reachable, Unreachable])

export const ContactHealth = Type.Object(Object.fromEntries(MESSENGERS.map((m) => [m, Type.Optional(AddressHealth)])) as Record<Messenger, ReturnType<typeof Type.Optional<typeof AddressHealth>>>, {
  description: 'For each messenger the contact has an address on, whether that address is dead. Marked by failures that say so ' +
    '(Telegram 403 and `chat not found`, WhatsApp 131026, Viber 5 and 6 and the `unsubscribed` callback); cleared by a later success ' +
    '(an accepted Telegram or Viber send, a delivered or read receipt, a Viber subscription), by an edit that gives the messenger a new address, ' +
    'and by POST /v1/contacts/{name}/health/{messenger}/reset. Kept per address: a contact whose address changed has the new address\'s health'
})

export const ContactWithHealth = Type.Object({
  ...Contact.properties,
  health: ContactHealth
}, { description: 'A contact, with the health of each of its addresses' })

export const ContactParams = Type.Object({ name: ContactName })

export const ContactHealthParams = Type.Object({
  name: ContactName,
  messenger: Type.Enum(MESSENGERS, { description: 'telegram, whatsapp or viber' })
})

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

/** The most rows one import takes (MAX_CONTACTS_PER_USER's default: a whole book at once). */
export const MAX_IMPORT_ROWS = 100_000

export const ImportQuery = Type.Object({
  mode: Type.Optional(Type.Enum(['upsert', 'create'] as const, {
    default: 'upsert',
    description: '`upsert`: a row whose name the book has replaces that contact, as PUT does (a field the row lacks is removed); ' +
      '`create`: such a row fails with CONTACT_EXISTS'
  })),
  all_or_nothing: Type.Optional(Type.Boolean({
    default: false,
    description: 'true: when any row fails, nothing is written (422 IMPORT_REFUSED, with the report); false: the good rows are written'
  }))
}, { additionalProperties: false })
export type ImportQuery = Static<typeof ImportQuery>

const ImportRows = Type.Array(NewContactBody, {
  maxItems: MAX_IMPORT_ROWS,
  description: 'Contacts as POST /v1/contacts takes them; each row is checked on its own, and a bad one fails alone'
})

/**
 * The body of an import, by media type. The route reads it itself, as a
 * stream (src/contacts/contact-files.ts); these schemas document it.
 */
export const ImportBody = {
  content: {
    'text/csv': {
      schema: Type.String({
        description: 'UTF-8 CSV: a header row naming the columns (name, telegram, whatsapp, viber, tags, timezone, operator; name is required; ' +
          'any order and case), then a contact a record; an empty cell is no value; tags in one cell, separated by `;`. ' +
          'Row n is the n-th record after the header (blank lines are not rows)'
      })
    },
    'application/x-ndjson': {
      schema: Type.String({ description: 'One contact a line, as POST /v1/contacts takes it; row n is line n (blank lines are skipped)' })
    },
    'application/json': { schema: ImportRows }
  }
}

const Count = Type.Integer({ minimum: 0 })
const RowRanges = (what: string) => Type.Array(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 2 }), {
  description: `The rows ${what}, as [first, last] row numbers`
})

export const ImportReport = Type.Object({
  written: Type.Boolean({ description: 'False only with all_or_nothing when a row failed: then nothing was written' }),
  counts: Type.Object({ rows: Count, created: Count, updated: Count, unchanged: Count, failed: Count }),
  rows: Type.Object({
    created: RowRanges('created'),
    updated: RowRanges('that replaced a different contact of that name'),
    unchanged: RowRanges('the book held as they are (nothing written)'),
    failed: RowRanges('that failed (see errors)')
  }),
  errors: Type.Array(Type.Object({
    row: Type.Integer({ minimum: 1 }),
    name: Type.Optional(Type.String()),
    code: Type.String({ description: 'INVALID_FIELD, INVALID_ROW (a CSV record of the wrong width, an NDJSON line that is not JSON), DUPLICATE_NAME (in an earlier row too), CONTACT_EXISTS (mode create), CONTACT_LIMIT_REACHED' }),
    field: Type.Optional(Type.String({ description: 'The field at fault, as POST /v1/contacts names it' })),
    message: Type.String()
  }), { description: 'The failed rows in row order, at most 1,000 of them' }),
  errors_omitted: Type.Optional(Type.Integer({ minimum: 1, description: 'Failed rows beyond the errors listed' }))
}, { description: 'What became of each row: counts, the rows of each result as ranges, the errors' })

export const ImportRefused = Type.Object({
  error: ErrorBody.properties.error,
  report: Type.Optional(ImportReport)
}, { description: 'IMPORT_REFUSED (all_or_nothing, a row failed: nothing was written; `details` and `report` name the rows), or IDEMPOTENCY_KEY_REUSED' })

export const ExportQuery = Type.Object({
  format: Type.Optional(Type.Enum(['csv', 'ndjson'] as const, {
    description: 'csv: the columns of an import, a header row first; ndjson: a contact a line. Without it, the answer is the contact named "export" (as GET /v1/contacts/{name})'
  }))
}, { additionalProperties: false })
export type ExportQuery = Static<typeof ExportQuery>

export const ExportFile = {
  content: {
    'text/csv': { schema: Type.String({ description: 'The whole book, in name order, as an import reads it' }) },
    'application/x-ndjson': { schema: Type.String({ description: 'The whole book, in name order, a contact a line' }) },
    'application/json': { schema: Contact }
  }
}
