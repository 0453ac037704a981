import { describeReason, type RouteReason } from "../approval-rules";
import { MAX_BUTTON_LABEL, MAX_CARD_LINES, type CardButton, type CardLine, type Tone } from "../card";
import { t, type Locale } from "../i18n";
import { formatFen } from "../money";
import type { OrderStatus } from "../order-state";
import type { ApprovalStepView, OrderLineView, OrderView } from "../order-view";
import { formatShanghai } from "../time";

/** Helpers the card builders share; nothing here is platform-specific. */

export interface CardContext {
  locale: Locale;
}

const STATUS_TONE: Record<OrderStatus, Tone> = {
  draft: "muted",
  pending_approval: "warning",
  approved: "info",
  rejected: "danger",
  picking: "info",
  packed: "info",
  partially_shipped: "info",
  shipped: "success",
  delivered: "success",
  completed: "success",
  cancelled: "muted",
  archived: "muted",
};

export function statusTone(status: OrderStatus): Tone {
  return STATUS_TONE[status];
}

/** An ISO instant from the read model as Shanghai display time. */
export function when(iso: string): string {
  return formatShanghai(new Date(iso));
}

/** "200箱" in Chinese, "200 box" in English. */
export function qtyText(qty: number, unit: string, locale: Locale): string {
  if (!unit) return String(qty);
  return locale === "en" ? `${qty} ${unit}` : `${qty}${unit}`;
}

/** Basis points as a percentage without trailing zeros: 1500 → "15", 625 → "6.25". */
export function percent(bp: number): string {
  return String(Number((bp / 100).toFixed(2)));
}

/** Cuts text to `max` characters (not UTF-16 units), ending in "…" when cut. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

export function button(
  action: string,
  label: string,
  style: CardButton["style"],
  values?: Record<string, string>,
): CardButton {
  return { action, label: clip(label, MAX_BUTTON_LABEL), style, ...(values ? { values } : {}) };
}

/** At most MAX_CARD_LINES lines; moreLines counts the rest (absent when nothing was left off). */
export function truncate(lines: CardLine[]): { lines: CardLine[]; moreLines?: number } {
  if (lines.length <= MAX_CARD_LINES) return { lines };
  return { lines: lines.slice(0, MAX_CARD_LINES), moreLines: lines.length - MAX_CARD_LINES };
}

/** An order line with unit price and line total; `extra` adds the note and flag a card wants. */
export function pricedLine(line: OrderLineView, locale: Locale, extra: Pick<CardLine, "note" | "flag"> = {}): CardLine {
  return {
    name: line.name,
    sku: line.sku,
    qty: qtyText(line.qty, line.unit, locale),
    price: formatFen(line.unitPriceFen),
    total: formatFen(line.lineTotalFen),
    ...withoutUndefined(extra),
  };
}

/** Reasons in words, one per distinct text (two rules often say the same thing). */
export function reasonTexts(reasons: RouteReason[], locale: Locale): string[] {
  return [...new Set(reasons.map((r) => describeReason(r, locale)))];
}

export function joinList(items: string[], locale: Locale): string {
  return items.join(locale === "en" ? ", " : "、");
}

export function joinSentences(items: string[], locale: Locale): string {
  return items.join(locale === "en" ? "; " : "；");
}

export function salesRepName(view: OrderView, locale: Locale): string {
  return view.salesRep?.name ?? t(locale, "value.unassigned");
}

/** The comment of the decision that rejected the order, if a person gave one. */
export function rejectionReason(view: OrderView): string | null {
  for (const step of view.approval.steps) {
    const rejected = step.decisions.find((d) => d.decision === "reject");
    if (rejected) return rejected.comment;
  }
  return null;
}

/** "直属主管审批（已同意） → 财务审批（待审批）" */
export function routeProgress(steps: ApprovalStepView[], locale: Locale): string {
  return steps
    .map((s) => {
      const status = t(locale, `step.${s.status}`);
      return locale === "en" ? `${s.label} (${status})` : `${s.label}（${status}）`;
    })
    .join(" → ");
}

export function orderRef(view: OrderView, extra: Record<string, string> = {}): Record<string, string> {
  return { orderId: String(view.id), ...extra };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
