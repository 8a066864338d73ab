/**
 * The /v1 dispatches and deliveries: what a send request looks like, what a
 * dispatch and a delivery look like when queried back, and the answers of
 * cancel, redrive and purge.
 */
import { Type, type Static } from 'typebox'
import { DELIVERY_ID_PATTERN, DELIVERY_STATES, DISPATCH_ID_PATTERN, MAX_DELIVERIES_PER_DISPATCH, RECEIPT_STATUSES, SUPPRESSED_REASONS } from '../model/delivery.js'
import { MESSENGERS } from '../model/messenger.js'
import { HHMM_PATTERN } from '../model/local-window.js'
import { ContactName, UserName } from './common.js'
import { DEFAULT_PAGE, MAX_PAGE, OperatorCode, Tag } from './contacts.js'

export const DispatchId = Type.String({ pattern: `^${DISPATCH_ID_PATTERN}$`, description: 'A dispatch id: a ULID (ids sort by time) and 4 hex digits' })
export const DeliveryId = Type.String({ pattern: `^${DELIVERY_ID_PATTERN}$`, description: 'A delivery id: its dispatch id, `.`, and the delivery\'s index in it' })

const MessengerName = Type.Enum(MESSENGERS, { description: 'telegram, whatsapp or viber' })
const State = Type.Enum(DELIVERY_STATES, {
  description: 'scheduled, queued, sending; then sent (the messenger accepted it) and, by its receipts, delivered, read or failed; ' +
    'or failed, cancelled, expired, suppressed'
})
const Time = Type.String({ format: 'date-time', description: 'An RFC 3339 time, e.g. 2026-12-01T09:00:00Z' })

const WhatsAppTemplate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$', description: 'The approved template\'s name, e.g. hello_world' }),
  language: Type.String({ pattern: '^[a-z]{2,3}(_[A-Z]{2})?$', description: 'Its language code, e.g. en_US' }),
  parameters: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
    maxItems: 20, description: 'Values of the template\'s body parameters ({{1}}, {{2}}...), in order'
  }))
}, {
  additionalProperties: false,
  description: 'WhatsApp only delivers free-form text within 24 hours of the person\'s last message to the business; outside that ' +
    'window this approved template goes instead of the text (and to people never heard from). Without one, a text to someone ' +
    'whose window has closed fails at once (WHATSAPP_WINDOW_CLOSED).'
})

const LocalTime = Type.String({ pattern: HHMM_PATTERN, description: 'A wall-clock time, HH:MM (00:00 to 23:59)' })

const LocalWindow = Type.Object({
  from: { ...LocalTime, description: 'Opens at this local time (included)' },
  to: { ...LocalTime, description: 'Closes at this local time (excluded); earlier than `from`: the window crosses midnight (21:00 to 06:00)' },
  default_timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The IANA zone for contacts without a `timezone`, and for direct addresses (default: the service\'s TIME_ZONE)' }))
}, {
  additionalProperties: false,
  description: 'Deliver in each contact\'s local hours: a delivery whose contact\'s wall clock (its `timezone`) is outside the window at send time ' +
    'waits until the window next opens, never past `expires_at` (then it ends `expired`). Wall-clock times: on the day clocks skip an hour, ' +
    'a window opening inside it opens when they jump; `from` equal to `to` is refused'
})

const Text = Type.String({ minLength: 1, maxLength: 7000, description: 'The message (Telegram and WhatsApp take at most 4096 characters, Viber 7000)' })

/** Who a send goes to: the same fields in a new send and in an edit. */
const TargetFields = {
  contacts: Type.Optional(Type.Array(ContactName, { maxItems: MAX_DELIVERIES_PER_DISPATCH, description: 'Contact names; a name not in the book is reported in `unknown`' })),
  tags: Type.Optional(Type.Object({
    any: Type.Optional(Type.Array(Tag, { maxItems: 32, description: 'Contacts with at least one of these tags' })),
    all: Type.Optional(Type.Array(Tag, { maxItems: 32, description: 'Contacts with every one of these tags' }))
  }, { additionalProperties: false, description: 'Contacts picked by tag (both parts must hold when both are given)' })),
  all_contacts: Type.Optional(Type.Boolean({ description: 'true: every contact in the book' })),
  addresses: Type.Optional(Type.Array(Type.Object({
    messenger: MessengerName,
    address: Type.String({ minLength: 1, maxLength: 64, description: 'A Telegram chat id or @username, a WhatsApp E.164 number, a Viber user id' })
  }, { additionalProperties: false }), { maxItems: MAX_DELIVERIES_PER_DISPATCH, description: 'Addresses that need no contact' })),
  messengers: Type.Optional(Type.Array(MessengerName, { minItems: 1, uniqueItems: true, description: 'Only these messengers (default: every one a contact has)' })),
  operator_codes: Type.Optional(Type.Array(OperatorCode, {
    minItems: 1,
    maxItems: 32,
    description: 'Only contacts whose `operator` is one of these (compared exactly), among those picked by contacts, tags or all_contacts; ' +
      'given without contacts or tags, among the whole book. Direct addresses are not filtered'
  }))
}
export const TARGET_FIELDS = Object.keys(TargetFields) as Array<keyof typeof TargetFields>

