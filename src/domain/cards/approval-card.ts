import type { Card, CardLine } from "../card";
import { DomainError } from "../errors";
import { statusLabel, t, type Locale, type MessageKey } from "../i18n";
import { formatFen } from "../money";
import type { ApprovalStepView, OrderView } from "../order-view";
import { REJECT_REASONS } from "./reject-reason-card";
import {
  button,
  joinList,
  joinSentences,
  orderRef,
  percent,
  pricedLine,
  reasonTexts,
  salesRepName,
  statusTone,
  truncate,
  when,
} from "./shared";

export interface ApprovalCardContext {
  locale: Locale;
  /** The customer's credit: limit (null = unlimited) and what their unpaid orders already use. */
  credit?: { limitFen: number | null; openFen: number };
}

const REJECT_CHOICES: readonly MessageKey[] = [...REJECT_REASONS, "reject.other"];

type Decision = ApprovalStepView["decisions"][number];

/**
 * The card an approver decides on. While the step is pending it carries 同意/驳回 and a reject-reason
 * select; afterwards the same card (updated for everyone who got it) shows the decision instead.
 */
export function approvalCard(view: OrderView, stepId: number, ctx: ApprovalCardContext): Card {
  const step = view.approval.steps.find((s) => s.id === stepId);
  if (!step) {
    throw new DomainError("not_found", `order ${view.orderNo} has no approval step ${stepId}`, {
      orderId: view.id,
      stepId,
    });
  }
  const { locale } = ctx;
  const { lines, moreLines } = truncate(view.lines.map((l) => approvalLine(l, locale)));
  const card: Card = {
    kind: "approval",
    locale,
    title: t(locale, "approval.title", { orderNo: view.orderNo }),
    subtitle: subtitle(view, step, locale),
    fields: [...orderFields(view, step, ctx), ...decisionFields(view, step, locale)],
    lines,
    ...(moreLines ? { moreLines } : {}),
    buttons: [],
    link: { label: t(locale, "link.detail"), path: `/m/orders/${view.id}` },
    ref: orderRef(view, { stepId: String(step.id) }),
  };
  const open = step.status === "pending" && view.status === "pending_approval";
  if (open) {
    const values = { orderId: String(view.id), stepId: String(step.id) };
    card.buttons = [
      button("approval.approve", t(locale, "btn.approve"), "primary", values),
      button("approval.reject", t(locale, "btn.reject"), "danger", values),
    ];
    // The option value is the reason text itself, so the bot stores it as the comment as it is.
    const options = REJECT_CHOICES.map((key) => ({ value: t(locale, key), label: t(locale, key) }));
    const label = t(locale, "approval.rejectSelect");
    card.select = { action: "approval.reject", label, name: "reason", options, values };
    return card;
  }
  card.banner = closedBanner(view, step, locale);
  return card;
}

function approvalLine(line: OrderView["lines"][number], locale: Locale): CardLine {
  if (line.discountBp <= 0) return pricedLine(line, locale);
  const note = t(locale, "fmt.discount", { pct: percent(line.discountBp) });
  return pricedLine(line, locale, { note, flag: "warning" });
}

function subtitle(view: OrderView, step: ApprovalStepView, locale: Locale): string {
  const parts = [step.label];
  if (step.mode === "all") parts.push(t(locale, "fmt.countersignMode"));
  if (view.approval.round > 1) parts.push(t(locale, "fmt.round", { n: view.approval.round }));
  return parts.join(" · ");
}

function orderFields(view: OrderView, step: ApprovalStepView, ctx: ApprovalCardContext): Card["fields"] {
  const { locale, credit } = ctx;
  const fields = [
    { label: t(locale, "field.customer"), value: view.customer.name },
    { label: t(locale, "field.salesRep"), value: salesRepName(view, locale) },
    { label: t(locale, "field.total"), value: formatFen(view.totalFen) },
  ];
  if (credit) fields.push({ label: t(locale, "field.credit"), value: creditText(credit, locale) });
  const maxBp = Math.max(0, ...view.lines.map((l) => l.discountBp));
  const maxDiscount = maxBp > 0 ? `${percent(maxBp)}%` : t(locale, "value.none");
  fields.push({ label: t(locale, "field.maxDiscount"), value: maxDiscount });
  const why = reasonTexts(step.reasons.length > 0 ? step.reasons : view.approval.reasons, locale);
  if (why.length > 0) fields.push({ label: t(locale, "field.reasons"), value: joinSentences(why, locale) });
  return fields;
}

