import type { Card, CardLine } from "../card";
import { statusLabel, t, type Locale } from "../i18n";
import { formatFen } from "../money";
import type { OrderLineView, OrderView } from "../order-view";
import {
  button,
  joinSentences,
  orderRef,
  pricedLine,
  qtyText,
  reasonTexts,
  routeProgress,
  statusTone,
  truncate,
} from "./shared";

export interface OrderPreviewContext {
  locale: Locale;
  /** Available stock (on hand − reserved) per product id; a missing product shows as unknown. */
  availableByProductId: Record<number, number>;
}

/**
 * What the rep checks before submitting: prices, stock per line, total and the approval route.
 * Once the order has left draft the buttons go, so a stale preview cannot submit twice.
 */
export function orderPreviewCard(view: OrderView, ctx: OrderPreviewContext): Card {
  const { locale } = ctx;
  const allLines = view.lines.map((line) => previewLine(line, ctx));
  const short = allLines.filter((l) => l.flag === "warning").length;
  const { lines, moreLines } = truncate(allLines);
  const values = { orderId: String(view.id), version: String(view.version) };
  const draft = view.status === "draft";
  const card: Card = {
    kind: "order_preview",
    locale,
    title: t(locale, "preview.title", { orderNo: view.orderNo }),
    subtitle: view.customer.name,
    fields: [
      { label: t(locale, "field.customer"), value: view.customer.name },
      ...shipToFields(view, locale),
      { label: t(locale, "field.total"), value: formatFen(view.totalFen) },
      ...routeFields(view, locale),
    ],
    lines,
    ...(moreLines ? { moreLines } : {}),
    buttons: draft
      ? [
          button("order.submit", t(locale, "btn.submit"), "primary", values),
          button("order.discard", t(locale, "btn.discard"), "danger", values),
        ]
      : [],
    link: draft
      ? { label: t(locale, "link.edit"), path: `/m/orders/${view.id}/edit` }
      : { label: t(locale, "link.detail"), path: `/m/orders/${view.id}` },
    ref: orderRef(view),
  };
  if (!draft) card.banner = { text: statusLabel(view.status, locale), tone: statusTone(view.status) };
  else if (short > 0) card.banner = { text: t(locale, "preview.shortBanner", { n: short }), tone: "warning" };
  if (view.note) card.notes = [t(locale, "fmt.note", { note: view.note })];
  return card;
}

function previewLine(line: OrderLineView, { locale, availableByProductId }: OrderPreviewContext): CardLine {
  const available = availableByProductId[line.productId];
  if (available === undefined) {
    return pricedLine(line, locale, { note: t(locale, "preview.stockUnknown"), flag: "muted" });
  }
  const text = qtyText(available, line.unit, locale);
  if (line.qty > available) {
    return pricedLine(line, locale, { note: t(locale, "preview.stockShort", { available: text }), flag: "warning" });
  }
  return pricedLine(line, locale, { note: t(locale, "preview.stockOk", { available: text }) });
}

function shipToFields(view: OrderView, locale: Locale): Card["fields"] {
  const { name, phone, address } = view.shipTo;
  const fields: Card["fields"] = [];
  const who = [name, phone].filter(Boolean).join(" ");
  if (who) fields.push({ label: t(locale, "field.consignee"), value: who });
  if (address) fields.push({ label: t(locale, "field.address"), value: address });
  return fields;
}

// Before submission the steps (if the service filled them in) are the route the order *will* take.
function routeFields(view: OrderView, locale: Locale): Card["fields"] {
  const { steps, reasons } = view.approval;
  if (steps.length === 0) return [{ label: t(locale, "field.route"), value: t(locale, "preview.autoApprove") }];
  const who = (s: (typeof steps)[number]) => {
    const names = s.approvers.map((a) => a.name).join(locale === "en" ? ", " : "、");
    return names ? (locale === "en" ? `${s.label} (${names})` : `${s.label}（${names}）`) : s.label;
  };
  const route = view.status === "draft" ? steps.map(who).join(" → ") : routeProgress(steps, locale);
  const why = reasonTexts(reasons.length > 0 ? reasons : steps.flatMap((s) => s.reasons), locale);
  const fields = [{ label: t(locale, "field.route"), value: route }];
  if (why.length > 0) fields.push({ label: t(locale, "field.reasons"), value: joinSentences(why, locale) });
  return fields;
}
