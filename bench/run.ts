/**
 * `npm run bench`: the service measured against its own limits, each figure
 * next to a baseline measured in the same run (the machine's other load
 * weighs on both), with the ratio and the issue's target. Prints a table and
 * writes JSON (BENCH_RESULTS, default bench-results.json). Targets missed are
 * reported, not failed: the exit code is non-zero only when a section could
 * not be measured.
 *
 *   npm run bench                                  (everything, the issue's sizes: a few minutes)
 *   BENCH_SCALE=0.1 npm run bench                  (a quick run)
 *   BENCH_ONLY=api,memory npm run bench            (some sections)
 *   BENCH_ONLY=pipeline,webhooks npm run bench     (the status webhooks beside the pipeline)
 *
 * Sizes and knobs: bench/settings.ts. The routes used: bench/routes.ts.
 */
import { cpus, loadavg } from 'node:os'
import { resolve } from 'node:path'
import { runAcceptance } from './acceptance.js'
import { runApi } from './api.js'
import { runDeployments } from './deployments.js'
import { runImport } from './import.js'
import { runLatency } from './latency.js'
import { runMemory } from './memory.js'
import { runPipeline } from './pipeline.js'
import { runReceipts } from './receipts.js'
import { runWebhooks } from './webhooks.js'
import { notes, table, writeJson, type Section } from './report.js'
import { loadSettings, type Section as SectionName, type Settings } from './settings.js'
import { redisClient } from './support.js'

const RUNNERS: Record<SectionName, (settings: Settings) => Promise<Omit<Section, 'seconds'>>> = {
  api: runApi,
  acceptance: runAcceptance,
  pipeline: runPipeline,
  receipts: runReceipts,
  latency: runLatency,
  memory: runMemory,
  import: runImport,
  deployments: runDeployments,
  webhooks: runWebhooks
}

const settings = loadSettings()
const startedAt = new Date()
const wallStart = performance.now()
const redis = redisClient('bench-run')
const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1]
redis.disconnect()
const environment = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, redis: redisVersion, loadAverageAtStart: loadavg() }
console.log(`bench: ${settings.sections.join(', ')} (scale ${settings.scale}); node ${process.version}, ${cpus().length} cores, Redis ${redisVersion}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

const sections: Section[] = []
const errors: Array<{ section: string, error: string }> = []
for (const name of settings.sections) {
  const t0 = performance.now()
  process.stdout.write(`bench: ${name}...`)
  try {
    const result = await RUNNERS[name](settings)
    sections.push({ ...result, seconds: (performance.now() - t0) / 1000 })
    console.log(` ${Math.round((performance.now() - t0) / 1000)} s`)
  } catch (err) {
    console.log(' FAILED')
    console.error(err)
    errors.push({ section: name, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
}

const wallSeconds = (performance.now() - wallStart) / 1000
const path = resolve(settings.resultsPath)
writeJson(path, { startedAt: startedAt.toISOString(), wallSeconds, settings, environment: { ...environment, loadAverageAtEnd: loadavg() }, sections, errors })

console.log('')
console.log(table(sections))
console.log('')
console.log(notes(sections))
const missed = sections.flatMap((s) => s.figures).filter((f) => f.met === false).length
const targets = sections.flatMap((s) => s.figures).filter((f) => f.met !== undefined).length
console.log('')
console.log(`targets met: ${targets - missed} of ${targets}${errors.length > 0 ? `; sections that failed: ${errors.map((e) => e.section).join(', ')}` : ''}`)
console.log(`wall time ${Math.round(wallSeconds)} s; JSON in ${path}`)
process.exit(errors.length > 0 ? 1 : 0)
