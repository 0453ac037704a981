import { Op } from "sequelize";
import { DomainError } from "../domain/errors";
import { isRepeat, RESERVING_STATUSES } from "../domain/order-state";
import { assertMayPerform } from "../domain/permissions";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";
import { notifyCancelled } from "./support/notify";
import { releaseStock } from "./support/stock";

/** Cancels an order that has not shipped: its reservations are released and its live cards redrawn. */
export async function cancelOrder(deps: ServiceDeps, input: { orderId: number; reason: string }, actor: Actor): Promise<OrderView> {
  const reason = input.reason?.trim();
  if (!reason) throw new DomainError("validation_failed", "a cancellation needs a reason", { path: "reason" });
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "cancel", order);
    if (isRepeat("cancel", order.status)) return;
    const held = RESERVING_STATUSES.includes(order.status);
    await moveOrder(deps, tx, order, "cancel", actor, {
      fields: { cancelledAt: deps.now(), cancelReason: reason },
      reason,
    });
    await m.ApprovalStep.update(
      { status: "cancelled" },
      { where: { orderId: order.id, status: { [Op.in]: ["pending", "waiting"] } }, transaction: tx },
    );
    if (held) {
      const lines = await m.OrderLine.findAll({ where: { orderId: order.id }, transaction: tx });
      await releaseStock(deps, tx, lines.map((l) => ({ productId: l.productId, sku: l.sku, qty: l.qty - l.shippedQty })));
    }
    await notifyCancelled(deps, tx, order);
  });
  return loadOrderView(deps, input.orderId);
}
