/**
 * The working-hours calendar reminders are counted in: "pending 2 hours" means 2 hours of the working
 * day, so a step activated on Friday at 17:00 is 2 hours old on Monday at 10:00, not 65.
 * Shanghai keeps UTC+8 all year (no daylight saving), so local time is a fixed shift of the instant.
 */

export interface WorkingCalendar {
  /** ISO weekdays that are working days: 1 = Monday … 7 = Sunday. */
  days: readonly number[];
  /** Minutes after local midnight: the day starts at `startMinute` and ends at `endMinute`. */
  startMinute: number;
  endMinute: number;
}

export const DEFAULT_CALENDAR: WorkingCalendar = Object.freeze({ days: [1, 2, 3, 4, 5], startMinute: 9 * 60, endMinute: 18 * 60 });

const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
/** Spans longer than this are not walked day by day: nothing waits that long in working hours that matters. */
const MAX_DAYS = 3660;

/** Local midnight (as a UTC instant) of the Shanghai day containing `at`. */
function localMidnight(atMs: number): number {
  return Math.floor((atMs + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS;
}

function isoWeekday(midnightMs: number): number {
  const d = new Date(midnightMs + SHANGHAI_OFFSET_MS).getUTCDay();
  return d === 0 ? 7 : d;
}

/** True when `at` falls inside a working day's hours. */
export function isWorkingTime(at: Date, cal: WorkingCalendar = DEFAULT_CALENDAR): boolean {
  const midnight = localMidnight(at.getTime());
  if (!cal.days.includes(isoWeekday(midnight))) return false;
  const minute = (at.getTime() - midnight) / MINUTE_MS;
  return minute >= cal.startMinute && minute < cal.endMinute;
}

/** Milliseconds of working time between `from` and `to` (0 when `to` is not after `from`). */
export function workingMsBetween(from: Date, to: Date, cal: WorkingCalendar = DEFAULT_CALENDAR): number {
  const start = from.getTime();
  const end = to.getTime();
  if (end <= start) return 0;
  let total = 0;
  let day = localMidnight(start);
  for (let i = 0; day < end && i < MAX_DAYS; i += 1, day += DAY_MS) {
    if (!cal.days.includes(isoWeekday(day))) continue;
    const open = day + cal.startMinute * MINUTE_MS;
    const close = day + cal.endMinute * MINUTE_MS;
    const overlap = Math.min(close, end) - Math.max(open, start);
    if (overlap > 0) total += overlap;
  }
  return total;
}

/** Working hours between two instants, as a fractional number. */
export function workingHoursBetween(from: Date, to: Date, cal: WorkingCalendar = DEFAULT_CALENDAR): number {
  return workingMsBetween(from, to, cal) / (60 * MINUTE_MS);
}

/**
 * Parses "09:00-18:00" → minutes; null when malformed. Used by config (which reports the error).
 */
export function parseHoursRange(text: string): { startMinute: number; endMinute: number } | null {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [h1, m1, h2, m2] = m.slice(1).map(Number);
  const startMinute = h1 * 60 + m1;
  const endMinute = h2 * 60 + m2;
  if (m1 > 59 || m2 > 59 || endMinute > 24 * 60 || startMinute >= endMinute) return null;
  return { startMinute, endMinute };
}

/** Parses "1-5" or "1,2,3,4,6" (ISO weekdays) → sorted unique days; null when malformed. */
export function parseWeekdays(text: string): number[] | null {
  const days = new Set<number>();
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([1-7])(?:-([1-7]))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (b < a) return null;
    for (let d = a; d <= b; d += 1) days.add(d);
  }
  return days.size ? [...days].sort((x, y) => x - y) : null;
}
