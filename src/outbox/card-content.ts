import { Op } from "sequelize";
import { ChannelError } from "../channels/channel";
import type { Card } from "../domain/card";
import {
  approvalCard,
  noticeText,
  orderConfirmedNoticeCard,
  orderPreviewCard,
  orderStatusCard,
  shipmentNoticeCard,
  warehousePickCard,
} from "../domain/cards";
import type { Locale } from "../domain/i18n";
import { tj } from "../domain/i18n-jobs";
import type { CustomerNoticeKind, OrderView } from "../domain/order-view";
import type { DeliverDeps } from "./deliver";

// What an order card or a notice says, built at send time from the order as it is then.

export const CARD_BUILDERS: Record<string, (view: OrderView, locale: Locale, stepId: number | null, deps: DeliverDeps) => Promise<Card>> = {
  approval_request: async (view, locale, stepId, deps) =>
    approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) }),
  approval: async (view, locale, stepId, deps) => approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) }),
  // A reminder is the approval card with a nudge on top while the step is still pending; redrawn later it is the plain card.
  approval_reminder: async (view, locale, stepId, deps) => {
    const card = approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) });
    const pending = view.approval.steps.some((s) => s.id === stepId && s.status === "pending");
    return pending ? { ...card, banner: { text: tj(locale, "remind.banner"), tone: "warning" } } : card;
  },
  // Redrawn only once its step is settled (CARD_POLICIES): then the approval card's outcome, nothing to tap.
  reject_reason: async (view, locale, stepId, deps) => approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) }),
  warehouse_pick: async (view, locale) => warehousePickCard(view, { locale }),
  preview: async (view, locale, _s, deps) => orderPreviewCard(view, { locale, availableByProductId: await availableFor(deps, view) }),
  status: async (view, locale) => orderStatusCard(view, { locale }),
};

/** How a remembered card of a kind is treated beyond being built (card.update in deliver.ts). */
export interface CardKindPolicy {
  /** Once redrawn with nothing left to tap, it never changes again (no longer live). */
  finalWhenClosed?: boolean;
  /** Where the platform cannot redraw it, it is retired without a text standing in for it. */
  quietWhenGone?: boolean;
  /** True while a redraw would show the same card (and, on WeCom, spend a single-use code for nothing). */
  unchanged?: (view: OrderView, stepId: number | null) => boolean;
}

export const CARD_POLICIES: Record<string, CardKindPolicy> = {
  approval: { finalWhenClosed: true },
  // The reason question only echoes its step: while the step waits it stays as it is, and where it cannot
  // be redrawn the approver hears the outcome through the approval card's own redraw (or its text).
  reject_reason: {
    finalWhenClosed: true,
    quietWhenGone: true,
    unchanged: (view, stepId) => view.status === "pending_approval" && view.approval.steps.some((s) => s.id === stepId && s.status === "pending"),
  },
};

/**
 * A customer.notify row's payload: which notice it is, about which order (and shipment), for which customer
 * (rows written before customerId was added have none: they keep to their order's lane).
 */
export type CustomerNotifyPayload = ({ kind: "confirmed"; orderId: number } | { kind: "shipment"; orderId: number; shipmentId: number }) & { customerId?: number };

/** The payload as written; a row from before notices had kinds (`{event: "shipped", ...}`) is a shipment notice. */
export function customerNotifyPayload(raw: unknown): CustomerNotifyPayload {
  const p = raw as { kind?: CustomerNoticeKind; orderId: number; shipmentId?: number; customerId?: unknown };
  const customer = typeof p.customerId === "number" ? { customerId: p.customerId } : {};
  if (p.kind === "confirmed") return { kind: "confirmed", orderId: p.orderId, ...customer };
  if (typeof p.shipmentId !== "number") throw new ChannelError("rejected", "a shipment notice names no shipment");
  return { kind: "shipment", orderId: p.orderId, shipmentId: p.shipmentId, ...customer };
}

/** What a customer notice says, by its kind, built from the order as it is at send time. */
export function customerNoticeCard(view: OrderView, p: CustomerNotifyPayload, locale: Locale): Card {
  return p.kind === "confirmed" ? orderConfirmedNoticeCard(view, { locale }) : shipmentNoticeCard(view, p.shipmentId, { locale });
}

export /** A card's gist as one line, for a reader whose card can no longer be redrawn. */
function cardAsText(card: Card): string {
  const banner = card.banner?.text ?? card.fields.find((f) => f.value)?.value ?? "";
  return [card.title, banner].filter(Boolean).join(" — ");
}

export async function creditOf(deps: DeliverDeps, view: OrderView) {
  const customer = await deps.db.models.Customer.findByPk(view.customer.id);
  const [row] = (await deps.db.sequelize.query(
    "SELECT COALESCE(SUM(total_fen - paid_fen), 0) AS open FROM orders WHERE customer_id = ? AND status IN ('pending_approval','approved','picking','packed','partially_shipped','shipped','delivered')",
    { replacements: [view.customer.id], plain: false, raw: true },
  )) as unknown as [Array<{ open: number | string }>];
  return { limitFen: customer?.creditLimitFen ?? null, openFen: Number(row?.[0]?.open ?? 0) };
}

export async function availableFor(deps: DeliverDeps, view: OrderView): Promise<Record<number, number>> {
  const ids = view.lines.map((l) => l.productId);
  const levels = await deps.db.models.StockLevel.findAll({ where: { productId: { [Op.in]: ids } } });
  return Object.fromEntries(levels.map((l) => [l.productId, l.onHand - l.reserved]));
}

export async function noticeFor(
  deps: DeliverDeps,
  p: { message?: string; orderId?: number; stepId?: number; decisionId?: number; shipmentId?: number; reason?: string | null },
  locale: Locale,
): Promise<string> {
  const view = p.orderId ? await deps.services.loadOrderView(p.orderId) : null;
  const orderNo = view?.orderNo ?? "";
  switch (p.message) {
    case "step_decided": {
      const step = view?.approval.steps.find((s) => s.id === p.stepId);
      const decision = step?.decisions[step.decisions.length - 1];
      const d = p.decisionId ? await deps.db.models.ApprovalDecision.findByPk(p.decisionId) : null;
      const approver = d ? await deps.db.models.User.findByPk(d.approverId) : null;
      return noticeText(
        "step_decided",
        {
          orderNo,
          approverName: approver?.name ?? decision?.approverName ?? "",
          decision: d?.decision ?? decision?.decision ?? "approve",
          stepLabel: step?.label,
          comment: d?.comment ?? undefined,
        },
        locale,
      );
    }
    case "order_approved":
      return noticeText("order_approved", { orderNo }, locale);
    case "order_rejected":
      return noticeText("order_rejected", { orderNo, reason: p.reason ?? undefined }, locale);
    case "order_shipped": {
      const shipment = view?.shipments.find((s) => s.id === p.shipmentId);
      return noticeText(
        "order_shipped",
        { orderNo, carrier: shipment?.carrier ?? "", trackingNo: shipment?.trackingNo ?? "", partial: view?.status === "partially_shipped" },
        locale,
      );
    }
    case "order_cancelled":
      return noticeText("order_cancelled", { orderNo, reason: view?.cancelReason ?? undefined }, locale);
    default:
      throw new ChannelError("rejected", `unknown notice ${String(p.message)}`);
  }
}
