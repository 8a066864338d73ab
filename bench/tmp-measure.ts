import { Redis } from 'ioredis'
import { loadScripts } from '../src/redis-scripts.js'
const redis = new Redis(process.env.REDIS_URL!)
const script = loadScripts('src/contacts/lua', 'contact').find((s) => s.name === 'contactWriteBatch')!.lua
const sha = await redis.script('LOAD', script) as string
await redis.flushall()
for (let b = 0; b < 100; b++) {
  const args: string[] = []
  for (let i = b * 1000; i < (b + 1) * 1000; i++) args.push(`contact-${i}`, JSON.stringify({ telegram: String(1_000_000 + i), tags: ['all', `g${i % 10}`], timezone: 'Europe/Moscow' }))
  const t = performance.now()
  await redis.evalsha(sha, 2, 'm:c', 'm:n', 'm', 'u', 'upsert', '0', '100000', ...args)
  if (b % 10 === 0) console.log(b, Math.round(performance.now() - t), 'ms', await redis.zcard('m:n'), await redis.hlen('m:c'))
}
redis.disconnect()
