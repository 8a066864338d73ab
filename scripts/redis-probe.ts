/**
 * What a Redis on this machine answers to PING: `+PONG`, `-NOAUTH ...` (up,
 * and asking for a password), or undefined when nothing answers. `npm start`
 * waits on it for its own Redis, and so does a test that starts one.
 */
import { createConnection } from 'node:net'

export async function redisPingReply (port: number): Promise<string | undefined> {
  return await new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'))
    socket.once('data', (data) => { socket.destroy(); resolve(data.toString()) })
    socket.once('error', () => resolve(undefined))
  })
}
