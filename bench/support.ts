/** What the benchmarks share: free loopback ports and JSON calls to the running service. */
import { once } from 'node:events'
import { createServer } from 'node:net'
import { request } from 'undici'

export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/** A JSON request; anything but 200 is an error (a benchmark must not count failures as work). */
export async function callJson (url: string, method: 'POST' | 'PUT' | 'GET', body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) })
  const answer = await res.body.json() as Record<string, unknown>
  if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${JSON.stringify(answer)}`)
  return answer
}
