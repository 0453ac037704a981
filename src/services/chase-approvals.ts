import { Op, type Transaction } from "sequelize";
import { planEscalation, withEscalated } from "../domain/approval-escalation";
import { hoursText, tj } from "../domain/i18n-jobs";
import { localeOf } from "../domain/i18n";
import type { Actor } from "../domain/roles";
import { isWorkingTime, workingHoursBetween, type WorkingCalendar } from "../domain/working-hours";
import type { ApprovalStepRow } from "../db/models/approvals";
import type { ServiceDeps } from "./deps";
import { enqueue, type OutboxMessage } from "./enqueue";
import { recordAudit } from "./support/audit";
import { lockOrder } from "./support/load-order";

export interface ChasePolicy {
  remindAfterHours: number;
  escalateAfterHours: number;
  calendar: WorkingCalendar;
}

export type ChaseAction = "remind" | "escalate";

const ACTOR: Actor = Object.freeze({ kind: "system", userId: null, roles: [], label: "system:approval-reminders" });

/**
 * What to do with a pending step now, counted in working hours: escalate once past `escalateAfterHours`,
 * otherwise remind once past `remindAfterHours` and at most every `remindAfterHours` after the last reminder.
 * Nothing outside working time: nobody is chased at night or at the weekend.
 */
export function chaseActionFor(step: Pick<ApprovalStepRow, "status" | "activatedAt" | "remindedAt" | "escalatedAt">, now: Date, policy: ChasePolicy): ChaseAction | null {
  if (step.status !== "pending" || !step.activatedAt || !isWorkingTime(now, policy.calendar)) return null;
  const waited = workingHoursBetween(step.activatedAt, now, policy.calendar);
  if (!step.escalatedAt && waited >= policy.escalateAfterHours) return "escalate";
  if (waited < policy.remindAfterHours) return null;
  const since = step.remindedAt ? workingHoursBetween(step.remindedAt, now, policy.calendar) : Infinity;
  return since >= policy.remindAfterHours ? "remind" : null;
}

/** Pending steps that need a reminder or an escalation now. */
export async function findStepsToChase(deps: ServiceDeps, policy: ChasePolicy): Promise<Array<{ stepId: number; action: ChaseAction }>> {
  const now = deps.now();
  if (!isWorkingTime(now, policy.calendar)) return [];
  const steps = await deps.db.models.ApprovalStep.findAll({
    where: { status: "pending", activatedAt: { [Op.ne]: null } },
    attributes: ["id", "status", "activatedAt", "remindedAt", "escalatedAt"],
    order: [["id", "ASC"]],
  });
  return steps.flatMap((s) => {
    const action = chaseActionFor(s, now, policy);
    return action ? [{ stepId: s.id, action }] : [];
  });
}

/** Reminds or escalates one step in its own transaction, re-checked under the order's lock (a decision may have landed). */
export async function chaseStep(deps: ServiceDeps, input: { stepId: number; policy: ChasePolicy }): Promise<ChaseAction | null> {
  return deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const peek = await m.ApprovalStep.findByPk(input.stepId, { attributes: ["orderId"], transaction: tx });
    if (!peek) return null;
    const order = await lockOrder(deps, tx, peek.orderId);
    const step = await m.ApprovalStep.findByPk(input.stepId, { transaction: tx });
    const action = step ? chaseActionFor(step, deps.now(), input.policy) : null;
    if (!step || !action) return null;
    const decided = await m.ApprovalDecision.findAll({ where: { stepId: step.id }, attributes: ["approverId"], transaction: tx });
    const decidedBy = new Set(decided.map((d) => d.approverId));
    const hours = hoursText(Math.floor(workingHoursBetween(step.activatedAt!, deps.now(), input.policy.calendar) * 10) / 10);
    const about = { orderId: order.id, orderNo: order.orderNo, salesRepId: order.salesRepId, hours };
    if (action === "remind") await remind(deps, tx, step, decidedBy, about);
    else await escalate(deps, tx, step, decidedBy, about);
    return action;
  });
}

