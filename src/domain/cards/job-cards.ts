import type { Card } from "../card";
import type { Locale } from "../i18n";
import { tj } from "../i18n-jobs";
import { formatFen } from "../money";
import { dueDayText, type OverdueReceivable } from "../receivables";
import { truncate } from "./shared";

// Cards the scheduled jobs send: built from plain figures, in the reader's language.

/** A rep's (or a manager's team's) overdue receivables, most overdue first, with the total and a link. */
export function receivablesCard(
  items: readonly (OverdueReceivable & { repName?: string })[],
  ctx: { locale: Locale; team?: { afterDays: number } },
): Card {
  const { locale } = ctx;
  const total = items.reduce((sum, r) => sum + r.outstandingFen, 0);
  const { lines, moreLines } = truncate(
    items.map((r) => ({
      name: r.orderNo,
      qty: formatFen(r.outstandingFen),
      note: [tj(locale, "recv.line", { customer: r.customerName, days: r.daysOverdue, due: dueDayText(r.dueAt) }), r.repName].filter(Boolean).join(" · "),
      flag: r.daysOverdue >= 15 ? ("danger" as const) : ("warning" as const),
    })),
  );
  return {
    kind: "notice",
    locale,
    title: ctx.team ? tj(locale, "recv.teamTitle", { days: ctx.team.afterDays }) : tj(locale, "recv.title"),
    banner: { text: tj(locale, "recv.banner", { n: items.length, amount: formatFen(total) }), tone: "danger" },
    fields: [{ label: tj(locale, "recv.total"), value: formatFen(total) }],
    lines,
    moreLines,
    buttons: [],
    link: { label: tj(locale, "link.receivables"), path: "/m/dashboard#receivables" },
  };
}

export interface DigestFigures {
  /** Shanghai day "2026-03-02" the figures are for. */
  day: string;
  orders: number;
  amountFen: number;
  waitingApprovals: number;
  shipped: number;
  overdue: { orders: number; amountFen: number };
  lowStock: number;
}

/** The managers' morning digest: yesterday in five figures, and the way to the dashboard. */
export function dailyDigestCard(f: DigestFigures, ctx: { locale: Locale }): Card {
  const { locale } = ctx;
  return {
    kind: "notice",
    locale,
    title: tj(locale, "digest.title", { day: f.day }),
    fields: [
      { label: tj(locale, "digest.orders"), value: String(f.orders) },
      { label: tj(locale, "digest.amount"), value: formatFen(f.amountFen) },
      { label: tj(locale, "digest.waiting"), value: String(f.waitingApprovals) },
      { label: tj(locale, "digest.shipped"), value: String(f.shipped) },
      { label: tj(locale, "digest.overdue"), value: tj(locale, "digest.overdueValue", { n: f.overdue.orders, amount: formatFen(f.overdue.amountFen) }) },
      { label: tj(locale, "digest.lowStock"), value: tj(locale, "digest.lowStockValue", { n: f.lowStock }) },
    ],
    buttons: [],
    link: { label: tj(locale, "link.dashboard"), path: "/m/dashboard" },
  };
}

export interface LowStockItem {
  sku: string;
  name: string;
  available: number;
  safetyStock: number;
  suggestedQty: number;
}

/** Skus below their safety stock, each with how much to reorder. */
export function lowStockCard(items: readonly LowStockItem[], ctx: { locale: Locale; leadTimeDays: number }): Card {
  const { locale } = ctx;
  const { lines, moreLines } = truncate(
    items.map((i) => ({
      name: i.name,
      sku: i.sku,
      qty: tj(locale, "low.suggest", { qty: i.suggestedQty }),
      note: tj(locale, "low.line", { available: i.available, safety: i.safetyStock }),
      flag: i.available <= 0 ? ("danger" as const) : ("warning" as const),
    })),
  );
  return {
    kind: "notice",
    locale,
    title: tj(locale, "low.title"),
    banner: { text: tj(locale, "low.banner", { n: items.length }), tone: "warning" },
    fields: [],
    lines,
    moreLines,
    notes: [tj(locale, "low.note", { lead: ctx.leadTimeDays })],
    buttons: [],
    link: { label: tj(locale, "link.stock"), path: "/m/dashboard#stock" },
  };
}
