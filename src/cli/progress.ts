/**
 * A dispatch's progress as a person or a program follows it. On a terminal:
 * a live bar per messenger (cli-progress), how many of its deliveries have
 * finished, with delivered, sent, failed and pending beside it. Elsewhere:
 * one plain line per change, no bars, no colour. With --json: one JSON object
 * per change (`{"event": ..., "dispatch": ...}`), a line each.
 */
import cliProgress from 'cli-progress'
import type { DispatchView, FollowEvent } from './follow.js'
import { countsText, type Output } from './output.js'

type Counts = DispatchView['counts']

const PENDING = ['scheduled', 'queued', 'sending'] as const

const pendingOf = (c: Counts) => PENDING.reduce((n, state) => n + c[state], 0)
/** Delivered counts read too: a read message was delivered. */
const figures = (c: Counts) => ({
  delivered: c.delivered + c.read,
  sent: c.sent,
  failed: c.failed,
  other: c.cancelled + c.expired + c.suppressed,
  pending: pendingOf(c)
})

const totalOf = (c: Counts) => Object.values(c).reduce((n, v) => n + v, 0)

export interface ProgressView {
  update (view: DispatchView, event: FollowEvent): void
  /** Takes the bars down (the last state stays on screen). */
  stop (): void
}

/** The messengers of a view, in a stable order. */
function messengersOf (view: DispatchView): Array<[string, Counts]> {
  return Object.entries(view.by_messenger).filter((entry): entry is [string, Counts] => entry[1] !== undefined).sort(([a], [b]) => a.localeCompare(b))
}

/** Live bars on a terminal. */
function bars (out: Output): ProgressView {
  const paint = (style: Parameters<Output['style']>[0], text: string) => out.style(style, text)
  const multibar = new cliProgress.MultiBar({
    stream: out.stdout,
    format: (options, params, payload: { name: string, line: string }) =>
      ` ${payload.name.padEnd(9)} ${cliProgress.Format.BarFormat(params.progress, options)} ${String(params.value).padStart(String(params.total).length)}/${params.total}  ${payload.line}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    // Redrawn when told, not on a timer of its own: the events are the clock.
    fps: 10,
    etaBuffer: 1
  }, cliProgress.Presets.shades_classic)
  const rows = new Map<string, cliProgress.SingleBar>()
  const line = (c: Counts) => {
    const f = figures(c)
    return [
      paint('green', `delivered ${f.delivered}`),
      paint('cyan', `sent ${f.sent}`),
      paint(f.failed > 0 ? 'red' : 'gray', `failed ${f.failed}`),
      ...(f.other > 0 ? [paint('gray', `other ${f.other}`)] : []),
      paint('yellow', `pending ${f.pending}`)
    ].join('  ')
  }
  return {
    update (view) {
      for (const [name, counts] of messengersOf(view)) {
        const total = totalOf(counts)
        const done = total - pendingOf(counts)
        const payload = { name, line: line(counts) }
        const bar = rows.get(name)
        if (bar === undefined) rows.set(name, multibar.create(total, done, payload))
        else {
          bar.setTotal(total)
          bar.update(done, payload)
        }
      }
    },
    stop () { multibar.stop() }
  }
}

/** One line per change, for a pipe or a file. */
function lines (out: Output): ProgressView {
  return {
    update (view, event) {
      const parts = messengersOf(view).map(([name, counts]) => `${name} ${totalOf(counts) - pendingOf(counts)}/${totalOf(counts)} (${countsText(counts)})`)
      out.line(`${event} ${view.id}: ${parts.join('; ')}`)
    },
    stop () {}
  }
}

function jsonLines (out: Output): ProgressView {
  return {
    update (view, event) { out.data({ event, dispatch: view }) },
    stop () {}
  }
}

export function progressView (out: Output): ProgressView {
  if (out.json) return jsonLines(out)
  return out.isTTY ? bars(out) : lines(out)
}

/** What the person reads once the dispatch is finished (not in --json). */
export function finishedSummary (out: Output, view: DispatchView): void {
  const failed = view.counts.failed
  out.line(`Dispatch ${view.id} finished: ${view.total} ${view.total === 1 ? 'delivery' : 'deliveries'}, ${countsText(view.counts)}`)
  if (failed > 0) {
    out.line(out.style('red', `${failed} ${failed === 1 ? 'delivery' : 'deliveries'} failed`) +
      `: see them with \`fanout deliveries --dispatch ${view.id} --state failed\`, send them again with \`fanout dispatches redrive ${view.id}\``)
  }
  if (view.counts.sent > 0) out.line('Sent means the messenger accepted it; WhatsApp and Viber receipts may still move it to delivered, read or failed.')
}
