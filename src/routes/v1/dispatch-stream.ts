/**
 * One dispatch's event stream (GET /v1/dispatches/{id}/events): the
 * dispatch as GET /v1/dispatches/{id} shows it, sent whenever its counts
 * change (coalesced by the shared reader: a few events a second at most),
 * until it is finished.
 *
 *   event: progress   the dispatch, with pending deliveries
 *   event: finished   the dispatch once nothing is pending; the stream then ends
 *
 * Each event's id names the state it carries (a digest of its status and
 * counts). A client that reconnects with `Last-Event-ID` gets the current
 * state at once only if it differs from the one it has; one that already has
 * the finished state gets a 204, which tells an EventSource to stop.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import type { DispatchEvents } from '../../plugins/app/dispatch-events.js'
import type { Dispatch } from '../../model/delivery.js'
import { dispatchView } from '../../deliveries/delivery-views.js'

type View = ReturnType<typeof dispatchView>

/** How soon an EventSource reconnects after losing the stream. */
const RETRY_MS = 1000

/** The event id of a view: the same for the same progress, whatever the time it was read. */
export function progressId (view: View): string {
  const moving = JSON.stringify([view.status, view.total, view.counts, view.by_messenger])
  return createHash('sha256').update(moving).digest('base64url').slice(0, 16)
}

/** Streams the dispatch (already checked to be the caller's) until it is finished, the client goes, or the app closes. */
export async function streamDispatch (reply: FastifyReply, dispatch: Dispatch, events: DispatchEvents): Promise<void> {
  const { sse } = reply
  const first = dispatchView(dispatch)
  let sentId = sse.lastEventId ?? undefined
  if (sentId === progressId(first) && first.status === 'finished') {
    await reply.code(204).send()
    return
  }

  let ended = false
  const send = (view: View, retry?: number) => {
    const id = progressId(view)
    if (id === sentId || ended) return
    sentId = id
    // Writes go out in order; a write to a client that just went is dropped with it.
    sse.send({ id, event: view.status === 'finished' ? 'finished' : 'progress', data: view, ...(retry !== undefined && { retry }) }).catch(() => {})
  }

  await new Promise<void>((resolve) => {
    const end = () => {
      if (ended) return
      ended = true
      stopWatching()
      forget()
      sse.close()
      resolve()
    }
    const stopWatching = events.progress.watch(dispatch.id, (counts) => {
      if (counts === undefined) { end(); return }
      const view = dispatchView({ ...dispatch, ...counts })
      send(view)
      if (view.status === 'finished') end()
    })
    const forget = events.track(end)
    sse.onClose(end)
    // A client that went while the dispatch was read has closed already: its close callbacks ran before this one was there.
    if (!sse.isConnected) { end(); return }
    // Commits the stream even when the client already has this state (then no first event).
    sse.sendHeaders()
    send(first, RETRY_MS)
    if (first.status === 'finished') end()
  })
}
