import { literal, Op } from "sequelize";
import { overdueOf, type OverdueReceivable } from "../../domain/receivables";
import type { ServiceDeps } from "../deps";

/** Statuses whose due date counts: delivered (net N from delivery) and shipped but not yet confirmed delivered. */
export const DUE_STATUSES = ["shipped", "delivered"] as const;

/** Every overdue, unpaid order at `now`, most overdue first (read live: overdue moves with the clock, not with writes). */
export async function listOverdueReceivables(deps: ServiceDeps, now: Date): Promise<OverdueReceivable[]> {
  const m = deps.db.models;
  const orders = await m.Order.findAll({
    where: { status: { [Op.in]: [...DUE_STATUSES] }, dueAt: { [Op.lte]: now }, [Op.and]: [literal("paid_fen < total_fen")] },
    attributes: ["id", "orderNo", "customerId", "salesRepId", "totalFen", "paidFen", "dueAt"],
  });
  const customers = await m.Customer.findAll({ where: { id: { [Op.in]: [...new Set(orders.map((o) => o.customerId))] } }, attributes: ["id", "name"] });
  const nameOf = new Map(customers.map((c) => [c.id, c.name]));
  return overdueOf(
    orders.map((o) => ({
      orderId: o.id,
      orderNo: o.orderNo,
      customerName: nameOf.get(o.customerId) ?? "",
      salesRepId: o.salesRepId,
      outstandingFen: o.totalFen - o.paidFen,
      dueAt: o.dueAt!,
    })),
    now,
  );
}