const SendAt = { ...Time, description: 'Not before this time; absent or past: now' }
const SkipUnreachable = Type.Boolean({
  description: 'true: addresses marked dead (a contact\'s `health`: blocked, never started, not on the messenger...) are not sent to; ' +
    'their deliveries end `suppressed` with reason `address_unreachable` (counted in `suppressed`, not failures). ' +
    'Absent: the deployment\'s SKIP_UNREACHABLE_DEFAULT (false unless set), or in an edit what the dispatch had'
})
const ExpiresAt = { ...Time, description: 'Give up after this time: nothing is sent after it, what is still waiting ends `expired`' }

export const NewDispatchBody = Type.Object({
  text: Text,
  ...TargetFields,
  send_at: Type.Optional(SendAt),
  expires_at: Type.Optional(ExpiresAt),
  local_window: Type.Optional(LocalWindow),
  whatsapp_template: Type.Optional(WhatsAppTemplate),
  skip_unreachable: Type.Optional(SkipUnreachable)
}, { additionalProperties: false, description: 'Give at least one of contacts, tags, all_contacts, operator_codes, addresses' })
export type NewDispatchBody = Static<typeof NewDispatchBody>

export const EditDispatchBody = Type.Object({
  text: Type.Optional(Text),
  ...TargetFields,
  send_at: Type.Optional(SendAt),
  expires_at: Type.Optional(Type.Union([ExpiresAt, Type.Null()], { description: 'A time: give up after it; null: no longer expires' })),
  local_window: Type.Optional(Type.Union([LocalWindow, Type.Null()], { description: 'A window: deliver in local hours; null: no longer' })),
  whatsapp_template: Type.Optional(Type.Union([WhatsAppTemplate, Type.Null()], { description: 'null: no template' })),
  skip_unreachable: Type.Optional(SkipUnreachable)
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'What changes; what is absent stays. Any of contacts, tags, all_contacts, addresses, messengers replaces the targets as a whole ' +
    '(with the same rules as a new send); without them the dispatch goes to the targets it had, looked up again in the book'
})
export type EditDispatchBody = Static<typeof EditDispatchBody>

export const DispatchEdited = Type.Object({
  id: DispatchId,
  revision: Type.Integer({ description: 'Bumped by each edit' }),
  deliveries: Type.Integer({ description: 'Deliveries it now has, rebuilt from the edited request' }),
  suppressed: Type.Integer(),
  unknown: Type.Array(Type.String(), { description: 'Names not in the book: nothing goes to them' }),
  without_addresses: Type.Array(Type.String(), { description: 'Contacts with no id on the messengers asked for' }),
  state: Type.Union([Type.Literal('scheduled'), Type.Literal('queued')], { description: 'scheduled: waits for send_at (or a local window); queued: goes now' }),
  send_at: Time,
  expires_at: Type.Optional(Time)
})

export const DispatchDeleted = Type.Object({
  cancelled: Type.Integer({ description: 'Deliveries that were pending and were cancelled first' }),
  deleted: Type.Integer({ description: 'Deliveries deleted, with their place in counts and listings' }),
  in_flight: Type.Array(DeliveryId, {
    description: 'Being sent at that moment: marked cancelled (not retried) and kept, with the dispatch, until they finish; a DELETE then removes them. Empty: the dispatch is gone'
  })
})

