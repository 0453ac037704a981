import type { Card } from "../card";
import { DomainError } from "../errors";
import { t } from "../i18n";
import type { OrderView } from "../order-view";
import { qtyText, truncate, when, type CardContext } from "./shared";

/**
 * For the CUSTOMER: what shipped and how to track it. Deliberately no prices, SKUs, sales rep or
 * approval details: this card leaves the company.
 */
export function shipmentNoticeCard(view: OrderView, shipmentId: number, ctx: CardContext): Card {
  const shipment = view.shipments.find((s) => s.id === shipmentId);
  if (!shipment) {
    throw new DomainError("not_found", `order ${view.orderNo} has no shipment ${shipmentId}`, {
      orderId: view.id,
      shipmentId,
    });
  }
  const { locale } = ctx;
  const units = new Map(view.lines.map((l) => [l.id, l.unit]));
  const { lines, moreLines } = truncate(
    shipment.lines.map((l) => ({ name: l.name, qty: qtyText(l.qty, units.get(l.orderLineId) ?? "", locale) })),
  );
  const partial = view.lines.some((l) => l.shippedQty < l.qty);
  return {
    kind: "shipment_notice",
    locale,
    title: t(locale, "ship.title"),
    subtitle: view.customer.name,
    banner: { text: `${shipment.carrier} ${shipment.trackingNo}`, tone: "success" },
    fields: [
      { label: t(locale, "field.orderNo"), value: view.orderNo },
      { label: t(locale, "field.carrier"), value: shipment.carrier },
      { label: t(locale, "field.trackingNo"), value: shipment.trackingNo },
      { label: t(locale, "field.shippedAt"), value: when(shipment.shippedAt) },
    ],
    lines,
    ...(moreLines ? { moreLines } : {}),
    ...(partial ? { notes: [t(locale, "ship.partial")] } : {}),
    buttons: [],
    ref: { orderId: String(view.id), shipmentId: String(shipment.id) },
  };
}
