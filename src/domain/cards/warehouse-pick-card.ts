import type { Card } from "../card";
import { statusLabel, t } from "../i18n";
import type { OrderView } from "../order-view";
import { orderRef, qtyText, statusTone, truncate, type CardContext } from "./shared";

/** Pushed to the warehouse when an order is approved: what to pick and where it goes, without prices. */
export function warehousePickCard(view: OrderView, ctx: CardContext): Card {
  const { locale } = ctx;
  const { name, phone, address } = view.shipTo;
  const fields = [
    { label: t(locale, "field.orderNo"), value: view.orderNo },
    { label: t(locale, "field.customer"), value: view.customer.name },
  ];
  const consignee = [name, phone].filter(Boolean).join(" ");
  if (consignee) fields.push({ label: t(locale, "field.consignee"), value: consignee });
  if (address) fields.push({ label: t(locale, "field.address"), value: address });
  const { lines, moreLines } = truncate(
    view.lines.map((l) => ({ name: l.name, sku: l.sku, qty: qtyText(l.qty, l.unit, locale) })),
  );
  const card: Card = {
    kind: "warehouse_pick",
    locale,
    title: t(locale, "pick.title"),
    subtitle: view.orderNo,
    fields,
    lines,
    ...(moreLines ? { moreLines } : {}),
    buttons: [],
    ref: orderRef(view),
  };
  if (view.note) card.notes = [t(locale, "fmt.note", { note: view.note })];
  if (view.status === "cancelled") {
    card.banner = { text: t(locale, "pick.cancelled"), tone: "danger" };
    return card;
  }
  // A redrawn card says how far the order has got; only an approved or picking order invites picking.
  if (view.status !== "approved") {
    card.banner = { text: statusLabel(view.status, locale), tone: statusTone(view.status) };
  }
  card.link = { label: t(locale, "link.startPick"), path: `/m/warehouse/orders/${view.id}` };
  return card;
}