export const DispatchAccepted = Type.Object({
  id: DispatchId,
  deliveries: Type.Integer({ description: 'Deliveries created: one per messenger id of each chosen contact, and per address' }),
  suppressed: Type.Integer({ description: 'Of those, repeats of a recent delivery, and with skip_unreachable those to addresses marked dead: they end `suppressed` and are not sent' }),
  unknown: Type.Array(Type.String(), { description: 'Names not in the book: nothing goes to them' }),
  without_addresses: Type.Array(Type.String(), { description: 'Contacts with no id on the messengers asked for' }),
  state: Type.Union([Type.Literal('scheduled'), Type.Literal('queued')], { description: 'scheduled: waits for send_at; queued: goes now' }),
  send_at: Time,
  expires_at: Type.Optional(Time)
})

export const Counts = Type.Object(Object.fromEntries(DELIVERY_STATES.map((s) => [s, Type.Integer()])) as Record<typeof DELIVERY_STATES[number], ReturnType<typeof Type.Integer>>,
  { description: 'Deliveries per state' })

export const Dispatch = Type.Object({
  id: DispatchId,
  text: Type.String(),
  whatsapp_template: Type.Optional(WhatsAppTemplate),
  status: Type.Union([Type.Literal('scheduled'), Type.Literal('in_progress'), Type.Literal('finished')], {
    description: 'scheduled: waiting for send_at; in_progress: deliveries pending; finished: nothing scheduled, queued or sending (receipts may still move deliveries from sent to delivered, read or failed)'
  }),
  created_at: Time,
  send_at: Time,
  expires_at: Type.Optional(Time),
  local_window: Type.Optional(LocalWindow),
  skip_unreachable: Type.Optional(Type.Literal(true, { description: 'Present when addresses marked dead are skipped (suppressed, reason address_unreachable)' })),
  revision: Type.Integer({ description: 'Bumped by each edit (PATCH); 0 for one never edited' }),
  total: Type.Integer({ description: 'Deliveries (purged ones no longer count)' }),
  counts: Counts,
  by_messenger: Type.Object(Object.fromEntries(MESSENGERS.map((m) => [m, Type.Optional(Counts)])) as Record<typeof MESSENGERS[number], ReturnType<typeof Type.Optional<typeof Counts>>>, {
    description: 'The same counts per messenger, for each messenger the dispatch has deliveries on'
  })
})

export const DispatchList = Type.Object({
  dispatches: Type.Array(Dispatch, { description: 'Newest first' }),
  totals: Type.Object({
    dispatches: Type.Integer(),
    counts: Counts
  }, { description: 'Across all the user\'s dispatches, not just this page' }),
  next_cursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' }))
})

export const Delivery = Type.Object({
  id: DeliveryId,
  dispatch_id: DispatchId,
  contact: Type.Optional(Type.String({ description: 'Absent for a direct address' })),
  messenger: MessengerName,
  address: Type.String({ description: 'As sent (a Telegram username with its @)' }),
  text: Type.String(),
  state: State,
  attempts: Type.Integer({ description: 'Sends tried (since the last redrive)' }),
  created_at: Time,
  send_at: Time,
  expires_at: Type.Optional(Time),
  due_at: Type.Optional({ ...Time, description: 'Held for its contact\'s local window (the dispatch\'s `local_window`) until this time' }),
  updated_at: Time,
  finished_at: Type.Optional(Time),
  url: Type.Optional(Type.String({ description: 'Where the last attempt went (without the token)' })),
  last_error: Type.Optional(Type.String()),
  provider_message_id: Type.Optional(Type.String({ description: 'The messenger\'s id for the message, once it accepted it' })),
  sent_as: Type.Optional(Type.Literal('template', { description: 'WhatsApp got the dispatch\'s template instead of the text' })),
  migrated_from: Type.Optional(Type.String({ description: 'A Telegram group that became a supergroup: the chat id it was first sent to (`address` is the new one)' })),
  receipts: Type.Array(Type.Object({
    state: Type.Enum(RECEIPT_STATUSES),
    at: Time,
    code: Type.Optional(Type.Union([Type.Integer(), Type.String()], { description: 'The messenger\'s error code, for a failure' }))
  }), { description: 'What the messenger said after it accepted the send, each status once, as it stamped them (order by `at`: receipts come in any order). Telegram sends none.' }),
  duplicate_of: Type.Optional(Type.String({ description: 'For a suppressed delivery: the one it repeats' })),
  reason: Type.Optional(Type.Enum(SUPPRESSED_REASONS, {
    description: 'For a suppressed delivery, why it was not sent: `duplicate` (it repeats `duplicate_of`) or `address_unreachable` ' +
      '(the address is marked dead, see a contact\'s `health`, and the dispatch asked for `skip_unreachable`)'
  }))
})

