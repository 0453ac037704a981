import { Op } from "sequelize";
import { isPriorityCustomer } from "../domain/order-access";
import type { OrderStatus } from "../domain/order-state";
import type { ServiceDeps } from "./deps";

/** An order the warehouse still has to pick, pack or ship. */
export interface QueuedOrder {
  id: number;
  orderNo: string;
  status: OrderStatus;
  customer: { code: string; name: string; level: string | null };
  priority: boolean;
  totalFen: number;
  approvedAt: string | null;
  lineCount: number;
}

export const WAREHOUSE_STATUSES: readonly OrderStatus[] = ["approved", "picking", "packed", "partially_shipped"];

/** Oldest approval first, so nothing waits forever; priority customers are flagged, not reordered. */
export async function listWarehouseQueue(deps: ServiceDeps, input: { statuses?: OrderStatus[]; limit?: number } = {}): Promise<QueuedOrder[]> {
  const m = deps.db.models;
  const statuses = input.statuses?.length ? input.statuses : [...WAREHOUSE_STATUSES];
  const orders = await m.Order.findAll({
    where: { status: { [Op.in]: statuses } },
    order: [["approvedAt", "ASC"], ["id", "ASC"]],
    limit: Math.min(input.limit ?? 100, 500),
  });
  if (orders.length === 0) return [];
  const ids = orders.map((o) => o.id);
  const [customers, lines] = await Promise.all([
    m.Customer.findAll({ where: { id: { [Op.in]: [...new Set(orders.map((o) => o.customerId))] } }, attributes: ["id", "code", "name", "level"] }),
    m.OrderLine.findAll({ where: { orderId: { [Op.in]: ids } }, attributes: ["orderId"] }),
  ]);
  const customerOf = new Map(customers.map((c) => [c.id, c]));
  const lineCount = new Map<number, number>();
  for (const l of lines) lineCount.set(l.orderId, (lineCount.get(l.orderId) ?? 0) + 1);
  return orders.map((o) => {
    const c = customerOf.get(o.customerId);
    const level = c?.level ?? null;
    return {
      id: o.id,
      orderNo: o.orderNo,
      status: o.status,
      customer: { code: c?.code ?? "?", name: c?.name ?? "?", level },
      priority: isPriorityCustomer(level),
      totalFen: o.totalFen,
      approvedAt: o.approvedAt?.toISOString() ?? null,
      lineCount: lineCount.get(o.id) ?? 0,
    };
  });
}
