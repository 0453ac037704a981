import { DomainError } from "../domain/errors";
import { assertMayPerform } from "../domain/permissions";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";
import { notifyShipped } from "./support/notify";
import { takeShippedStock } from "./support/stock";

export interface ShipOrderInput {
  orderId: number;
  carrier: string;
  trackingNo: string;
  /** Omitted: everything still unshipped goes. Given: a partial shipment of these quantities. */
  lines?: Array<{ sku: string; qty: number }>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Ships all or part of a packed order; the goods leave stock and the customer is told. */
export async function shipOrder(deps: ServiceDeps, input: ShipOrderInput, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "fulfil", order);
    // The same tracking number twice is a retried call, not a second parcel.
    const same = await m.Shipment.findOne({
      where: { orderId: order.id, carrier: input.carrier, trackingNo: input.trackingNo },
      transaction: tx,
    });
    if (same) return;

    const lines = await m.OrderLine.findAll({ where: { orderId: order.id }, order: [["lineNo", "ASC"]], transaction: tx });
    const plan = planShipment(lines, input.lines);
    const allShipped = lines.every((l) => l.shippedQty + (plan.get(l.id) ?? 0) >= l.qty);
    const at = deps.now();
    await moveOrder(deps, tx, order, allShipped ? "ship_full" : "ship_partial", actor, {
      fields: allShipped ? { shippedAt: at, dueAt: new Date(at.getTime() + order.paymentTermsDays * DAY_MS) } : {},
      auditAfter: { carrier: input.carrier, trackingNo: input.trackingNo },
    });

    const shipment = await m.Shipment.create(
      { orderId: order.id, carrier: input.carrier, trackingNo: input.trackingNo, shippedAt: at, createdBy: actor.label },
      { transaction: tx },
    );
    await m.ShipmentLine.bulkCreate(
      [...plan].map(([orderLineId, qty]) => ({ shipmentId: shipment.id, orderLineId, qty })),
      { transaction: tx },
    );
    for (const line of lines) {
      const qty = plan.get(line.id);
      if (!qty) continue;
      line.shippedQty += qty;
      line.pickedQty = Math.max(0, line.pickedQty - qty);
      await line.save({ transaction: tx });
    }
    await takeShippedStock(
      deps,
      tx,
      lines.filter((l) => plan.has(l.id)).map((l) => ({ productId: l.productId, sku: l.sku, qty: plan.get(l.id)! })),
    );
    await recordAudit(deps, tx, {
      entity: "shipment",
      entityId: shipment.id,
      action: "shipped",
      actor,
      after: { orderId: order.id, carrier: input.carrier, trackingNo: input.trackingNo, lines: [...plan] },
    });
    await notifyShipped(deps, tx, order, shipment.id);
  });
  return loadOrderView(deps, input.orderId);
}

/** order line id → quantity to ship now; refuses quantities beyond what is left. */
function planShipment(
  lines: Array<{ id: number; sku: string; qty: number; shippedQty: number }>,
  requested?: Array<{ sku: string; qty: number }>,
): Map<number, number> {
  const plan = new Map<number, number>();
  if (!requested) {
    for (const l of lines) if (l.qty > l.shippedQty) plan.set(l.id, l.qty - l.shippedQty);
  } else {
    for (const [i, r] of requested.entries()) {
      const line = lines.find((l) => l.sku.toUpperCase() === r.sku.toUpperCase());
      if (!line) throw new DomainError("validation_failed", `${r.sku} is not on this order`, { path: `lines.${i}.sku` });
      const left = line.qty - line.shippedQty - (plan.get(line.id) ?? 0);
      if (r.qty > left) {
        throw new DomainError("quantity_exceeded", `${line.sku}: only ${left} left to ship`, {
          path: `lines.${i}.qty`,
          sku: line.sku,
          max: left,
        });
      }
      if (r.qty > 0) plan.set(line.id, (plan.get(line.id) ?? 0) + r.qty);
    }
  }
  if (plan.size === 0) throw new DomainError("validation_failed", "nothing left to ship", { path: "lines" });
  return plan;
}
