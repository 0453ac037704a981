import { Op } from "sequelize";
import type { OrderView } from "../domain/order-view";
import type { ServiceDeps } from "./deps";
import { loadOrderViews } from "./support/load-order";

/** One approval waiting for a person: the step and the order it decides. */
export interface PendingApproval {
  stepId: number;
  stepLabel: string;
  activatedAt: string | null;
  order: OrderView;
}

const MAX_PENDING_STEPS = 2_000;

/**
 * Steps pending now where `userId` is an approver who has not decided yet, oldest first. Approver ids
 * are a list column, so the match is made here over the (few) pending steps rather than in SQL.
 */
async function openStepsFor(deps: ServiceDeps, userId: number) {
  const m = deps.db.models;
  const pending = await m.ApprovalStep.findAll({
    where: { status: "pending" },
    attributes: ["id", "orderId", "label", "activatedAt", "approverIds"],
    order: [["activatedAt", "ASC"], ["id", "ASC"]],
    limit: MAX_PENDING_STEPS,
  });
  const mine = pending.filter((s) => s.approverIds.includes(userId));
  if (mine.length === 0) return [];
  const decided = await m.ApprovalDecision.findAll({ where: { stepId: { [Op.in]: mine.map((s) => s.id) }, approverId: userId }, attributes: ["stepId"] });
  const done = new Set(decided.map((d) => d.stepId));
  return mine.filter((s) => !done.has(s.id));
}

/** The approvals waiting for `userId`, oldest first, each with its order's full view (a page of them). */
export async function listPendingApprovals(deps: ServiceDeps, input: { userId: number; limit?: number }): Promise<PendingApproval[]> {
  const open = (await openStepsFor(deps, input.userId)).slice(0, Math.min(input.limit ?? 20, 100));
  const views = await loadOrderViews(deps, open.map((s) => s.orderId));
  return open.map((s, i) => ({ stepId: s.id, stepLabel: s.label, activatedAt: s.activatedAt?.toISOString() ?? null, order: views[i] }));
}

/** How many approvals wait for `userId` (the home page's tile), without loading the orders. */
export async function countPendingApprovals(deps: ServiceDeps, userId: number): Promise<number> {
  return (await openStepsFor(deps, userId)).length;
}

/** Everyone who is or was asked to approve an order in its current round (they may open it). */
export async function orderApproverIds(deps: ServiceDeps, orderId: number): Promise<number[]> {
  const steps = await deps.db.models.ApprovalStep.findAll({ where: { orderId }, attributes: ["approverIds"] });
  return [...new Set(steps.flatMap((s) => s.approverIds))];
}
