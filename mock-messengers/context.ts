/**
 * What the parts of the mock share: its options and profile, each
 * messenger's behaviour, the records of what it received, the platforms'
 * state, and the receipts machinery. buildMock (app.ts) makes one per mock.
 */
import type { Messenger } from '../src/model/messenger.js'
import type { Behaviour } from './behaviour.js'
import type { MockOptions, MockProfile } from './config.js'
import type { Faults } from './faults.js'
import type { PlatformState } from './platform-state.js'
import type { ReceiptDelivery, ReceiptMessenger } from './receipt-delivery.js'
import type { ReceiptSchedule } from './receipts.js'
import type { MessageRecords } from './records.js'

export interface MockContext {
  options: MockOptions
  profile: MockProfile
  /** `realistic`: the platforms' rules apply. */
  realistic: boolean
  behaviour: Record<Messenger, Behaviour>
  records: MessageRecords
  faults: Faults
  state: PlatformState
  delivery: ReceiptDelivery
  schedule: ReceiptSchedule
  /** Where a platform's webhook POSTs go now; undefined: nowhere (no receipts). */
  webhookUrl: (messenger: ReceiptMessenger) => string | undefined
}
