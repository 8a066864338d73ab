/**
 * How the fanout command writes: for people by default (aligned tables,
 * colour only on a terminal that wants it), JSON with --json (for scripts);
 * results to stdout, errors and notes to stderr. Everything written passes
 * `redact` first: the API key in use never reaches the screen or a pipe.
 */
import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

export interface OutputOptions {
  json: boolean
  /** Colour asked for (--no-color turns it off); used only on a terminal without NO_COLOR. */
  color: boolean
  /** A secret to blank out of everything written. */
  secret?: string
  stdout?: NodeJS.WriteStream
  stderr?: NodeJS.WriteStream
  env?: Record<string, string | undefined>
}

export class Output {
  readonly json: boolean
  /** stdout is a terminal: live bars, truncated columns; otherwise plain lines. */
  readonly isTTY: boolean
  readonly color: boolean
  readonly stdout: NodeJS.WriteStream
  private readonly stderr: NodeJS.WriteStream
  private readonly secret: string | undefined

  constructor (options: OutputOptions) {
    const env = options.env ?? process.env
    this.stdout = options.stdout ?? process.stdout
    this.stderr = options.stderr ?? process.stderr
    this.json = options.json
    this.isTTY = this.stdout.isTTY === true
    this.color = options.color && this.isTTY && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb'
    this.secret = options.secret
  }

  /** The text with the secret in use replaced. */
  redact (text: string): string {
    return this.secret === undefined || this.secret === '' ? text : text.split(this.secret).join('***')
  }

  style (style: Style, text: string): string {
    return this.color ? styleText(style, text) : text
  }

  /** A line of the result, to stdout. */
  line (text = ''): void {
    this.stdout.write(this.redact(text) + '\n')
  }

  /** A note or an error for the person, to stderr. */
  note (text: string): void {
    this.stderr.write(this.redact(text) + '\n')
  }

  /** A value as JSON, one line (--json). */
  data (value: unknown): void {
    this.line(JSON.stringify(value))
  }

  /** Rows under a header, in columns; long cells are cut on a terminal only (a pipe gets them whole). */
  table (header: string[], rows: Array<Array<string | number | undefined>>, options: { maxWidth?: number } = {}): void {
    const max = this.isTTY ? options.maxWidth ?? 48 : Infinity
    const cells = rows.map((row) => header.map((_, i) => cut(String(row[i] ?? ''), max)))
    const widths = header.map((h, i) => Math.max(width(h), ...cells.map((row) => width(row[i]!))))
    const render = (row: string[]) => row.map((cell, i) => i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))).join('  ').trimEnd()
    this.line(this.style('bold', render(header.map((h) => h.toUpperCase()))))
    for (const row of cells) this.line(render(row))
  }
}

/** Columns a string takes (code points: good for the scripts contacts are written in, bar East Asian wide ones). */
function width (text: string): number {
  return [...text].length
}

function cut (text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ')
  const points = [...oneLine]
  return points.length <= max ? oneLine : points.slice(0, max - 1).join('') + '…'
}

/** "sent 3, failed 1": the non-zero counts, in the order given. */
export function countsText (counts: Record<string, number>): string {
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`)
  return parts.length === 0 ? 'none' : parts.join(', ')
}

/** An RFC 3339 time as the person's local time, to the second. */
export function localTime (iso: string | undefined): string {
  if (iso === undefined) return ''
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
