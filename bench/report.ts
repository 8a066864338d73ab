/** The figures of a run: a table for people, JSON for tools. */
import { writeFileSync } from 'node:fs'

export interface Figure {
  section: string
  /** What was measured, e.g. "create contact (POST /api/contacts): throughput". */
  name: string
  value: number
  unit: string
  baseline?: { name: string, value: number }
  /** value / baseline.value, unless the scenario defines it otherwise (then `ratioOf` says how). */
  ratio?: number
  ratioOf?: string
  /** The issue's target, in words, and whether this run met it. */
  target?: string
  met?: boolean
  /** Everything else worth keeping (samples, settings), in the JSON only. */
  detail?: Record<string, unknown>
}

export interface Section {
  section: string
  figures: Figure[]
  /** Notes printed under the table: settings and formulas. */
  notes: string[]
  seconds: number
}

/** A figure compared with its baseline: ratio = value / baseline. */
export function compare (section: string, name: string, value: number, unit: string, baseline: { name: string, value: number }, extra: Partial<Figure> = {}): Figure {
  return { section, name, value, unit, baseline, ratio: baseline.value === 0 ? Number.NaN : value / baseline.value, ...extra }
}

function formatNumber (value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits })
}

const withUnit = (value: number, unit: string) => `${formatNumber(value)} ${unit}`.trim()

export function table (sections: Section[]): string {
  const header = ['section', 'figure', 'measured', 'baseline', 'ratio', 'target', 'met']
  const rows = sections.flatMap((s) => s.figures.map((f) => [
    f.section,
    f.name,
    withUnit(f.value, f.unit),
    f.baseline === undefined ? '' : `${withUnit(f.baseline.value, f.unit)} (${f.baseline.name})`,
    f.ratio === undefined ? '' : formatNumber(f.ratio),
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'yes' : 'NO'
  ]))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n')
}

export function notes (sections: Section[]): string {
  return sections.map((s) => `${s.section} (${Math.round(s.seconds)} s):\n${s.notes.map((n) => `  - ${n}`).join('\n')}`).join('\n')
}

export function writeJson (path: string, run: { startedAt: string, wallSeconds: number, settings: unknown, environment: Record<string, unknown>, sections: Section[], errors: Array<{ section: string, error: string }> }): void {
  writeFileSync(path, JSON.stringify(run, (_key, value: unknown) => typeof value === 'number' && !Number.isFinite(value) ? null : value, 2) + '\n')
}