function creditText(credit: NonNullable<ApprovalCardContext["credit"]>, locale: Locale): string {
  const used = formatFen(credit.openFen);
  if (credit.limitFen === null) return t(locale, "fmt.creditUnlimited", { used });
  const text = t(locale, "fmt.credit", { used, limit: formatFen(credit.limitFen) });
  const overFen = credit.openFen - credit.limitFen;
  return overFen > 0 ? text + t(locale, "fmt.creditOver", { over: formatFen(overFen) }) : text;
}

// Countersign shows every approver's answer so far; a single-approver step shows who decided, when and why.
function decisionFields(view: OrderView, step: ApprovalStepView, locale: Locale): Card["fields"] {
  const fields: Card["fields"] = [];
  if (step.mode === "all") {
    const approvedBy = new Set(step.decisions.filter((d) => d.decision === "approve").map((d) => d.approverId));
    const progress = t(locale, "fmt.countersign", { done: approvedBy.size, total: step.approvers.length });
    fields.push({ label: t(locale, "field.countersign"), value: progress });
    for (const approver of step.approvers) {
      const decision = latestDecisionOf(step, approver.id);
      const value = decision ? decisionText(decision, locale) : t(locale, "step.pending");
      fields.push({ label: approver.name, value });
    }
  } else {
    const decision = decidingDecision(step);
    if (decision) {
      fields.push({ label: t(locale, "field.approver"), value: decision.approverName });
      fields.push({ label: t(locale, "field.decidedAt"), value: when(step.decidedAt ?? decision.decidedAt) });
      if (decision.comment) fields.push({ label: t(locale, "field.comment"), value: decision.comment });
    }
  }
  if (view.status === "cancelled") {
    if (view.cancelledAt) fields.push({ label: t(locale, "field.cancelledAt"), value: when(view.cancelledAt) });
    if (view.cancelReason) fields.push({ label: t(locale, "field.cancelReason"), value: view.cancelReason });
  }
  return fields;
}

function closedBanner(view: OrderView, step: ApprovalStepView, locale: Locale): NonNullable<Card["banner"]> {
  if (view.status === "cancelled") return { text: t(locale, "approval.orderCancelled"), tone: "muted" };
  switch (step.status) {
    case "approved":
    case "rejected": {
      const decision = decidingDecision(step);
      const approved = step.status === "approved";
      const who = approved && step.mode === "all" ? approverNames(step, locale) : decision?.approverName;
      const at = step.decidedAt ?? decision?.decidedAt;
      const parts = [t(locale, `step.${step.status}`), who, at ? when(at) : undefined].filter((p): p is string => !!p);
      const reason = !approved && decision?.comment ? t(locale, "fmt.reasonSuffix", { reason: decision.comment }) : "";
      return { text: parts.join(" · ") + reason, tone: approved ? "success" : "danger" };
    }
    case "cancelled":
      return { text: t(locale, "approval.stepCancelled"), tone: "muted" };
    case "waiting":
      return { text: t(locale, "approval.waiting"), tone: "info" };
    case "pending":
      // A pending step on an order that is no longer awaiting approval: say where the order is.
      return { text: statusLabel(view.status, locale), tone: statusTone(view.status) };
  }
}

/** The decision that settled the step: a rejection if any, else the last approval. */
function decidingDecision(step: ApprovalStepView): Decision | undefined {
  const rejection = step.decisions.find((d) => d.decision === "reject");
  if (rejection) return rejection;
  const approvals = step.decisions.filter((d) => d.decision === "approve");
  return approvals[approvals.length - 1];
}

function latestDecisionOf(step: ApprovalStepView, approverId: number): Decision | undefined {
  const mine = step.decisions.filter((d) => d.approverId === approverId);
  return mine[mine.length - 1];
}

function decisionText(d: Decision, locale: Locale): string {
  const word = t(locale, d.decision === "approve" ? "step.approved" : "step.rejected");
  return [word, when(d.decidedAt), d.comment].filter(Boolean).join(" · ");
}

function approverNames(step: ApprovalStepView, locale: Locale): string {
  const names = [...new Set(step.decisions.filter((d) => d.decision === "approve").map((d) => d.approverName))];
  return joinList(names, locale);
}
