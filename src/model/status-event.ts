/**
 * The events a user's status webhook endpoints may subscribe to: a delivery's
 * state changes the delivery scripts record (lua/includes/move-delivery.lua
 * appends them to the user's event stream), a dispatch's end, and a
 * contact's address connected by invite (src/plugins/app/invites.ts).
 */
export const STATUS_EVENTS = [
  'delivery.sent',
  'delivery.delivered',
  'delivery.read',
  'delivery.failed',
  'delivery.expired',
  'delivery.cancelled',
  'dispatch.finished',
  'contact.connected'
] as const

export type StatusEvent = typeof STATUS_EVENTS[number]

/** What POST /v1/webhooks/{id}/test sends: not a subscribable event, sent whatever the endpoint subscribes to. */
export const TEST_EVENT = 'webhook.test'

export type MessageType = StatusEvent | typeof TEST_EVENT

export function isStatusEvent (type: string): type is StatusEvent {
  return (STATUS_EVENTS as readonly string[]).includes(type)
}
