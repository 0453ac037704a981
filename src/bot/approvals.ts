import { noticeText, rejectReasonCard } from "../domain/cards";
import { isDomainError, type DomainError } from "../domain/errors";
import { t, type Locale } from "../domain/i18n";
import type { StepStatus } from "../domain/order-view";
import { errorReply } from "./error-replies";
import { say } from "./messages";
import { cardReply, textReply, type Reply } from "./replies";
import { me, type Turn } from "./turn";

interface StepRef {
  orderId: number;
  stepId?: number;
}

const REJECT_TTL_MS = 30 * 60 * 1000;
const CANCEL = /^(?:取消|算了|不驳回了?|cancel)$/i;

const rejectKey = (userId: number) => `bot:reject:${userId}`;

/** The order and step a card action names; null when the values are not ours. */
export function stepRef(values: Record<string, string>): StepRef | null {
  const orderId = Number(values.orderId);
  const stepId = values.stepId === undefined ? undefined : Number(values.stepId);
  if (!Number.isSafeInteger(orderId) || orderId <= 0) return null;
  if (stepId !== undefined && (!Number.isSafeInteger(stepId) || stepId <= 0)) return null;
  return { orderId, ...(stepId ? { stepId } : {}) };
}

/** 同意 on an approval card; the card itself is redrawn through the outbox, so success says nothing. */
export function approve(turn: Turn, ref: StepRef): Promise<Reply[]> {
  return decide(turn, ref, "approve", null);
}

/**
 * 驳回: with a reason (the card's select) it is decided at once; without one the bot asks, and the
 * approver's next text message is taken as the reason. "其他"/"Other" from the select is no reason.
 */
export async function reject(turn: Turn, ref: StepRef, reason: string | undefined): Promise<Reply[]> {
  const given = reason?.trim();
  if (given && !isOther(given)) return decide(turn, ref, "reject", given);
  const checked = await precheck(turn, ref);
  if ("refusal" in checked) return checked.refusal;
  const stepRef = { orderId: ref.orderId, stepId: checked.stepId };
  await turn.deps.serviceDeps.cache.set(rejectKey(me(turn)), JSON.stringify(stepRef), REJECT_TTL_MS);
  const view = await turn.deps.services.loadOrderView(ref.orderId);
  // Kept as a live card of the step: once the step is decided (by this pick, a typed reason, or anyone on
  // the approval card), it is redrawn with the outcome instead of staying open to taps (outbox/card-content.ts).
  const card = rejectReasonCard(view, checked.stepId, turn.locale);
  return [cardReply(card, { orderId: ref.orderId, refKind: "reject_reason", stepId: checked.stepId }), textReply(say(turn.locale, "rejectTypeHint"))];
}

/** While a reject waits for its reason, the next text is that reason (or 取消 to drop it). */
export async function takeRejectReason(turn: Turn, text: string): Promise<Reply[] | null> {
  const cache = turn.deps.serviceDeps.cache;
  const key = rejectKey(me(turn));
  const raw = await cache.get(key);
  const reason = text.trim();
  if (!raw || !reason) return null;
  if (CANCEL.test(reason)) {
    turn.afterReplies.push(() => cache.del(key));
    return [textReply(say(turn.locale, "rejectCancelled"))];
  }
  const ref = JSON.parse(raw) as StepRef;
  const replies = await decide(turn, ref, "reject", reason);
  if (replies.length > 0) return replies;
  // Typed, not tapped: the approver sees no card change right where they typed, so confirm it.
  const view = await turn.deps.services.loadOrderView(ref.orderId);
  return [textReply(say(turn.locale, "rejectDone", { orderNo: view.orderNo, reason }))];
}

async function decide(turn: Turn, ref: StepRef, decision: "approve" | "reject", comment: string | null): Promise<Reply[]> {
  // Whatever this person decides now supersedes a reject still waiting for its typed reason.
  turn.afterReplies.push(() => turn.deps.serviceDeps.cache.del(rejectKey(me(turn))));
  try {
    await turn.deps.services.decideApproval({ ...ref, decision, comment }, turn.actor);
    return [];
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return [await refusalFor(turn, ref, err)];
  }
}

async function refusalFor(turn: Turn, ref: StepRef, err: DomainError): Promise<Reply> {
  if (err.code === "not_an_approver") return textReply(noticeText("forbidden_action", { scope: "approval" }, turn.locale));
  if (err.code === "step_not_pending" || err.code === "invalid_transition") return alreadyDecided(turn, ref);
  return errorReply(err, turn.locale);
}

/** Before asking for a reason: is there anything this person could still reject, and in which step? */
async function precheck(turn: Turn, ref: StepRef): Promise<{ refusal: Reply[] } | { stepId: number }> {
  const m = turn.deps.serviceDeps.db.models;
  const where = ref.stepId ? { id: ref.stepId, orderId: ref.orderId } : { orderId: ref.orderId, status: "pending" };
  const step = await m.ApprovalStep.findOne({ where });
  if (!step) {
    const order = await m.Order.findByPk(ref.orderId, { attributes: ["id"] });
    return { refusal: [order ? await alreadyDecided(turn, ref) : textReply(say(turn.locale, "notFound"))] };
  }
  const mine = await m.ApprovalDecision.findOne({ where: { stepId: step.id, approverId: me(turn) } });
  if (step.status !== "pending" || mine) return { refusal: [await alreadyDecided(turn, { ...ref, stepId: step.id })] };
  if (!step.approverIds.includes(me(turn))) {
    return { refusal: [textReply(noticeText("forbidden_action", { scope: "approval" }, turn.locale))] };
  }
  return { stepId: step.id };
}

const SETTLED: readonly StepStatus[] = ["approved", "rejected", "cancelled"];

async function alreadyDecided(turn: Turn, ref: StepRef): Promise<Reply> {
  const view = await turn.deps.services.loadOrderView(ref.orderId).catch((err: unknown) => {
    if (isDomainError(err) && err.code === "not_found") return null;
    throw err;
  });
  if (!view) return textReply(noticeText("already_decided", {}, turn.locale));
  const step = view.approval.steps.find((s) => s.id === ref.stepId);
  const status = step && SETTLED.includes(step.status) ? (step.status as "approved" | "rejected" | "cancelled") : undefined;
  return textReply(noticeText("already_decided", { orderNo: view.orderNo, ...(status ? { status } : {}) }, turn.locale));
}

function isOther(reason: string): boolean {
  const other = (locale: Locale) => t(locale, "reject.other");
  return reason === other("zh-CN") || reason === other("en");
}
