/**
 * The local window's next opening (src/model/local-window.ts): fixed cases
 * on both DST changes of Europe/Berlin and a window opening inside the
 * skipped hour, then properties over random instants, windows and zones,
 * checked against luxon's own reading of the wall clock.
 */
import t from 'tap'
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { insideWindow, minuteOfDay, nextOpening, type LocalWindow } from '../../src/model/local-window.js'

const win = (from: string, to: string): LocalWindow => ({ from: minuteOfDay(from), to: minuteOfDay(to) })
const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()
const BERLIN = 'Europe/Berlin'

/** The wall clock's minute of the day at `ms` in `zone`, as luxon reads it. */
const wallMinute = (ms: number, zone: string) => {
  const local = DateTime.fromMillis(ms, { zone })
  return local.hour * 60 + local.minute
}

t.test('fixed cases, Europe/Berlin', async (t) => {
  const nineToNine = win('09:00', '21:00')
  t.equal(iso(nextOpening(at('2026-06-01T10:00:00Z'), nineToNine, BERLIN)), '2026-06-01T10:00:00.000Z', 'inside: now')
  t.equal(iso(nextOpening(at('2026-06-01T19:30:00Z'), nineToNine, BERLIN)), '2026-06-02T07:00:00.000Z', 'after 21:00 CEST: 09:00 CEST the next day')
  t.equal(iso(nextOpening(at('2026-06-01T05:00:00Z'), nineToNine, BERLIN)), '2026-06-01T07:00:00.000Z', 'before 09:00 CEST: 09:00 the same day')

  // 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00Z).
  t.equal(iso(nextOpening(at('2026-03-28T21:00:00Z'), nineToNine, BERLIN)), '2026-03-29T07:00:00.000Z', 'over the spring change: 09:00 CEST')
  t.equal(iso(nextOpening(at('2026-03-28T23:00:00Z'), win('02:30', '04:00'), BERLIN)), '2026-03-29T01:00:00.000Z',
    'a window opening in the skipped hour opens when the clocks jump to 03:00')
  t.equal(iso(nextOpening(at('2026-03-29T00:30:00Z'), win('02:00', '02:45'), BERLIN)), '2026-03-30T00:00:00.000Z',
    'a window wholly in the skipped hour waits for the next day')

  // 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00Z); 02:00-03:00 happens twice.
  t.equal(iso(nextOpening(at('2026-10-24T20:00:00Z'), nineToNine, BERLIN)), '2026-10-25T08:00:00.000Z', 'over the autumn change: 09:00 CET')
  const repeated = win('02:15', '02:45')
  t.equal(iso(nextOpening(at('2026-10-24T23:00:00Z'), repeated, BERLIN)), '2026-10-25T00:15:00.000Z', 'the repeated hour: first 02:15 CEST')
  t.equal(iso(nextOpening(at('2026-10-25T00:50:00Z'), repeated, BERLIN)), '2026-10-25T01:15:00.000Z', 'then 02:15 CET, an hour later')

  const night = win('21:00', '06:00')
  t.equal(iso(nextOpening(at('2026-06-01T02:00:00Z'), night, BERLIN)), '2026-06-01T02:00:00.000Z', 'crossing midnight: 04:00 is inside')
  t.equal(iso(nextOpening(at('2026-06-01T05:00:00Z'), night, BERLIN)), '2026-06-01T19:00:00.000Z', 'crossing midnight: 07:00 waits for 21:00')
})

t.test('properties: never before now, inside the window, within a day and a shift, the earliest such instant', async (t) => {
  const zones = fc.constantFrom(BERLIN, 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC', 'America/Santiago', 'Pacific/Chatham')
  // Around DST changes of several years, and anywhere.
  const instants = fc.oneof(
    fc.integer({ min: at('2025-01-01T00:00:00Z'), max: at('2028-12-31T00:00:00Z') }),
    fc.constantFrom('2026-03-28', '2026-10-24', '2026-03-07', '2026-10-31', '2026-04-04').chain((day) =>
      fc.integer({ min: 0, max: 2 * 86_400_000 }).map((offset) => at(`${day}T00:00:00Z`) + offset))
  )
  const minutes = fc.integer({ min: 0, max: 1439 })
  const windows = fc.tuple(minutes, minutes).filter(([a, b]) => a !== b).map(([from, to]) => ({ from, to }))
  fc.assert(fc.property(instants, windows, zones, (now, window, zone) => {
    const opening = nextOpening(now, window, zone)
    if (opening < now) return false
    if (!insideWindow(wallMinute(opening, zone), window)) return false
    if (opening - now > 25 * 3_600_000) return false
    if (opening === now) return true
    // Nothing earlier is inside: the instant before, and every minute boundary in between (the wall clock moves by minutes).
    if (insideWindow(wallMinute(opening - 1, zone), window)) return false
    for (let probe = Math.ceil(now / 60_000) * 60_000; probe < opening; probe += 60_000) {
      if (insideWindow(wallMinute(probe, zone), window)) return false
    }
    return !insideWindow(wallMinute(now, zone), window)
  }), { numRuns: 150 })
  t.pass('150 random instants, windows and zones')
})
