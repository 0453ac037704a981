import type { Card } from "../card";
import { t, type Locale, type MessageKey } from "../i18n";
import type { OrderView } from "../order-view";
import { chooseCard } from "./choose-card";

/** The reasons an approver picks from (the approval card adds "其他"/Other; on this card it is typed). */
export const REJECT_REASONS: readonly MessageKey[] = ["reject.price", "reject.credit", "reject.stock", "reject.info"];

/**
 * The follow-up card asking an approver why they reject an order's step, when 驳回 came without a reason.
 * It names the step, so a pick decides that step even after the order has moved on to another one.
 */
export function rejectReasonCard(view: OrderView, stepId: number, locale: Locale): Card {
  const options = REJECT_REASONS.map((key) => ({ value: t(locale, key), label: t(locale, key) }));
  return chooseCard({
    locale,
    question: t(locale, "reject.question", { orderNo: view.orderNo }),
    action: "approval.reject",
    name: "reason",
    options,
    values: { orderId: String(view.id), stepId: String(stepId) },
  });
}
