import { isMessageKey, statusLabel, t, type Locale } from "../domain/i18n";
import { canTransition, EDITABLE_STATUSES, isOrderStatus } from "../domain/order-state";
import type { CustomerNoticeView, OrderView } from "../domain/order-view";
import { mayPerform } from "../domain/permissions";
import type { TimelineEntry } from "../services/support/order-timeline";
import type { MiniAppUser } from "../services/load-viewer";
import { WAREHOUSE_STATUSES } from "../services/list-warehouse-queue";

/** What this person may do to this order now: the buttons the detail page shows (the services check again). */
export function actionsFor(viewer: MiniAppUser, view: OrderView) {
  const order = { salesRepId: view.salesRep?.id ?? null };
  const a = viewer.actor;
  const pendingStep = view.approval.steps.find(
    (s) => s.status === "pending" && s.approvers.some((p) => p.id === viewer.id) && !s.decisions.some((d) => d.approverId === viewer.id),
  );
  return {
    edit: EDITABLE_STATUSES.includes(view.status) && mayPerform(a, "revise", order),
    submit: view.status === "draft" && mayPerform(a, "submit", order),
    cancel: canTransition(view.status, "cancel") && mayPerform(a, "cancel", order),
    decideStepId: pendingStep?.id ?? null,
    fulfil: WAREHOUSE_STATUSES.includes(view.status) && mayPerform(a, "fulfil", order),
  };
}

export interface CustomerNoticeRow {
  /** "订单确认通知", or "发货通知 · 顺丰 SF123" naming the shipment. */
  what: string;
  state: CustomerNoticeView["state"];
  stateText: string;
  /** How it goes ("企业微信客户"), or the channel as stored when it has no name. */
  via: string;
  at: string;
  /** What the state means for the customer; null when sent. */
  hint: string | null;
}

/** The order's notices to its customer, in words, oldest first: what each says and how far it got. */
export function presentCustomerNotices(view: Pick<OrderView, "customerNotices" | "shipments">, locale: Locale): CustomerNoticeRow[] {
  return (view.customerNotices ?? []).map((n) => {
    const shipment = n.kind === "shipment" ? view.shipments.find((s) => s.id === n.shipmentId) : undefined;
    const via = `custNotice.channel.${n.channel}`;
    const hint = `custNotice.hint.${n.state}`;
    return {
      what: t(locale, `custNotice.${n.kind}`) + (shipment ? ` · ${shipment.carrier} ${shipment.trackingNo}` : ""),
      state: n.state,
      stateText: t(locale, `custNotice.state.${n.state}`),
      via: isMessageKey(via) ? t(locale, via) : n.channel,
      at: n.updatedAt,
      hint: isMessageKey(hint) ? t(locale, hint) : null,
    };
  });
}

export interface TimelineRow {
  at: string;
  what: string;
  who: string;
  change: string | null;
  reason: string | null;
}

const statusOf = (v: unknown): string | null => {
  const s = v && typeof v === "object" ? (v as { status?: unknown }).status : undefined;
  return typeof s === "string" ? s : null;
};

/** The audit trail in words: what happened, who did it (by name), the status change, and why. */
export function presentTimeline(entries: TimelineEntry[], names: Map<number, string>, locale: Locale): TimelineRow[] {
  return entries.map((e) => {
    const key = `audit.${e.action}`;
    const userId = /^user:(\d+)$/.exec(e.actor)?.[1];
    const who = userId ? (names.get(Number(userId)) ?? e.actor) : e.actor.startsWith("system") ? t(locale, "audit.system") : e.actor;
    const from = statusOf(e.before);
    const to = statusOf(e.after);
    const label = (s: string) => (isOrderStatus(s) ? statusLabel(s, locale) : s);
    return {
      at: e.at,
      what: isMessageKey(key) ? t(locale, key) : e.action,
      who,
      change: from && to && from !== to ? `${label(from)} → ${label(to)}` : null,
      reason: e.reason,
    };
  });
}

/** User ids named in audit actor labels ("user:12"). */
export function timelineUserIds(entries: TimelineEntry[]): number[] {
  return entries.flatMap((e) => {
    const m = /^user:(\d+)$/.exec(e.actor);
    return m ? [Number(m[1])] : [];
  });
}