type About = { orderId: number; orderNo: string; salesRepId: number | null; hours: string };

async function remind(deps: ServiceDeps, tx: Transaction, step: ApprovalStepRow, decidedBy: Set<number>, about: About) {
  const count = step.remindCount + 1;
  step.set({ remindedAt: deps.now(), remindCount: count });
  await step.save({ transaction: tx });
  const waiting = step.approverIds.filter((id) => !decidedBy.has(id));
  await recordAudit(deps, tx, { entity: "approval_step", entityId: step.id, action: "reminded", actor: ACTOR, after: { to: waiting, count, hours: about.hours } });
  await enqueue(
    deps,
    tx,
    waiting.map((userId) => ({
      topic: "card.send",
      dedupeKey: `card.send:approval:${step.id}:${userId}:remind:${count}`,
      payload: { card: "approval_reminder", orderId: about.orderId, stepId: step.id, userId, hours: about.hours },
    })),
  );
}

async function escalate(deps: ServiceDeps, tx: Transaction, step: ApprovalStepRow, decidedBy: Set<number>, about: About) {
  const m = deps.db.models;
  const approvers = await m.User.findAll({ where: { id: { [Op.in]: step.approverIds } }, attributes: ["id", "name", "managerId"], transaction: tx });
  const managerOf = new Map(approvers.map((u) => [u.id, u.managerId]));
  const existing = step.escalations ?? [];
  const plan = planEscalation(step.approverIds, decidedBy, managerOf, existing, deps.now());
  step.set({ escalatedAt: deps.now(), escalations: [...existing, ...plan], approverIds: withEscalated(step.approverIds, plan) });
  await step.save({ transaction: tx });
  await recordAudit(deps, tx, {
    entity: "approval_step",
    entityId: step.id,
    action: "escalated",
    actor: ACTOR,
    after: { escalations: plan, hours: about.hours },
    reason: plan.length ? null : "no undecided approver has a manager",
  });
  if (plan.length === 0) return;

  const managers = await m.User.findAll({ where: { id: { [Op.in]: plan.map((e) => e.to) } }, attributes: ["id", "name", "locale"], transaction: tx });
  const nameOf = (id: number) => approvers.find((u) => u.id === id)?.name ?? managers.find((u) => u.id === id)?.name ?? `#${id}`;
  const messages: OutboxMessage[] = [];
  for (const manager of managers) {
    const forWhom = plan.filter((e) => e.to === manager.id).map((e) => nameOf(e.from)).join("、");
    const text = tj(localeOf(manager.locale), "escalate.manager", { orderNo: about.orderNo, step: step.label, hours: about.hours, approvers: forWhom });
    messages.push({ topic: "chat.text", dedupeKey: `chat.text:escalated:${step.id}:${manager.id}`, payload: { userId: manager.id, text, orderId: about.orderId } });
    // The approval card itself, so the manager can decide right there (a manager already on the step has it).
    if (plan.some((e) => e.to === manager.id && e.added)) {
      messages.push({
        topic: "card.send",
        dedupeKey: `card.send:approval:${step.id}:${manager.id}`,
        payload: { card: "approval_request", orderId: about.orderId, stepId: step.id, userId: manager.id },
      });
    }
  }
  if (about.salesRepId !== null) {
    const rep = await m.User.findByPk(about.salesRepId, { attributes: ["id", "locale"], transaction: tx });
    const text = tj(localeOf(rep?.locale), "escalate.rep", { orderNo: about.orderNo, hours: about.hours, managers: managers.map((u) => u.name).join("、") });
    messages.push({ topic: "chat.text", dedupeKey: `chat.text:escalated:${step.id}:rep`, payload: { userId: about.salesRepId, text, orderId: about.orderId } });
  }
  await enqueue(deps, tx, messages);
}
