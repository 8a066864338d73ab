/**
 * Follows a dispatch through its event stream (GET /v1/dispatches/{id}/events)
 * until it is finished: no polling, the service pushes each change. A stream
 * that ends early (the service restarted, the network dropped) is opened again
 * with Last-Event-ID, so nothing is missed and nothing is repeated; after a few
 * failed tries in a row it gives up (exit 5).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { paths } from './api-types.js'
import { answerError, unreachable, type Api } from './client.js'
import { CliError, EXIT } from './errors.js'
import type { Settings } from './settings.js'

/** A dispatch as the API shows it. */
export type DispatchView = paths['/v1/dispatches/{id}']['get']['responses']['200']['content']['application/json']
export type FollowEvent = 'progress' | 'finished'

/** The wait before the first retry, doubled each time up to MAX_WAIT_MS (the service's `retry:` sets its own start). */
const FIRST_RETRY_MS = 1000
const MAX_WAIT_MS = 10_000

export interface FollowOptions {
  /** Stops following (Ctrl-C). */
  signal?: AbortSignal
  /** Told when the stream is lost and opened again. */
  onReconnect?: (attempt: number, why: string) => void
}

/** Calls `onEvent` with each state of the dispatch until it is finished; resolves with the finished one. */
export async function followDispatch (api: Api, settings: Settings, id: string, onEvent: (view: DispatchView, event: FollowEvent) => void,
  options: FollowOptions = {}): Promise<DispatchView> {
  let lastId: string | undefined
  let last: DispatchView | undefined
  let retryMs = FIRST_RETRY_MS
  let failures = 0
  // Tries go on while the stream has been lost for less than settings.reconnectSeconds.
  let lostSince: number | undefined
  for (;;) {
    let why: string
    try {
      const { response, error, data } = await api.GET('/v1/dispatches/{id}/events', {
        params: { path: { id }, ...(lastId !== undefined && { header: { 'last-event-id': lastId } }) },
        headers: { accept: 'text/event-stream' },
        parseAs: 'stream',
        ...(options.signal !== undefined && { signal: options.signal })
      })
      // The service says we have the finished state already.
      if (response.status === 204 && last !== undefined) return last
      if (!response.ok) throw answerError(settings, response, error)
      const messages = (data as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream({ onRetry: (ms) => { retryMs = ms } }))
      for await (const message of messages) {
        if (message.event !== 'progress' && message.event !== 'finished') continue
        lastId = message.id
        last = JSON.parse(message.data) as DispatchView
        failures = 0
        lostSince = undefined
        onEvent(last, message.event)
        if (message.event === 'finished') return last
      }
      why = 'the service ended the stream'
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      if (err instanceof CliError) throw err
      why = unreachable(settings, err).message
    }
    failures++
    lostSince ??= Date.now()
    const wait = Math.min(MAX_WAIT_MS, retryMs * 2 ** (failures - 1))
    if (Date.now() + wait - lostSince > settings.reconnectSeconds * 1000) {
      throw new CliError(`lost the event stream of dispatch ${id} (${why}), ${failures} times in a row over ${Math.round((Date.now() - lostSince) / 1000)} s`, EXIT.unavailable,
        `the dispatch goes on without us: follow it again with \`fanout dispatches watch ${id}\``)
    }
    options.onReconnect?.(failures, why)
    await sleep(wait, undefined, options.signal !== undefined ? { signal: options.signal } : {})
  }
}
