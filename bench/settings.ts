/**
 * The sizes of `npm run bench`, from the environment. The defaults are the
 * issue's; BENCH_SCALE multiplies every count and the autocannon duration
 * (BENCH_SCALE=0.1 is a quick run of about a minute), and each knob can be
 * set on its own, which wins over the scale.
 *
 *   BENCH_SCALE                 1       multiplies the counts and durations below
 *   BENCH_ONLY                  all     comma list of sections: api,acceptance,pipeline,receipts,latency,memory,import,deployments,webhooks
 *   BENCH_RESULTS               bench-results.json   where the JSON goes
 *   BENCH_API_SECONDS           10      one autocannon run
 *   BENCH_API_WARMUP_SECONDS    2       an unmeasured run before each measured one
 *   BENCH_API_CONNECTIONS       10      autocannon connections
 *   BENCH_LIST_CONTACTS         100     contacts in the book the list scenario reads
 *   BENCH_SEND_CONTACTS         10      contacts per send in the API scenario
 *   BENCH_ACCEPT_CONTACTS       1000,10000,33333   contacts per acceptance send (x3 deliveries)
 *   BENCH_ACCEPT_REPEATS        3       sends per size; the median is reported
 *   BENCH_PIPELINE_DELIVERIES   30000   deliveries through the pipeline
 *   BENCH_PIPELINE_CONCURRENCY  20      per messenger (the service's default)
 *   BENCH_LATENCY_DELIVERIES    10000   deliveries with the mock answering in 1-3 s
 *   BENCH_LATENCY_CONCURRENCY   200     per messenger (not scaled: with few deliveries per sender slot,
 *                                       as at BENCH_SCALE=0.1, the last round's wait weighs more and the ratio grows)
 *   BENCH_LATENCY_MS            1000,3000    the mock's latency range
 *   BENCH_MEMORY_DELIVERIES     1000000 deliveries scheduled a year ahead (a tenth as many sent to the end)
 *   BENCH_MEMORY_CONTACTS       1000    contacts per scheduling send
 *   BENCH_RECEIPTS_DELIVERIES   10000   WhatsApp deliveries whose three statuses each are posted to the webhook
 *   BENCH_RECEIPTS_BATCH        10      statuses per webhook POST (not scaled)
 *   BENCH_RECEIPTS_CONNECTIONS  10      webhook POSTs at once (not scaled)
 *   BENCH_IMPORT_ROWS           100000  rows of the CSV file imported
 *   BENCH_IMPORT_REPEATS        3       imports of it into a new book; the median is reported
 *   BENCH_WEBHOOK_DELIVERIES    10000   deliveries whose delivery.sent events go to a local receiver
 *   BENCH_WEBHOOK_CONCURRENCY   50      webhook attempts in flight (the service's default; not scaled)
 */

export const SECTIONS = ['api', 'acceptance', 'pipeline', 'receipts', 'latency', 'memory', 'import', 'deployments', 'webhooks'] as const
export type Section = typeof SECTIONS[number]

export interface Settings {
  scale: number
  sections: Section[]
  resultsPath: string
  api: { seconds: number, warmupSeconds: number, connections: number, listContacts: number, sendContacts: number }
  acceptance: { contacts: number[], repeats: number }
  pipeline: { deliveries: number, concurrency: number }
  latency: { deliveries: number, concurrency: number, latencyMs: [number, number] }
  memory: { deliveries: number, contactsPerSend: number }
  receipts: { deliveries: number, batch: number, connections: number }
  import: { rows: number, repeats: number }
  webhooks: { deliveries: number, concurrency: number }
}

function numberFrom (env: NodeJS.ProcessEnv, name: string, fallback: number, { min = 1, integer = true } = {}): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got "${raw}"`)
  }
  return value
}

function listFrom (env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const values = raw.split(',').map((part) => Number(part.trim()))
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a comma list of positive integers, got "${raw}"`)
  return values
}

export function loadSettings (env: NodeJS.ProcessEnv = process.env): Settings {
  const scale = numberFrom(env, 'BENCH_SCALE', 1, { min: 0.001, integer: false })
  const scaled = (n: number) => Math.max(1, Math.round(n * scale))
  const only = (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s))
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`)
  const latency = listFrom(env, 'BENCH_LATENCY_MS', [1000, 3000])
  if (latency.length !== 2 || latency[0]! > latency[1]!) throw new Error('BENCH_LATENCY_MS must be "min,max"')

  return {
    scale,
    sections: only.length > 0 ? only as Section[] : [...SECTIONS],
    resultsPath: env.BENCH_RESULTS ?? 'bench-results.json',
    api: {
      seconds: numberFrom(env, 'BENCH_API_SECONDS', scaled(10)),
      warmupSeconds: numberFrom(env, 'BENCH_API_WARMUP_SECONDS', scale < 1 ? 1 : 2),
      connections: numberFrom(env, 'BENCH_API_CONNECTIONS', 10),
      listContacts: numberFrom(env, 'BENCH_LIST_CONTACTS', 100),
      sendContacts: numberFrom(env, 'BENCH_SEND_CONTACTS', 10)
    },
    acceptance: {
      contacts: listFrom(env, 'BENCH_ACCEPT_CONTACTS', [scaled(1000), scaled(10_000), scaled(33_333)]),
      repeats: numberFrom(env, 'BENCH_ACCEPT_REPEATS', 3)
    },
    pipeline: {
      deliveries: numberFrom(env, 'BENCH_PIPELINE_DELIVERIES', scaled(30_000)),
      concurrency: numberFrom(env, 'BENCH_PIPELINE_CONCURRENCY', 20)
    },
    latency: {
      deliveries: numberFrom(env, 'BENCH_LATENCY_DELIVERIES', scaled(10_000)),
      concurrency: numberFrom(env, 'BENCH_LATENCY_CONCURRENCY', 200),
      latencyMs: [latency[0]!, latency[1]!]
    },
    memory: {
      deliveries: numberFrom(env, 'BENCH_MEMORY_DELIVERIES', scaled(1_000_000)),
      contactsPerSend: numberFrom(env, 'BENCH_MEMORY_CONTACTS', 1000)
    },
    receipts: {
      deliveries: numberFrom(env, 'BENCH_RECEIPTS_DELIVERIES', scaled(10_000)),
      batch: numberFrom(env, 'BENCH_RECEIPTS_BATCH', 10),
      connections: numberFrom(env, 'BENCH_RECEIPTS_CONNECTIONS', 10)
    },
    import: {
      rows: numberFrom(env, 'BENCH_IMPORT_ROWS', scaled(100_000)),
      repeats: numberFrom(env, 'BENCH_IMPORT_REPEATS', 3)
    },
    webhooks: {
      deliveries: numberFrom(env, 'BENCH_WEBHOOK_DELIVERIES', scaled(10_000)),
      concurrency: numberFrom(env, 'BENCH_WEBHOOK_CONCURRENCY', 50)
    }
  }
}
