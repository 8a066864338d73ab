/**
 * How each mock messenger behaves: latency, rejections, 5xx bursts and
 * rates, a rate limit answered in the messenger's own throttle shape,
 * outages that reset or hang, garbage answers. Set at start (MOCK_BEHAVIOUR)
 * and changed at run time with PUT /_mock/behaviour/{messenger}.
 */
import { Type, type Static } from 'typebox'

export const Behaviour = Type.Object({
  /** Each answer waits a random time in [min, max] ms first (one origin system emulated 1-3 s). */
  latencyMs: Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]),
  /** Answer every send with the messenger's own permanent error. */
  reject: Type.Boolean(),
  /** A burst: the next N sends get a 5xx. */
  failNext: Type.Integer({ minimum: 0 }),
  /** Each send gets a 5xx with this probability. */
  errorRate: Type.Number({ minimum: 0, maximum: 1 }),
  /** The status of those 5xx answers. */
  errorStatus: Type.Integer({ minimum: 500, maximum: 599 }),
  /** Sends beyond this many per second get the messenger's throttle answer (0: no limit). */
  ratePerSecond: Type.Integer({ minimum: 0 }),
  /** `refuse`: reset every connection at once; `hang`: never answer. */
  outage: Type.Union([Type.Literal('none'), Type.Literal('refuse'), Type.Literal('hang')]),
  /** Answer 200 with a body that is not JSON, or JSON of the wrong shape. */
  garbage: Type.Union([Type.Literal('none'), Type.Literal('invalid-json'), Type.Literal('wrong-shape')])
}, { additionalProperties: false })
export type Behaviour = Static<typeof Behaviour>

export const BehaviourChange = Type.Partial(Behaviour, { additionalProperties: false })
export const BehaviourConfig = Type.Partial(Type.Object({
  telegram: BehaviourChange,
  whatsapp: BehaviourChange,
  viber: BehaviourChange
}), { additionalProperties: false })
export type BehaviourConfig = Static<typeof BehaviourConfig>

export const DEFAULT_BEHAVIOUR: Behaviour = {
  latencyMs: [0, 0],
  reject: false,
  failNext: 0,
  errorRate: 0,
  errorStatus: 503,
  ratePerSecond: 0,
  outage: 'none',
  garbage: 'none'
}
