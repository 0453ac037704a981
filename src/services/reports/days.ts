/** Shanghai calendar days as "YYYY-MM-DD" text (the rollups' key) and their UTC bounds. */

const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The [from, to) UTC instants of a Shanghai day, given as "2026-03-02" or "20260302". */
export function shanghaiDayRange(day: string): { from: Date; to: Date } {
  const iso = day.length === 8 ? `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}` : day;
  const from = new Date(Date.parse(`${iso}T00:00:00Z`) - OFFSET_MS);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

/** "2026-03-02" for the Shanghai day containing `at`. */
export function shanghaiDay(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** Every day from `from` to `to` inclusive ("YYYY-MM-DD"). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** The day `n` days before `day`. */
export function minusDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
}
