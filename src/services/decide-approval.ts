import { Op, type Transaction } from "sequelize";
import { countersignComplete } from "../domain/approval-escalation";
import { DomainError } from "../domain/errors";
import type { OrderView } from "../domain/order-view";
import type { Actor } from "../domain/roles";
import type { ApprovalStepRow } from "../db/models/approvals";
import type { OrderRow } from "../db/models/orders";
import { isUniqueViolation } from "../db/sequelize";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { loadOrderView, lockOrder } from "./support/load-order";
import { moveOrder } from "./support/move-order";
import { notifyApproved, notifyRejected, notifyStepActivated, notifyStepDecided } from "./support/notify";
import { releaseStock } from "./support/stock";

export interface DecideApprovalInput {
  orderId: number;
  /** Omitted: the order's current pending step. */
  stepId?: number;
  decision: "approve" | "reject";
  comment?: string | null;
}

/**
 * One approver's decision on a step. `any`: the first decision settles the step; `all` (countersign):
 * every approver must approve, one rejection settles it. The same decision twice returns the current state.
 */
export async function decideApproval(deps: ServiceDeps, input: DecideApprovalInput, actor: Actor): Promise<OrderView> {
  if (actor.userId === null) throw new DomainError("not_an_approver", "an approval needs a named approver");
  const comment = input.comment?.trim() || null;
  if (input.decision === "reject" && !comment) {
    throw new DomainError("validation_failed", "a rejection needs a reason", { path: "comment" });
  }
  try {
    await deps.db.transaction((tx) => decideInTransaction(deps, tx, input, comment, actor));
  } catch (err) {
    // The same approver tapping twice on two devices at once: the unique key let one through.
    if (!isUniqueViolation(err)) throw err;
  }
  return loadOrderView(deps, input.orderId);
}

async function decideInTransaction(deps: ServiceDeps, tx: Transaction, input: DecideApprovalInput, comment: string | null, actor: Actor) {
  const m = deps.db.models;
  // Every decision on an order queues behind this lock, so two approvers can never both settle a step.
  const order = await lockOrder(deps, tx, input.orderId);
  const userId = actor.userId as number;
  if (input.stepId === undefined && (await isRepeatOfSettled(deps, tx, order, userId, input.decision))) return;
  const step = await findStep(deps, tx, order, input.stepId);

  const mine = await m.ApprovalDecision.findOne({ where: { stepId: step.id, approverId: userId }, transaction: tx });
  if (mine && mine.decision === input.decision) return; // a double tap
  if (step.status !== "pending" || mine) {
    throw new DomainError("step_not_pending", `this approval step is already ${step.status === "pending" ? "decided by you" : step.status}`, {
      stepId: step.id,
      status: step.status,
    });
  }
  if (!step.approverIds.includes(userId)) {
    throw new DomainError("not_an_approver", "you are not an approver of this step", { stepId: step.id });
  }

  const at = deps.now();
  const decision = await m.ApprovalDecision.create(
    { stepId: step.id, approverId: userId, decision: input.decision, comment, decidedAt: at },
    { transaction: tx },
  );
  await recordAudit(deps, tx, {
    entity: "approval_step",
    entityId: step.id,
    action: input.decision,
    actor,
    after: { orderId: order.id, stepNo: step.stepNo, decision: input.decision },
    reason: comment,
  });

  const outcome = await stepOutcome(deps, tx, step, input.decision);
  if (outcome !== "pending") {
    step.set({ status: outcome, decidedAt: at });
    await step.save({ transaction: tx });
  }
  await notifyStepDecided(deps, tx, order, step, decision.id);
  if (outcome === "approved") await advance(deps, tx, order, step, actor);
  if (outcome === "rejected") await reject(deps, tx, order, step, comment, actor);
}

/** A double tap arriving after the step settled: this approver already decided the same way this round. */
async function isRepeatOfSettled(deps: ServiceDeps, tx: Transaction, order: OrderRow, userId: number, decision: "approve" | "reject") {
  const pending = await deps.db.models.ApprovalStep.count({ where: { orderId: order.id, round: order.approvalRound, status: "pending" }, transaction: tx });
  if (pending > 0) return false;
  const steps = await deps.db.models.ApprovalStep.findAll({ where: { orderId: order.id, round: order.approvalRound }, attributes: ["id"], transaction: tx });
  if (steps.length === 0) return false;
  const mine = await deps.db.models.ApprovalDecision.findOne({
    where: { stepId: { [Op.in]: steps.map((s) => s.id) }, approverId: userId },
    order: [["id", "DESC"]],
    transaction: tx,
  });
  return mine?.decision === decision;
}

async function findStep(deps: ServiceDeps, tx: Transaction, order: OrderRow, stepId?: number): Promise<ApprovalStepRow> {
  const where = stepId
    ? { id: stepId, orderId: order.id }
    : { orderId: order.id, round: order.approvalRound, status: "pending" };
  const step = await deps.db.models.ApprovalStep.findOne({ where, transaction: tx });
  if (step) return step;
  if (stepId) throw new DomainError("not_found", `approval step ${stepId} not found on this order`, { stepId });
  throw new DomainError("step_not_pending", `order is ${order.status}; nothing is waiting for approval`, {
    status: order.status,
  });
}

async function stepOutcome(deps: ServiceDeps, tx: Transaction, step: ApprovalStepRow, decision: "approve" | "reject") {
  if (decision === "reject") return "rejected" as const;
  if (step.mode === "any") return "approved" as const;
  const approvals = await deps.db.models.ApprovalDecision.findAll({
    where: { stepId: step.id, decision: "approve", approverId: { [Op.in]: step.approverIds } },
    attributes: ["approverId"],
    transaction: tx,
  });
  // A manager added by escalation approves in place of the approver they were added for.
  const approvedBy = new Set(approvals.map((d) => d.approverId));
  return countersignComplete(step.approverIds, step.escalations ?? [], approvedBy) ? ("approved" as const) : ("pending" as const);
}

/** The next step of the round becomes pending, or the order is approved when none is left. */
async function advance(deps: ServiceDeps, tx: Transaction, order: OrderRow, step: ApprovalStepRow, actor: Actor) {
  const next = await deps.db.models.ApprovalStep.findOne({
    where: { orderId: order.id, round: step.round, status: "waiting" },
    order: [["stepNo", "ASC"]],
    transaction: tx,
  });
  if (next) {
    next.set({ status: "pending", activatedAt: deps.now() });
    await next.save({ transaction: tx });
    await notifyStepActivated(deps, tx, order, next);
    return;
  }
  await moveOrder(deps, tx, order, "approve", actor, { fields: { approvedAt: deps.now() } });
  await notifyApproved(deps, tx, order);
}

async function reject(deps: ServiceDeps, tx: Transaction, order: OrderRow, step: ApprovalStepRow, comment: string | null, actor: Actor) {
  const m = deps.db.models;
  await m.ApprovalStep.update(
    { status: "cancelled" },
    { where: { orderId: order.id, round: step.round, status: "waiting" }, transaction: tx },
  );
  await moveOrder(deps, tx, order, "reject", actor, { reason: comment });
  const lines = await m.OrderLine.findAll({ where: { orderId: order.id }, transaction: tx });
  await releaseStock(deps, tx, lines.map((l) => ({ productId: l.productId, sku: l.sku, qty: l.qty - l.shippedQty })));
  await notifyRejected(deps, tx, order, comment);
}
