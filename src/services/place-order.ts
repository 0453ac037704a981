import { DomainError } from "../domain/errors";
import { assertMayPerform } from "../domain/permissions";
import type { Actor } from "../domain/roles";
import type { OrderSource, OrderView } from "../domain/order-view";
import { isUniqueViolation } from "../db/sequelize";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { buildLines, findCustomer, type LineInput } from "./support/build-lines";
import { loadOrderView } from "./support/load-order";
import { emitOrderEvent } from "./support/notify";
import { allocateOrderNo } from "./support/order-no";
import { submitInTransaction } from "./submit-order";

export interface PlaceOrderInput {
  customerCode?: string;
  customerId?: number;
  lines: LineInput[];
  note?: string | null;
  submit?: boolean;
  /** A retried create with the same key returns the first result instead of a second order. */
  idempotencyKey?: string | null;
  source: OrderSource;
  /** Defaults to the acting user when they sell, else the customer's owner. */
  salesRepId?: number | null;
  shipTo?: { name?: string | null; phone?: string | null; address?: string | null };
}

/** Creates a draft order, and submits it in the same transaction when asked. */
export async function placeOrder(deps: ServiceDeps, input: PlaceOrderInput, actor: Actor): Promise<OrderView> {
  assertMayPerform(actor, "place", null);
  const key = input.idempotencyKey ?? null;
  if (key) {
    const earlier = await findByIdempotencyKey(deps, key, input);
    if (earlier) return earlier;
  }
  const customer = await findCustomer(deps, input);
  const { lines, totalFen } = await buildLines(deps, input.lines);
  const salesRepId =
    input.salesRepId !== undefined ? input.salesRepId : actor.kind === "user" ? actor.userId : customer.ownerUserId;
  const orderNo = await allocateOrderNo(deps);

  try {
    const orderId = await deps.db.transaction(async (tx) => {
      const m = deps.db.models;
      const order = await m.Order.create(
        {
          orderNo,
          customerId: customer.id,
          salesRepId,
          status: "draft",
          totalFen,
          paymentTermsDays: customer.paymentTermsDays,
          dueAt: null,
          shipToName: input.shipTo?.name ?? customer.contactName,
          shipToPhone: input.shipTo?.phone ?? customer.phone,
          shipToAddress: input.shipTo?.address ?? customer.address,
          note: input.note ?? null,
          source: input.source,
          idempotencyKey: key,
          approvalReasons: null,
          createdBy: actor.label,
          submittedAt: null,
          approvedAt: null,
          shippedAt: null,
          deliveredAt: null,
          completedAt: null,
          cancelledAt: null,
          cancelReason: null,
        },
        { transaction: tx },
      );
      const rows = await m.OrderLine.bulkCreate(
        lines.map((l) => ({ ...l, orderId: order.id })),
        { transaction: tx },
      );
      await recordAudit(deps, tx, {
        entity: "order",
        entityId: order.id,
        action: "created",
        actor,
        after: { orderNo, customer: customer.code, totalFen, lines: lines.map((l) => ({ sku: l.sku, qty: l.qty, unitPriceFen: l.unitPriceFen })) },
      });
      await emitOrderEvent(deps, tx, order, "order.created", "1");
      if (input.submit) await submitInTransaction(deps, tx, order, rows, actor, customer);
      return order.id;
    });
    return loadOrderView(deps, orderId);
  } catch (err) {
    // Two identical retries raced: the loser returns what the winner created.
    if (key && isUniqueViolation(err)) {
      const earlier = await findByIdempotencyKey(deps, key, input);
      if (earlier) return earlier;
    }
    throw err;
  }
}

async function findByIdempotencyKey(deps: ServiceDeps, key: string, input: PlaceOrderInput): Promise<OrderView | null> {
  const existing = await deps.db.models.Order.findOne({ where: { idempotencyKey: key }, attributes: ["id"] });
  if (!existing) return null;
  const view = await loadOrderView(deps, existing.id);
  const sameCustomer =
    (input.customerId ?? null) === view.customer.id || (input.customerCode ?? null) === view.customer.code;
  const sameLines =
    view.lines.length === input.lines.length &&
    input.lines.every((l, i) => {
      const v = view.lines[i];
      return (l.sku ?? "").toUpperCase() === v.sku.toUpperCase() || l.productId === v.productId
        ? l.qty === v.qty && (l.unitPriceFen == null || l.unitPriceFen === v.unitPriceFen)
        : false;
    });
  if (!sameCustomer || !sameLines) {
    throw new DomainError("idempotency_conflict", "this Idempotency-Key was already used for a different order", {
      orderId: view.id,
      orderNo: view.orderNo,
    });
  }
  return view;
}
