import { t, type Locale } from "../i18n";
import type { StepStatus } from "../order-view";

/** The plain chat texts the outbox sends, and what each needs to say its piece. */
export interface NoticeParams {
  step_decided: {
    orderNo: string;
    approverName: string;
    decision: "approve" | "reject";
    stepLabel?: string;
    comment?: string | null;
  };
  order_approved: { orderNo: string };
  order_rejected: { orderNo: string; reason?: string | null };
  order_shipped: { orderNo: string; carrier: string; trackingNo: string; partial?: boolean };
  order_cancelled: { orderNo: string; reason?: string | null };
  not_understood: Record<string, never>;
  /** scope "approval": the person is not an approver of that step; otherwise a general refusal. */
  forbidden_action: { scope?: "approval" | "order" };
  /** How the step ended; both may be missing when the bot knows no more. */
  already_decided: { orderNo?: string; status?: Exclude<StepStatus, "waiting" | "pending"> };
}

export type NoticeKey = keyof NoticeParams;

/** One short chat text in the reader's language. */
export function noticeText<K extends NoticeKey>(key: K, params: NoticeParams[K], locale: Locale): string {
  return WRITERS[key](params, locale);
}

const reason = (text: string | null | undefined, locale: Locale): string =>
  text ? t(locale, "notice.reason", { reason: text }) : "";

const WRITERS: { [K in NoticeKey]: (p: NoticeParams[K], locale: Locale) => string } = {
  step_decided: (p, locale) => {
    const key = p.decision === "approve" ? "notice.stepApproved" : "notice.stepRejected";
    const step = p.stepLabel ? t(locale, "notice.stepLabel", { step: p.stepLabel }) : "";
    const why = p.decision === "reject" ? reason(p.comment, locale) : "";
    return t(locale, key, { orderNo: p.orderNo, approver: p.approverName }) + step + why;
  },
  order_approved: (p, locale) => t(locale, "notice.orderApproved", { orderNo: p.orderNo }),
  order_rejected: (p, locale) =>
    t(locale, "notice.orderRejected", { orderNo: p.orderNo }) +
    reason(p.reason, locale) +
    t(locale, "notice.reviseHint", { orderNo: p.orderNo }),
  order_shipped: (p, locale) =>
    t(locale, "notice.orderShipped", { orderNo: p.orderNo, carrier: p.carrier, trackingNo: p.trackingNo }) +
    (p.partial ? t(locale, "notice.partial") : ""),
  order_cancelled: (p, locale) => t(locale, "notice.orderCancelled", { orderNo: p.orderNo }) + reason(p.reason, locale),
  not_understood: (_p, locale) => t(locale, "notice.notUnderstood"),
  forbidden_action: (p, locale) => t(locale, p.scope === "approval" ? "notice.forbiddenApproval" : "notice.forbidden"),
  already_decided: (p, locale) => {
    if (!p.orderNo) return t(locale, "notice.alreadyDecidedBare");
    if (!p.status) return t(locale, "notice.alreadyDecidedOrder", { orderNo: p.orderNo });
    return t(locale, "notice.alreadyDecided", { orderNo: p.orderNo, status: t(locale, `step.${p.status}`) });
  },
};
