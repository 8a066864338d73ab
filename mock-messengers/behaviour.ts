/**
 * How each mock messenger behaves: latency, rejections, 5xx bursts and
 * rates, a rate limit answered in the messenger's own throttle shape,
 * outages that reset or hang, garbage answers, and the receipts that follow
 * an accepted send. Set at start (MOCK_BEHAVIOUR) and changed at run time
 * with PUT /_mock/behaviour/{messenger}.
 */
import { Type, type Static } from 'typebox'

const Probability = () => Type.Number({ minimum: 0, maximum: 1 })
const DelayRange = () => Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })])

/**
 * The receipts (WhatsApp status webhooks, Viber callbacks) that follow each
 * accepted send, when the mock has somewhere to send them. Telegram has none,
 * so its `receipts` changes nothing.
 */
export const Receipts = Type.Object({
  /** Each receipt waits a random time in [min, max] ms after the one before it (the first: after the send). */
  delayMs: DelayRange(),
  /** An accepted send fails later, by receipt, with this probability: one `failed` instead of the rest. */
  failRate: Probability(),
  /** The WhatsApp error code of those failures (131026: Message undeliverable). */
  failCode: Type.Integer({ minimum: 0 }),
  /** A delivered message is then read (WhatsApp `read`, Viber `seen`) with this probability. */
  readRate: Probability(),
  /** Each receipt is sent twice with this probability (as the platforms sometimes do). */
  duplicateRate: Probability(),
  /** A message's receipts in random order instead of sent, delivered, read (the platforms do both). */
  shuffle: Type.Boolean()
}, { additionalProperties: false })
export type Receipts = Static<typeof Receipts>

const fields = {
  /** Each answer waits a random time in [min, max] ms first (one origin system emulated 1-3 s). */
  latencyMs: DelayRange(),
  /** Answer every send with the messenger's own permanent error. */
  reject: Type.Boolean(),
  /** A burst: the next N sends get a 5xx. */
  failNext: Type.Integer({ minimum: 0 }),
  /** Each send gets a 5xx with this probability. */
  errorRate: Probability(),
  /** The status of those 5xx answers. */
  errorStatus: Type.Integer({ minimum: 500, maximum: 599 }),
  /** Sends beyond this many per second get the messenger's throttle answer (0: no limit). */
  ratePerSecond: Type.Integer({ minimum: 0 }),
  /** `refuse`: reset every connection at once; `hang`: never answer. */
  outage: Type.Union([Type.Literal('none'), Type.Literal('refuse'), Type.Literal('hang')]),
  /** Answer 200 with a body that is not JSON, or JSON of the wrong shape. */
  garbage: Type.Union([Type.Literal('none'), Type.Literal('invalid-json'), Type.Literal('wrong-shape')])
}

export const Behaviour = Type.Object({ ...fields, receipts: Receipts }, { additionalProperties: false })
export type Behaviour = Static<typeof Behaviour>

/** A change names only what it changes, `receipts` included: `{"receipts": {"readRate": 0}}` leaves its other knobs. */
export const BehaviourChange = Type.Partial(Type.Object({
  ...fields,
  receipts: Type.Partial(Receipts, { additionalProperties: false })
}), { additionalProperties: false })
export type BehaviourChange = Static<typeof BehaviourChange>

export const BehaviourConfig = Type.Partial(Type.Object({
  telegram: BehaviourChange,
  whatsapp: BehaviourChange,
  viber: BehaviourChange
}), { additionalProperties: false })
export type BehaviourConfig = Static<typeof BehaviourConfig>

/** WhatsApp's "Message undeliverable": what a failed receipt says unless failCode says otherwise. */
export const WHATSAPP_UNDELIVERABLE = 131026

export const DEFAULT_RECEIPTS: Receipts = {
  delayMs: [50, 1000],
  failRate: 0,
  failCode: WHATSAPP_UNDELIVERABLE,
  readRate: 1,
  duplicateRate: 0,
  shuffle: false
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  latencyMs: [0, 0],
  reject: false,
  failNext: 0,
  errorRate: 0,
  errorStatus: 503,
  ratePerSecond: 0,
  outage: 'none',
  garbage: 'none',
  receipts: DEFAULT_RECEIPTS
}

/** `behaviour` with `change` applied; a `receipts` change keeps the receipt knobs it does not name. */
export function changed (behaviour: Behaviour, change: BehaviourChange): Behaviour {
  return { ...behaviour, ...change, receipts: { ...behaviour.receipts, ...change.receipts } }
}
