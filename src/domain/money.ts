/** Money is integer fen (1 yuan = 100 fen) everywhere but the very edge. */

/** Parses a yuan amount a person typed ("30", "12.5", "1,234.50") into fen; null when it is not money. */
export function yuanToFen(text: string | number): number | null {
  const s = typeof text === "number" ? String(text) : text.replace(/[,，\s]/g, "").replace(/^[¥￥]/, "");
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return null;
  const [whole, frac = ""] = s.split(".");
  const fen = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  return Number.isSafeInteger(fen) ? fen : null;
}

/** ¥1,234.50 — for people, never for storage. */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100).toLocaleString("en-US");
  const cents = String(abs % 100).padStart(2, "0");
  return `${sign}¥${yuan}.${cents}`;
}

/** qty × unit price, refusing results that would lose precision. */
export function lineTotalFen(unitPriceFen: number, qty: number): number {
  const total = unitPriceFen * qty;
  if (!Number.isSafeInteger(total)) throw new RangeError("line total out of range");
  return total;
}

/** Discount below list price in basis points (1500 = 15%); 0 when at or above list. */
export function discountBp(listPriceFen: number, unitPriceFen: number): number {
  if (listPriceFen <= 0 || unitPriceFen >= listPriceFen) return 0;
  return Math.round(((listPriceFen - unitPriceFen) * 10000) / listPriceFen);
}
