/**
 * How much to reorder when a sku runs low: enough to cover what sells while the order is on its way
 * (average daily consumption over the window × lead time), plus the safety stock, minus what is
 * still available. At least enough to get back to the safety stock when nothing sold lately.
 */
export interface ReorderInput {
  available: number;
  safetyStock: number;
  /** Units that left stock (shipped) in the last `windowDays`. */
  consumed: number;
  windowDays: number;
  leadTimeDays: number;
}

export function suggestedReorderQty(i: ReorderInput): number {
  const daily = i.windowDays > 0 ? Math.max(0, i.consumed) / i.windowDays : 0;
  const target = i.safetyStock + Math.ceil(daily * Math.max(0, i.leadTimeDays));
  return Math.max(0, target - i.available);
}

/** Below safety stock: available strictly less than it (a sku with no safety stock set is never low). */
export function isLowStock(available: number, safetyStock: number): boolean {
  return safetyStock > 0 && available < safetyStock;
}
