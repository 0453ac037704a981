import { Op, type WhereOptions } from "sequelize";
import { DomainError } from "../domain/errors";
import type { OrderStatus } from "../domain/order-state";
import type { OrderSource } from "../domain/order-view";
import type { OrderRow } from "../db/models/orders";
import type { ServiceDeps } from "./deps";
import { containsText, startsWithText } from "./support/text-match";

/** One row of an order list: enough to show and filter, without lines or history. */
export interface OrderSummary {
  id: number;
  orderNo: string;
  status: OrderStatus;
  source: OrderSource;
  customer: { id: number; code: string; name: string };
  salesRep: { id: number; name: string } | null;
  totalFen: number;
  paidFen: number;
  createdAt: string;
  submittedAt: string | null;
  shippedAt: string | null;
}

export interface ListOrdersInput {
  status?: OrderStatus[];
  customerCode?: string;
  salesRepIds?: number[];
  from?: Date;
  to?: Date;
  /** Matches an order number prefix or a customer name/code fragment. */
  search?: string;
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Newest first, paged by an opaque cursor (the last id seen), so pages stay stable while orders arrive. */
export async function listOrders(deps: ServiceDeps, input: ListOrdersInput): Promise<Page<OrderSummary>> {
  const m = deps.db.models;
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
  const where: WhereOptions<OrderRow>[] = [];
  if (input.status?.length) where.push({ status: { [Op.in]: input.status } });
  if (input.salesRepIds) where.push({ salesRepId: { [Op.in]: input.salesRepIds } });
  if (input.from) where.push({ createdAt: { [Op.gte]: input.from } });
  if (input.to) where.push({ createdAt: { [Op.lt]: input.to } });
  if (input.cursor) where.push({ id: { [Op.lt]: decodeCursor(input.cursor) } });
  if (input.customerCode) {
    const customer = await m.Customer.findOne({ where: { code: input.customerCode }, attributes: ["id"] });
    if (!customer) return { items: [], nextCursor: null };
    where.push({ customerId: customer.id });
  }
  if (input.search) {
    const q = input.search.trim();
    const customers = await m.Customer.findAll({
      where: { [Op.or]: [containsText("name", q), containsText("code", q)] },
      attributes: ["id"],
      limit: 200,
    });
    where.push({
      [Op.or]: [startsWithText("order_no", q), { customerId: { [Op.in]: customers.map((c) => c.id) } }],
    });
  }
  const rows = await m.Order.findAll({ where: { [Op.and]: where }, order: [["id", "DESC"]], limit: limit + 1 });
  const page = rows.slice(0, limit);
  const customerIds = [...new Set(page.map((o) => o.customerId))];
  const repIds = [...new Set(page.flatMap((o) => (o.salesRepId ? [o.salesRepId] : [])))];
  const [customers, reps] = await Promise.all([
    customerIds.length ? m.Customer.findAll({ where: { id: { [Op.in]: customerIds } }, attributes: ["id", "code", "name"] }) : [],
    repIds.length ? m.User.findAll({ where: { id: { [Op.in]: repIds } }, attributes: ["id", "name"] }) : [],
  ]);
  const customerOf = new Map(customers.map((c) => [c.id, { id: c.id, code: c.code, name: c.name }]));
  const repOf = new Map(reps.map((u) => [u.id, { id: u.id, name: u.name }]));
  const items = page.map((o) => ({
    id: o.id,
    orderNo: o.orderNo,
    status: o.status,
    source: o.source,
    customer: customerOf.get(o.customerId) ?? { id: o.customerId, code: "?", name: "?" },
    salesRep: o.salesRepId ? (repOf.get(o.salesRepId) ?? null) : null,
    totalFen: o.totalFen,
    paidFen: o.paidFen,
    createdAt: o.createdAt.toISOString(),
    submittedAt: o.submittedAt?.toISOString() ?? null,
    shippedAt: o.shippedAt?.toISOString() ?? null,
  }));
  return { items, nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null };
}

export function encodeCursor(id: number): string {
  return Buffer.from(`o:${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^o:(\d{1,15})$/.exec(text);
  if (!match) throw new DomainError("validation_failed", "cursor is not one this API issued", { path: "query.cursor" });
  return Number(match[1]);
}
