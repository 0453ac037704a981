import type { Transaction } from "sequelize";
import { DomainError } from "../domain/errors";
import { isRepeat } from "../domain/order-state";
import { assertMayPerform } from "../domain/permissions";
import type { Actor } from "../domain/roles";
import type { OrderLineRow, OrderRow } from "../db/models/orders";
import type { CustomerRow } from "../db/models/customers";
import type { OrderView } from "../domain/order-view";
import type { ServiceDeps } from "./deps";
import { startApprovalRound, type PlannedRound } from "./support/approval-round";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";
import { notifyApproved, notifyStepActivated } from "./support/notify";
import { reserveStock } from "./support/stock";

export interface SubmitOrderInput {
  orderId: number;
  /** When given, the order must still be at this version (someone else may have edited it). */
  expectedVersion?: number;
}

/** Submits a draft: routes it for approval (or approves it outright) and reserves its stock. */
export async function submitOrder(deps: ServiceDeps, input: SubmitOrderInput, actor: Actor): Promise<OrderView> {
  const orderId = await deps.db.transaction(async (tx) => {
    const order = await lockOrder(deps, tx, input.orderId);
    assertMayPerform(actor, "submit", order);
    if (isRepeat("submit", order.status)) return order.id;
    if (input.expectedVersion !== undefined && input.expectedVersion !== order.version) {
      throw new DomainError("conflict", "the order was changed by someone else; reload it", {
        expectedVersion: input.expectedVersion,
        version: order.version,
      });
    }
    const lines = await deps.db.models.OrderLine.findAll({ where: { orderId: order.id }, transaction: tx });
    await submitInTransaction(deps, tx, order, lines, actor);
    return order.id;
  });
  return loadOrderView(deps, orderId);
}

/**
 * The submit of a saved draft. Stock is reserved last so the hot stock rows stay locked
 * for as short a time as possible; a shortfall throws and the caller's transaction undoes everything.
 */
export async function submitInTransaction(
  deps: ServiceDeps,
  tx: Transaction,
  order: OrderRow,
  lines: OrderLineRow[],
  actor: Actor,
  customer?: CustomerRow,
): Promise<void> {
  const plan = await startApprovalRound(deps, tx, order, lines, order.approvalRound + 1, customer);
  await recordSubmitMoves(deps, tx, order, actor, plan, { at: deps.now(), saved: false, customer });
  // Everything else is written before the stock rows are locked, so the hot lock is held only to commit.
  await deps.db.buffer(tx)?.flush();
  await reserveStock(
    deps,
    tx,
    lines.map((l) => ({ productId: l.productId, sku: l.sku, qty: l.qty - l.shippedQty })),
  );
}

/**
 * The submit's state moves (and, when the rules approve it outright, the approval), their audit
 * events and who hears of them. `saved: false` writes the order row; a batch that writes its rows
 * itself passes `saved: true` and saves the moved fields afterwards.
 */
export async function recordSubmitMoves(
  deps: ServiceDeps,
  tx: Transaction,
  order: OrderRow,
  actor: Actor,
  plan: PlannedRound,
  opts: { at: Date; saved: boolean; customer?: CustomerRow },
): Promise<void> {
  const round = order.approvalRound + 1;
  await moveOrder(deps, tx, order, "submit", actor, {
    fields: { submittedAt: opts.at, approvalRound: round },
    auditAfter: { round, steps: plan.steps.map((s) => ({ stepNo: s.stepNo, label: s.label, approverIds: s.approverIds })) },
    // Approved straight away: the approve move below saves both moves in one UPDATE.
    persist: !plan.autoApproved && !opts.saved,
  });
  if (plan.autoApproved) {
    await moveOrder(deps, tx, order, "approve", actor, { fields: { approvedAt: opts.at }, reason: "auto_approved", persist: !opts.saved });
    await notifyApproved(deps, tx, order, opts.customer);
  } else {
    await notifyStepActivated(deps, tx, order, plan.steps[0]);
  }
}
