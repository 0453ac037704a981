import { DomainError } from "../domain/errors";
import { assertMayPerform } from "../domain/permissions";
import type { OrderStatus } from "../domain/order-state";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";
import { emitOrderEvent } from "./support/notify";

export interface RecordPaymentInput {
  orderId: number;
  amountFen: number;
  paidAt: Date;
  method?: string | null;
  /** The bank or ERP reference: the same reference twice is one payment. */
  reference?: string | null;
}

const PAYABLE: readonly OrderStatus[] = ["approved", "picking", "packed", "partially_shipped", "shipped", "delivered"];

/** Records money received; a delivered order paid in full is completed. */
export async function recordPayment(deps: ServiceDeps, input: RecordPaymentInput, actor: Actor): Promise<OrderView> {
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "record_payment", order);
    if (input.reference) {
      const same = await m.Payment.findOne({ where: { orderId: order.id, reference: input.reference }, transaction: tx });
      if (same) return;
    }
    if (!PAYABLE.includes(order.status)) {
      throw new DomainError("invalid_transition", `cannot record a payment on an order that is ${order.status}`, {
        from: order.status,
        action: "pay",
      });
    }
    const outstanding = order.totalFen - order.paidFen;
    if (input.amountFen > outstanding) {
      throw new DomainError("overpayment", `payment exceeds the ${outstanding} fen outstanding`, {
        outstandingFen: outstanding,
        amountFen: input.amountFen,
      });
    }
    const payment = await m.Payment.create(
      {
        orderId: order.id,
        amountFen: input.amountFen,
        paidAt: input.paidAt,
        method: input.method ?? null,
        reference: input.reference ?? null,
        createdBy: actor.label,
      },
      { transaction: tx },
    );
    const paidBefore = order.paidFen;
    order.paidFen = paidBefore + input.amountFen;
    order.version += 1;
    await order.save({ transaction: tx });
    await recordAudit(deps, tx, {
      entity: "order",
      entityId: order.id,
      action: "payment_recorded",
      actor,
      before: { paidFen: paidBefore },
      after: { paidFen: order.paidFen, paymentId: payment.id, amountFen: input.amountFen },
    });
    await emitOrderEvent(deps, tx, order, "order.paid", `payment:${payment.id}`);
    if (order.status === "delivered" && order.paidFen >= order.totalFen) {
      await moveOrder(deps, tx, order, "complete", actor, { fields: { completedAt: deps.now() }, reason: "paid_in_full" });
    }
  });
  return loadOrderView(deps, input.orderId);
}
