/**
 * The legacy API's times: `[year, month, day, hour, minute, second]`, month
 * 1-based, in the configured time zone. Trailing parts may be left out (as
 * Python's datetime() allowed the origin system's users): they count as 0.
 */
import { DateTime } from 'luxon'
import { invalidField } from '../../errors.js'

const PARTS = [
  { name: 'year', min: 1970, max: 9999 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day', min: 1, max: 31 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'second', min: 0, max: 59 }
] as const

/** Epoch ms of a legacy time array, or a 400 naming the part that is wrong. */
export function legacyTimeToEpoch (parts: readonly number[], zone: string, field = 'time'): number {
  if (parts.length < 3 || parts.length > 6) {
    throw invalidField(field, 'must be [year, month, day, hour, minute, second] (3 to 6 integers)')
  }
  const values = [0, 0, 0, 0, 0, 0]
  parts.forEach((value, i) => {
    const part = PARTS[i]!
    if (!Number.isInteger(value) || value < part.min || value > part.max) {
      throw invalidField(`${field}[${i}]`, `(${part.name}) must be an integer from ${part.min} to ${part.max}, got ${value}`)
    }
    values[i] = value
  })
  const [year, month, day, hour, minute, second] = values as [number, number, number, number, number, number]
  const time = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone })
  if (!time.isValid) {
    throw invalidField(`${field}[2]`, `(day) ${day} does not exist in ${year}-${String(month).padStart(2, '0')}`)
  }
  return time.toMillis()
}

/** The legacy array for an epoch ms, in the configured time zone. */
export function epochToLegacyTime (epochMs: number, zone: string): number[] {
  const t = DateTime.fromMillis(epochMs, { zone })
  return [t.year, t.month, t.day, t.hour, t.minute, t.second]
}
