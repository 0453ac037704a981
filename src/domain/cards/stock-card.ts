import type { Card, CardLine } from "../card";
import { t, type Locale } from "../i18n";
import { qtyText, truncate } from "./shared";

export interface StockItem {
  sku: string;
  name: string;
  unit: string;
  onHand: number;
  reserved: number;
  available: number;
  safetyStock: number;
}

export interface StockCardContext {
  locale: Locale;
  /** What the person searched for, shown as the subtitle. */
  query?: string;
}

/** Availability per product; at or below safety stock is flagged (nothing left at all is danger). */
export function stockCard(items: StockItem[], ctx: StockCardContext): Card {
  const { locale } = ctx;
  const low = items.filter(isLow).length;
  const { lines, moreLines } = truncate(items.map((item) => stockLine(item, locale)));
  const card: Card = {
    kind: "stock",
    locale,
    title: t(locale, "stock.title"),
    ...(ctx.query ? { subtitle: ctx.query } : {}),
    fields: [],
    lines,
    ...(moreLines ? { moreLines } : {}),
    buttons: [],
  };
  if (items.length === 0) card.notes = [t(locale, "stock.empty")];
  if (low > 0) card.banner = { text: t(locale, "stock.lowBanner", { n: low }), tone: "warning" };
  return card;
}

function isLow(item: StockItem): boolean {
  return item.available <= item.safetyStock;
}

function stockLine(item: StockItem, locale: Locale): CardLine {
  const q = (n: number) => qtyText(n, item.unit, locale);
  const detail = t(locale, "stock.detail", {
    onHand: q(item.onHand),
    reserved: q(item.reserved),
    safety: q(item.safetyStock),
  });
  const qty = t(locale, "stock.available", { qty: q(item.available) });
  const line: CardLine = { name: item.name, sku: item.sku, qty, note: detail };
  if (!isLow(item)) return line;
  const tone = item.available <= 0 ? "danger" : "warning";
  return { ...line, note: `${t(locale, "stock.low")} · ${detail}`, flag: tone };
}
