/**
 * A dispatch's local window: deliveries go only while the wall clock in the
 * contact's time zone reads between `from` (included) and `to` (excluded),
 * e.g. 09:00 to 21:00; a window with `from` after `to` (21:00 to 06:00)
 * crosses midnight. Minutes of the day, in the zone's civil time, so DST
 * changes move the window with the clocks: on the day clocks skip an hour a
 * window opening inside it opens when the clocks jump (02:30 opens at 03:00);
 * on the day they repeat one, a window inside it is open both times.
 *
 * The zone's offsets come from luxon (the IANA database of the runtime):
 * `nextOpening` splits time at each offset change, within each piece local
 * time is plain arithmetic.
 */
import { DateTime, IANAZone } from 'luxon'

export interface LocalWindow {
  /** Minutes after local midnight, 0..1439. */
  from: number
  to: number
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** Further than any opening can be: a day, and the longest DST shift there is. */
const HORIZON = DAY + 3 * HOUR

/** "HH:MM" (00:00 to 23:59), as a minute of the day. */
export function minuteOfDay (hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number]
  return hours * 60 + minutes
}

export const HHMM_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$'

export function isValidZone (zone: string): boolean {
  return IANAZone.isValidZone(zone)
}

/** Whether a minute of the day is inside the window. */
export function insideWindow (minute: number, window: LocalWindow): boolean {
  return window.from < window.to
    ? minute >= window.from && minute < window.to
    : minute >= window.from || minute < window.to
}

/** The zone's offset from UTC at `at`, in minutes. */
function offsetAt (at: number, zone: string): number {
  return DateTime.fromMillis(at, { zone }).offset
}

/** The first instant in (after, before] at which the zone's offset is no longer the one at `after` (it changes there). */
function offsetChange (after: number, before: number, zone: string): number {
  const offset = offsetAt(after, zone)
  let [low, high] = [after, before]
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (offsetAt(middle, zone) === offset) low = middle
    else high = middle
  }
  return high
}

/**
 * The earliest instant at or after `now` (epoch ms) at which the window is
 * open in `zone`: `now` itself when it is open. Never more than a day and
 * the zone's DST shift ahead (`from === to`, an empty window, is refused by
 * the schema and answered here as `now`).
 */
export function nextOpening (now: number, window: LocalWindow, zone: string): number {
  if (window.from === window.to) return now
  const end = now + HORIZON
  let start = now
  while (start < end) {
    // Hourly steps find the next offset change (every zone keeps an offset for hours at least).
    let pieceEnd = end
    const offset = offsetAt(start, zone)
    for (let probe = start + HOUR; probe < end + HOUR; probe += HOUR) {
      if (offsetAt(Math.min(probe, end), zone) !== offset) {
        pieceEnd = offsetChange(Math.max(start, probe - HOUR), Math.min(probe, end), zone)
        break
      }
    }
    // Within [start, pieceEnd) local time is start + offset, linearly.
    const local = ((start + offset * MINUTE) % DAY + DAY) % DAY
    if (insideWindow(Math.floor(local / MINUTE), window)) return start
    const candidate = start + ((window.from * MINUTE - local) % DAY + DAY) % DAY
    if (candidate < pieceEnd) return candidate
    start = pieceEnd
  }
  return end
}
