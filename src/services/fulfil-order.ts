import { DomainError } from "../domain/errors";
import { isRepeat } from "../domain/order-state";
import { dueAtFor } from "../domain/receivables";
import { assertMayPerform } from "../domain/permissions";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";

/** The warehouse takes an approved order off the queue. */
export async function startPicking(deps: ServiceDeps, input: { orderId: number }, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "fulfil", order);
    if (isRepeat("start_picking", order.status)) return;
    await moveOrder(deps, tx, order, "start_picking", actor);
  });
  return loadOrderView(deps, input.orderId);
}

export interface PickedLine {
  sku: string;
  qty: number;
}

/** Records what was actually picked (after scanning), per line; never more than is left to ship. */
export async function confirmPicked(deps: ServiceDeps, input: { orderId: number; lines: PickedLine[] }, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "fulfil", order);
    if (order.status !== "picking") {
      throw new DomainError("invalid_transition", `cannot record picks on an order that is ${order.status}`, {
        from: order.status,
        action: "pick",
      });
    }
    const lines = await m.OrderLine.findAll({ where: { orderId: order.id }, transaction: tx });
    const changes: Array<{ sku: string; before: number; after: number }> = [];
    for (const [i, picked] of input.lines.entries()) {
      const line = lines.find((l) => l.sku.toUpperCase() === picked.sku.toUpperCase());
      if (!line) throw new DomainError("validation_failed", `${picked.sku} is not on this order`, { path: `lines.${i}.sku` });
      const left = line.qty - line.shippedQty;
      if (!Number.isSafeInteger(picked.qty) || picked.qty < 0 || picked.qty > left) {
        throw new DomainError("quantity_exceeded", `${line.sku}: picked quantity must be between 0 and ${left}`, {
          path: `lines.${i}.qty`,
          sku: line.sku,
          max: left,
        });
      }
      changes.push({ sku: line.sku, before: line.pickedQty, after: picked.qty });
      line.pickedQty = picked.qty;
      await line.save({ transaction: tx });
    }
    await recordAudit(deps, tx, { entity: "order", entityId: order.id, action: "picked", actor, after: { lines: changes } });
  });
  return loadOrderView(deps, input.orderId);
}

/** Picked goods are packed and ready to ship. */
export async function packOrder(deps: ServiceDeps, input: { orderId: number }, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "fulfil", order);
    if (isRepeat("pack", order.status)) return;
    await moveOrder(deps, tx, order, "pack", actor);
  });
  return loadOrderView(deps, input.orderId);
}

/** The customer signed for everything; an order already paid in full is completed with it. */
export async function deliverOrder(deps: ServiceDeps, input: { orderId: number }, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "fulfil", order);
    if (isRepeat("deliver", order.status)) return;
    const at = deps.now();
    // Payment terms run from delivery (net N days, Shanghai calendar); shipping set a provisional due date.
    await moveOrder(deps, tx, order, "deliver", actor, { fields: { deliveredAt: at, dueAt: dueAtFor(at, order.paymentTermsDays) } });
    if (order.paidFen >= order.totalFen) {
      await moveOrder(deps, tx, order, "complete", actor, { fields: { completedAt: at }, reason: "paid_in_full" });
    }
  });
  return loadOrderView(deps, input.orderId);
}
