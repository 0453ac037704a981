import { DomainError } from "../domain/errors";
import { EDITABLE_STATUSES } from "../domain/order-state";
import { assertMayPerform } from "../domain/permissions";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { buildLines, findCustomer, type LineInput } from "./support/build-lines";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";

export interface ReviseOrderInput {
  orderId: number;
  expectedVersion?: number;
  customerCode?: string;
  lines?: LineInput[];
  note?: string | null;
  shipTo?: { name?: string | null; phone?: string | null; address?: string | null };
}

/** Edits a draft or a rejected order (which becomes a draft again); every version is kept in the audit trail. */
export async function reviseOrder(deps: ServiceDeps, input: ReviseOrderInput, actor: Actor): Promise<OrderView> {
  const built = input.lines ? await buildLines(deps, input.lines) : null;
  const customer = input.customerCode ? await findCustomer(deps, { customerCode: input.customerCode }) : null;
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "revise", order);
    if (!EDITABLE_STATUSES.includes(order.status)) {
      throw new DomainError("invalid_transition", `cannot revise an order that is ${order.status}`, {
        from: order.status,
        action: "revise",
      });
    }
    if (input.expectedVersion !== undefined && input.expectedVersion !== order.version) {
      throw new DomainError("conflict", "the order was changed by someone else; reload it", {
        expectedVersion: input.expectedVersion,
        version: order.version,
      });
    }
    const oldLines = await m.OrderLine.findAll({ where: { orderId: order.id }, order: [["lineNo", "ASC"]], transaction: tx });
    const before = snapshot(order, oldLines);
    if (order.status === "rejected") await moveOrder(deps, tx, order, "revise", actor);
    if (built) {
      await m.OrderLine.destroy({ where: { orderId: order.id }, transaction: tx });
      await m.OrderLine.bulkCreate(built.lines.map((l) => ({ ...l, orderId: order.id })), { transaction: tx });
      order.totalFen = built.totalFen;
    }
    if (customer) {
      order.customerId = customer.id;
      order.paymentTermsDays = customer.paymentTermsDays;
    }
    if (input.note !== undefined) order.note = input.note;
    if (input.shipTo?.name !== undefined) order.shipToName = input.shipTo.name;
    if (input.shipTo?.phone !== undefined) order.shipToPhone = input.shipTo.phone;
    if (input.shipTo?.address !== undefined) order.shipToAddress = input.shipTo.address;
    order.version += 1;
    await order.save({ transaction: tx });
    const newLines = built ? built.lines : oldLines;
    await recordAudit(deps, tx, {
      entity: "order",
      entityId: order.id,
      action: "revised",
      actor,
      before,
      after: snapshot(order, newLines),
    });
  });
  return loadOrderView(deps, input.orderId);
}

function snapshot(
  order: { customerId: number; totalFen: number; note: string | null; version: number },
  lines: Array<{ sku: string; qty: number; unitPriceFen: number }>,
) {
  return {
    version: order.version,
    customerId: order.customerId,
    totalFen: order.totalFen,
    note: order.note,
    lines: lines.map((l) => ({ sku: l.sku, qty: l.qty, unitPriceFen: l.unitPriceFen })),
  };
}
