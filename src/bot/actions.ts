import { noticeText } from "../domain/cards";
import { isDomainError } from "../domain/errors";
import { statusLabel } from "../domain/i18n";
import { mayPerform } from "../domain/permissions";
import { approve, reject, stepRef } from "./approvals";
import { errorReply, stockShortText } from "./error-replies";
import { say } from "./messages";
import { textReply, type Reply } from "./replies";
import { CHOOSE_ACTION, resumeChoice } from "./resolve-order";
import type { Turn } from "./turn";

/** The cancel reason recorded when a rep discards their own draft from the preview card. */
export const DISCARD_REASON = "草稿已撤销";

/** Routes a tap on a card button or select by its action key. */
export async function answerAction(turn: Turn, action: string, values: Record<string, string>): Promise<Reply[]> {
  switch (action) {
    case "order.submit":
      return submit(turn, values);
    case "order.discard":
      return discard(turn, values);
    case "approval.approve": {
      const ref = stepRef(values);
      return ref ? approve(turn, ref) : notUnderstood(turn);
    }
    case "approval.reject": {
      const ref = stepRef(values);
      return ref ? reject(turn, ref, values.reason) : notUnderstood(turn);
    }
    case "order.new_for_customer":
      return newForCustomer(turn, values.customerCode ?? "");
    case CHOOSE_ACTION:
      return resumeChoice(turn, values);
    default:
      return notUnderstood(turn);
  }
}

function notUnderstood(turn: Turn): Reply[] {
  return [textReply(noticeText("not_understood", {}, turn.locale))];
}

function wholeNumber(s: string | undefined, min: number): number | null {
  const n = Number(s);
  return s !== undefined && s !== "" && Number.isSafeInteger(n) && n >= min ? n : null;
}

const positiveInt = (s: string | undefined) => wholeNumber(s, 1);

/**
 * 提交 on a preview. Success needs no reply: the submit redraws the preview through the outbox and the
 * approvers get their cards. The version on the card makes a tap on an outdated preview a conflict.
 */
async function submit(turn: Turn, values: Record<string, string>): Promise<Reply[]> {
  const orderId = positiveInt(values.orderId);
  if (orderId === null) return notUnderstood(turn);
  const version = wholeNumber(values.version, 0);
  try {
    await turn.deps.services.submitOrder({ orderId, ...(version === null ? {} : { expectedVersion: version }) }, turn.actor);
    return [];
  } catch (err) {
    if (!isDomainError(err)) throw err;
    if (err.code === "insufficient_stock") return [textReply(stockShortText(err, turn.locale))];
    return [errorReply(err, turn.locale)];
  }
}

/** 取消 on a preview: only a draft is discarded, so a stale preview can never cancel a submitted order. */
async function discard(turn: Turn, values: Record<string, string>): Promise<Reply[]> {
  const orderId = positiveInt(values.orderId);
  if (orderId === null) return notUnderstood(turn);
  const order = await turn.deps.serviceDeps.db.models.Order.findByPk(orderId, {
    attributes: ["id", "orderNo", "status", "salesRepId"],
  });
  if (!order) return [textReply(say(turn.locale, "notFound"))];
  if (!mayPerform(turn.actor, "cancel", order)) return [textReply(noticeText("forbidden_action", {}, turn.locale))];
  if (order.status === "cancelled") return []; // a double tap
  if (order.status !== "draft") {
    const status = statusLabel(order.status, turn.locale);
    return [textReply(say(turn.locale, "discardNotDraft", { orderNo: order.orderNo, status }))];
  }
  // A submit landing between the check and here is still cancelled: the rep asked to discard it.
  await turn.deps.services.cancelOrder({ orderId, reason: DISCARD_REASON }, turn.actor);
  return [];
}

/** A recent customer tapped on the new-order card: show how to type the order for them. */
async function newForCustomer(turn: Turn, customerCode: string): Promise<Reply[]> {
  if (!mayPerform(turn.actor, "place", null)) return [textReply(noticeText("forbidden_action", {}, turn.locale))];
  const customer = customerCode
    ? await turn.deps.serviceDeps.db.models.Customer.findOne({ where: { code: customerCode, active: true } })
    : null;
  if (!customer) return [textReply(say(turn.locale, "notFound"))];
  return [textReply(say(turn.locale, "newForCustomer", { name: customer.name }))];
}
