import type { Card } from "../card";
import { t } from "../i18n";
import { formatFen } from "../money";
import type { OrderView } from "../order-view";
import { orderRef, qtyText, truncate, when, type CardContext } from "./shared";

/**
 * For the CUSTOMER: their order is confirmed, what is in it, what it comes to and what happens next.
 * The total is theirs to pay, so it is shown; unit prices, discounts, SKUs, the sales rep and the
 * approval route are not: this card leaves the company.
 */
export function orderConfirmedNoticeCard(view: OrderView, ctx: CardContext): Card {
  const { locale } = ctx;
  const { lines, moreLines } = truncate(view.lines.map((l) => ({ name: l.name, qty: qtyText(l.qty, l.unit, locale) })));
  return {
    kind: "order_confirmed_notice",
    locale,
    title: t(locale, "confirm.title"),
    subtitle: view.customer.name,
    fields: [
      { label: t(locale, "field.orderNo"), value: view.orderNo },
      { label: t(locale, "field.total"), value: formatFen(view.totalFen) },
      ...(view.approvedAt ? [{ label: t(locale, "field.confirmedAt"), value: when(view.approvedAt) }] : []),
    ],
    lines,
    ...(moreLines ? { moreLines } : {}),
    notes: [t(locale, "confirm.next")],
    buttons: [],
    ref: orderRef(view),
  };
}
