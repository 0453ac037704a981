import type { Card, CardLine } from "../card";
import { statusLabel, t, type Locale } from "../i18n";
import { formatFen } from "../money";
import type { OrderView } from "../order-view";
import {
  orderRef,
  pricedLine,
  qtyText,
  rejectionReason,
  routeProgress,
  salesRepName,
  statusTone,
  truncate,
  when,
  type CardContext,
} from "./shared";

/**
 * Where an order stands: status, approval progress, shipments with tracking numbers, and payment.
 * `prices: false` (a warehouse member asking, domain/field-visibility.ts) leaves out every amount.
 */
export function orderStatusCard(view: OrderView, ctx: CardContext & { prices?: boolean }): Card {
  const { locale } = ctx;
  const prices = ctx.prices ?? true;
  const { lines, moreLines } = truncate(
    view.lines.map((l) => (prices ? statusLine(l, locale) : { name: l.name, sku: l.sku, qty: qtyText(l.qty, l.unit, locale) })),
  );
  const card: Card = {
    kind: "order_status",
    locale,
    title: t(locale, "status.title", { orderNo: view.orderNo }),
    subtitle: view.customer.name,
    banner: { text: bannerText(view, locale), tone: statusTone(view.status) },
    fields: [
      { label: t(locale, "field.customer"), value: view.customer.name },
      { label: t(locale, "field.salesRep"), value: salesRepName(view, locale) },
      ...(prices ? [{ label: t(locale, "field.paid"), value: `${formatFen(view.paidFen)} / ${formatFen(view.totalFen)}` }] : []),
      { label: t(locale, "field.createdAt"), value: when(view.createdAt) },
      { label: t(locale, "field.approval"), value: approvalText(view, locale) },
      ...view.shipments.map((s) => ({
        label: t(locale, "field.shipment"),
        value: `${s.carrier} ${s.trackingNo} · ${when(s.shippedAt)}`,
      })),
      ...cancelFields(view, locale),
    ],
    lines,
    ...(moreLines ? { moreLines } : {}),
    buttons: [],
    link: { label: t(locale, "link.detail"), path: `/m/orders/${view.id}` },
    ref: orderRef(view),
  };
  if (view.note) card.notes = [t(locale, "fmt.note", { note: view.note })];
  return card;
}

function statusLine(line: OrderView["lines"][number], locale: Locale): CardLine {
  const partly = line.shippedQty > 0 && line.shippedQty < line.qty;
  if (!partly) return pricedLine(line, locale);
  return pricedLine(line, locale, { note: t(locale, "fmt.shippedQty", { qty: line.shippedQty }) });
}

function bannerText(view: OrderView, locale: Locale): string {
  const label = statusLabel(view.status, locale);
  if (view.status !== "rejected") return label;
  const reason = rejectionReason(view);
  return reason ? label + t(locale, "fmt.reasonSuffix", { reason }) : label;
}

function approvalText(view: OrderView, locale: Locale): string {
  if (view.approval.steps.length > 0) return routeProgress(view.approval.steps, locale);
  if (view.approval.autoApproved) return t(locale, "approval.auto");
  return t(locale, "approval.notSubmitted");
}

function cancelFields(view: OrderView, locale: Locale): Card["fields"] {
  if (view.status !== "cancelled") return [];
  const fields: Card["fields"] = [];
  if (view.cancelledAt) fields.push({ label: t(locale, "field.cancelledAt"), value: when(view.cancelledAt) });
  if (view.cancelReason) fields.push({ label: t(locale, "field.cancelReason"), value: view.cancelReason });
  return fields;
}