export const DeliveryList = Type.Object({
  deliveries: Type.Array(Delivery, { description: 'Newest first; a page may hold fewer than `limit` when filters skip many' }),
  next_cursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent when there is nothing more' }))
})

const Cursor = (of: string) => Type.String({ pattern: of, description: 'The `next_cursor` of the previous page' })
const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })

export const DispatchListQuery = Type.Object({
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor(`^${DISPATCH_ID_PATTERN}$`))
}, { additionalProperties: false })

export const DeliveryListQuery = Type.Object({
  state: Type.Optional(State),
  dispatch: Type.Optional(DispatchId),
  contact: Type.Optional(ContactName),
  messenger: Type.Optional(MessengerName),
  from: Type.Optional({ ...Time, description: 'Created at or after this time' }),
  to: Type.Optional({ ...Time, description: 'Created before this time' }),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor(`^${DELIVERY_ID_PATTERN}$`))
}, { additionalProperties: false })
export type DeliveryListQuery = Static<typeof DeliveryListQuery>

export const PurgeQuery = Type.Object({
  before: Type.Optional({ ...Time, description: 'Only deliveries that finished before this time' })
}, { additionalProperties: false })

export const Purged = Type.Object({
  purged: Type.Integer({ description: 'Finished deliveries deleted (delivered, failed, cancelled, expired, suppressed)' })
})

export const CancelReport = Type.Object({
  cancelled: Type.Array(DeliveryId, { description: 'Not yet sent: now `cancelled`' }),
  in_flight: Type.Array(DeliveryId, { description: 'Being sent right now: it may arrive; if it fails it is not retried but ends `cancelled`' }),
  already_finished: Type.Array(Type.Object({ id: DeliveryId, state: State }), { description: 'Already finished (sent, failed...): left as they were' })
})

export const RedriveReport = Type.Object({
  redriven: Type.Array(DeliveryId, { description: 'Failed deliveries queued again, with a fresh attempt budget' }),
  not_failed: Type.Array(Type.Object({ id: DeliveryId, state: State }), { description: 'Deliveries that were not failed: left as they were (a delivered one is never resent)' })
})

export const DispatchParams = Type.Object({ id: DispatchId })
export const DeliveryParams = Type.Object({ id: DeliveryId })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'Makes a retry safe: the same key with the same body answers the first answer (for 24 h)'
  }))
})

/** At most this many ids in one lookup or cancel by ids. */
export const MAX_IDS = 1000

export const DeliveryIdsBody = Type.Object({
  ids: Type.Array(DeliveryId, { minItems: 1, maxItems: MAX_IDS, description: `1 to ${MAX_IDS} delivery ids; a repeated id is answered once` })
}, { additionalProperties: false })
export type DeliveryIdsBody = Static<typeof DeliveryIdsBody>

const UnknownIds = Type.Array(DeliveryId, { description: 'Ids with no delivery of the user\'s: never made, purged, or another user\'s (told apart from none)' })

export const DeliveryLookup = Type.Object({
  deliveries: Type.Array(Delivery, { description: 'The deliveries found, in the order asked' }),
  unknown: UnknownIds
}, { description: 'Every id asked for is in exactly one of the two lists' })

export const CancelByIdsReport = Type.Object({
  ...CancelReport.properties,
  unknown: UnknownIds
}, { description: 'Every id asked for is in exactly one of the lists' })

export const DispatchEventsQuery = Type.Object({
  user: Type.Optional({ ...UserName, description: 'With AUTH=off, the user the stream is for, as X-User-Name (which an EventSource cannot send); with a key, if given, it must name the key\'s owner' })
}, { additionalProperties: false })

export const DispatchEventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 64, description: 'The id of the last event received: the stream sends the current state at once only if it differs (a finished one answers 204)' }))
})

export const DispatchEventStream = {
  description: 'Server-Sent Events: `progress` (the dispatch as GET /v1/dispatches/{id} shows it, whenever its counts change, a few a second at most), ' +
    'then `finished` (nothing pending) and the end of the stream. Each id names the state it carries; comments keep a quiet stream open.',
  content: { 'text/event-stream': { schema: { type: 'string' } } }
}
export const StreamFinished = Type.Null({ description: 'The Last-Event-ID is the finished state: nothing more will come (an EventSource stops reconnecting)' })
