import { businessDay } from "./time";

/** SO-YYYYMMDD-NNNN: the day is Shanghai's; the sequence restarts each day and widens past 9999. */
export function formatOrderNo(at: Date, seq: number): string {
  return `SO-${businessDay(at)}-${String(seq).padStart(4, "0")}`;
}

export const ORDER_NO_PATTERN = /^SO-\d{8}-\d{4,}$/;
