/**
 * Payment terms: net N days from delivery, counted in Shanghai calendar days. An order delivered on
 * 31 January on net 30 is due on 2 March (1 March in a leap year) and overdue from 3 March.
 */

const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The Shanghai calendar day number (days since 1970-01-01 local) containing `at`. */
function localDayNo(at: Date): number {
  return Math.floor((at.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS);
}

/**
 * The instant the order becomes overdue: Shanghai midnight after its due day (delivery day + terms).
 * Stored as `orders.due_at`, so "overdue" is simply `due_at <= now` in SQL.
 */
export function dueAtFor(deliveredAt: Date, termsDays: number): Date {
  const dueDay = localDayNo(deliveredAt) + Math.max(0, Math.trunc(termsDays));
  return new Date((dueDay + 1) * DAY_MS - SHANGHAI_OFFSET_MS);
}

/** The Shanghai date "2026-03-02" of the last day to pay, for people to read. */
export function dueDayText(dueAt: Date): string {
  return new Date(dueAt.getTime() - DAY_MS + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** Whole calendar days past the due day: 0 when not yet overdue, 1 on the first day after it. */
export function daysOverdue(dueAt: Date, now: Date): number {
  if (now.getTime() < dueAt.getTime()) return 0;
  return localDayNo(now) - localDayNo(dueAt) + 1;
}

export interface Receivable {
  orderId: number;
  orderNo: string;
  customerName: string;
  salesRepId: number | null;
  outstandingFen: number;
  dueAt: Date;
}

export interface OverdueReceivable extends Receivable {
  daysOverdue: number;
}

/** Overdue receivables, most overdue first; `minDays` keeps only those at least that late. */
export function overdueOf(items: readonly Receivable[], now: Date, minDays = 1): OverdueReceivable[] {
  return items
    .map((r) => ({ ...r, daysOverdue: daysOverdue(r.dueAt, now) }))
    .filter((r) => r.daysOverdue >= minDays && r.outstandingFen > 0)
    .sort((a, b) => b.daysOverdue - a.daysOverdue || a.orderId - b.orderId);
}
