/**
 * A Server-Sent Events client for the tests, as a program would read a
 * stream: fetch, then eventsource-parser over the body. It keeps every event,
 * says when the stream ended, and can leave (abort) at any time.
 */
import type { Test } from 'tap'
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream'

export interface OpenStream {
  status: number
  headers: Headers
  /** The events so far, data parsed as JSON. */
  events: Array<{ id: string | undefined, event: string | undefined, data: any }>
  /** Resolves once the server has ended the stream (or the client left). */
  ended: Promise<void>
  /** Whether the server ended it (not the client). */
  endedByServer (): boolean
  /** The body text of a non-stream answer (an error, a 204's nothing). */
  text: string
  /** Leaves: the client goes away, as a closed tab would. */
  leave (): void
}

/** Opens GET `url` as an event stream with these headers; aborted when the test ends. */
export async function openStream (t: Test, url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const controller = new AbortController()
  t.teardown(() => { controller.abort() })
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const events: OpenStream['events'] = []
  let byServer = false
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const text = await res.text()
    return { status: res.status, headers: res.headers, events, ended: Promise.resolve(), endedByServer: () => true, text, leave: () => {} }
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader()
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read() as { done: boolean, value: EventSourceMessage }
        if (done) { byServer = true; return }
        events.push({ id: value.id, event: value.event, data: JSON.parse(value.data) })
      }
    } catch {
      // aborted by the client
    }
  })()
  return { status: res.status, headers: res.headers, events, ended, endedByServer: () => byServer, text: '', leave: () => { controller.abort() } }
}
