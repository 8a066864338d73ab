/**
 * A bare HTTP server on a free loopback port standing in for the service's
 * webhooks: it keeps every request as it came (raw body bytes included) and
 * answers what the test tells it to (200 unless told otherwise).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export interface ReceivedRequest {
  method: string
  /** Path and query, as requested. */
  url: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The raw body, as bytes and as text. */
  raw: Buffer
  body: string
  at: number
}

/** What to answer: an HTTP status, or 'hang' to never answer. */
export type Answer = number | 'hang'

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  /** Sets how later requests are answered. */
  answer: (how: Answer | ((request: ReceivedRequest) => Answer)) => void
  /** Resolves once `predicate` holds for the requests so far; throws after `timeoutMs`. */
  until: (predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string) => Promise<ReceivedRequest[]>
}

export async function startReceiver (t: Test): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  let decide: (request: ReceivedRequest) => Answer = () => 200
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const url = new URL(req.url ?? '/', 'http://receiver')
      const request: ReceivedRequest = {
        method: req.method ?? '', url: req.url ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, raw, body: raw.toString('utf8'), at: Date.now()
      }
      requests.push(request)
      const how = decide(request)
      if (how === 'hang') return
      res.writeHead(how, { 'content-type': 'text/plain' }).end(how < 300 ? 'ok' : 'no')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the receiver has no port')
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    answer (how) { decide = typeof how === 'function' ? how : () => how },
    async until (predicate, timeoutMs = 10_000, what = 'the expected requests') {
      const deadline = Date.now() + timeoutMs
      while (!predicate(requests)) {
        if (Date.now() > deadline) throw new Error(`the receiver did not get ${what} within ${timeoutMs} ms (it got ${requests.length} requests)`)
        await sleep(10)
      }
      return requests
    }
  }
}
