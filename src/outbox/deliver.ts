import crypto from "node:crypto";
import { Op } from "sequelize";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import type { OutboxRow } from "../db/models/messaging";
import type { UserRow } from "../db/models/users";
import { ChannelError, type ChatChannel, type ChatUser, type SentRef } from "../channels/channel";
import type { ChannelRegistry } from "../channels/registry";
import type { Card } from "../domain/card";
import { approvalCard, noticeText, orderPreviewCard, orderStatusCard, shipmentNoticeCard, warehousePickCard } from "../domain/cards";
import { localeOf, type Locale } from "../domain/i18n";
import type { OrderView } from "../domain/order-view";
import type { Services } from "../services";
import { Deferred } from "./dispatcher";

export interface DeliveryContext {
  row: OutboxRow;
  /** The row was caught mid-call by a crash: check with the platform before sending again. */
  interrupted: boolean;
  /** Must be called right before the first platform call. */
  markSending(): Promise<void>;
}

/** Delivers one row; returns what the platform answered (kept on the row as proof of sending). */
export type Deliverer = (ctx: DeliveryContext) => Promise<unknown>;
export type Deliverers = Record<string, Deliverer>;

export interface DeliverDeps {
  db: Db;
  cache: Cache;
  services: Services;
  channels: ChannelRegistry;
  now: () => Date;
  /** Messages per second each platform accepts from us (token bucket, shared through the cache). */
  ratePerSec: (platform: string) => number;
  fetch?: typeof fetch;
}

const CARD_BUILDERS: Record<string, (view: OrderView, locale: Locale, stepId: number | null, deps: DeliverDeps) => Promise<Card>> = {
  approval_request: async (view, locale, stepId, deps) =>
    approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) }),
  approval: async (view, locale, stepId, deps) => approvalCard(view, stepId ?? 0, { locale, credit: await creditOf(deps, view) }),
  warehouse_pick: async (view, locale) => warehousePickCard(view, { locale }),
  preview: async (view, locale, _s, deps) => orderPreviewCard(view, { locale, availableByProductId: await availableFor(deps, view) }),
  status: async (view, locale) => orderStatusCard(view, { locale }),
};

/** What each outbox topic means, in terms of the channel port. */
export function createDeliverers(deps: DeliverDeps): Deliverers {
  const m = deps.db.models;

  async function recipient(userId: number): Promise<{ user: UserRow; to: ChatUser; channel: ChatChannel }> {
    const user = await m.User.findByPk(userId);
    if (!user) throw new ChannelError("rejected", `user ${userId} no longer exists`);
    const channel = deps.channels.get(user.platform);
    if (!channel) throw new ChannelError("rejected", `the ${user.platform} channel is not enabled`);
    return { user, channel, to: { platform: channel.platform, platformUserId: user.platformUserId, userId: user.id } };
  }

  /** Sends once: an interrupted row is looked up first; a platform that cannot tell is never re-sent to. */
  async function sendOnce(ctx: DeliveryContext, channel: ChatChannel, send: () => Promise<SentRef>): Promise<SentRef> {
    if (ctx.interrupted) {
      const found = channel.lookupSent ? await channel.lookupSent(ctx.row.dedupeKey) : undefined;
      if (found) return found;
      if (found === undefined) {
        throw new ChannelError("rejected", "interrupted while sending and the platform cannot confirm delivery; check, then retry by hand");
      }
    }
    const wait = await deps.cache.takeToken(`platform:${channel.platform}`, deps.ratePerSec(channel.platform), Math.max(1, deps.ratePerSec(channel.platform)));
    if (wait > 0) throw new Deferred(wait);
    await ctx.markSending();
    return send();
  }

  return {
    /** An order card (approval, warehouse) built from the order as it is now, kept in card_refs for updates. */
    async "card.send"(ctx) {
      const p = ctx.row.payload as { card: string; orderId: number; stepId?: number; userId: number };
      const { user, to, channel } = await recipient(p.userId);
      const build = CARD_BUILDERS[p.card];
      if (!build) throw new ChannelError("rejected", `unknown card ${p.card}`);
      const view = await deps.services.loadOrderView(p.orderId);
      const card = await build(view, localeOf(user.locale), p.stepId ?? null, deps);
      const sent = await sendOnce(ctx, channel, () => channel.sendCard(to, card, { dedupeKey: ctx.row.dedupeKey }));
      await rememberCard(deps, { orderId: p.orderId, stepId: p.stepId ?? null, kind: p.card === "approval_request" ? "approval" : p.card, platform: channel.platform, userId: user.id, sent, card });
      return sent;
    },

    /** A card the bot built (help, preview, choices); preview cards are remembered so they update in place. */
    async "chat.card"(ctx) {
      const p = ctx.row.payload as { userId: number; card: Card; orderId?: number; refKind?: string };
      const { user, to, channel } = await recipient(p.userId);
      const sent = await sendOnce(ctx, channel, () => channel.sendCard(to, p.card, { dedupeKey: ctx.row.dedupeKey }));
      if (p.orderId && p.refKind) {
        await rememberCard(deps, { orderId: p.orderId, stepId: null, kind: p.refKind, platform: channel.platform, userId: user.id, sent, card: p.card });
      }
      return sent;
    },

    /** Redraws every live card of the order (or of one step) from the order as it is now. */
    async "card.update"(ctx) {
      const p = ctx.row.payload as { orderId: number; stepId?: number };
      const refs = await m.CardRef.findAll({
        where: { orderId: p.orderId, live: true, ...(p.stepId ? { stepId: p.stepId } : {}) },
        order: [["id", "ASC"]],
      });
      if (refs.length === 0) return { updated: 0 };
      const view = await deps.services.loadOrderView(p.orderId);
      const preview = refs.some((r) => r.kind === "preview") ? await deps.services.loadPreviewView(p.orderId) : view;
      let updated = 0;
      for (const ref of refs) {
        const build = CARD_BUILDERS[ref.kind];
        const channel = deps.channels.get(ref.platform);
        const user = ref.userId ? await m.User.findByPk(ref.userId) : null;
        if (!build || !channel || !user) continue;
        const card = await build(ref.kind === "preview" ? preview : view, localeOf(user.locale), ref.stepId, deps);
        const wait = await deps.cache.takeToken(`platform:${channel.platform}`, deps.ratePerSec(channel.platform), Math.max(1, deps.ratePerSec(channel.platform)));
        if (wait > 0) throw new Deferred(wait);
        await ctx.markSending();
        const to = { platform: channel.platform, platformUserId: user.platformUserId, userId: user.id };
        try {
          await channel.updateCard({ cardRef: ref.platformRef, to }, card, { dedupeKey: `${ctx.row.dedupeKey}:${ref.id}` });
        } catch (err) {
          // A card the platform will no longer update is retired; the people concerned get texts anyway.
          if (err instanceof ChannelError && err.failure === "gone") {
            await ref.update({ live: false });
            continue;
          }
          throw err;
        }
        // A card with nothing left to tap is final: it needs no further updates.
        if (card.buttons.length === 0 && !card.select && ref.kind === "approval") await ref.update({ live: false });
        updated += 1;
      }
      return { updated };
    },

    /** A notice to a person: either text the bot wrote, or a notice key rendered in their language. */
    async "chat.text"(ctx) {
      const p = ctx.row.payload as { userId: number; text?: string; message?: string; orderId?: number; stepId?: number; decisionId?: number; shipmentId?: number; reason?: string | null };
      const { user, to, channel } = await recipient(p.userId);
      const text = p.text ?? (await noticeFor(deps, p, localeOf(user.locale)));
      return sendOnce(ctx, channel, () => channel.sendText(to, text, { dedupeKey: ctx.row.dedupeKey }));
    },

    /** The customer hears about their shipment where they can be reached. */
    async "customer.notify"(ctx) {
      const p = ctx.row.payload as { orderId: number; shipmentId: number };
      const view = await deps.services.loadOrderView(p.orderId);
      const customer = await m.Customer.findByPk(view.customer.id);
      if (!customer?.chatPlatform || !customer.chatTarget) return { skipped: "customer has no chat contact" };
      const channel = deps.channels.get(customer.chatPlatform);
      if (!channel) throw new ChannelError("rejected", `the ${customer.chatPlatform} channel is not enabled`);
      const card = shipmentNoticeCard(view, p.shipmentId, { locale: "zh-CN" });
      const contact = { platform: customer.chatPlatform, target: customer.chatTarget, name: customer.name };
      return sendOnce(ctx, channel, () => channel.notifyCustomer(contact, card, { dedupeKey: ctx.row.dedupeKey }));
    },

    /** A signed POST to an ERP's webhook; any non-2xx answer is retried with backoff. */
    async "webhook.deliver"(ctx) {
      const p = ctx.row.payload as { subscriptionId: number; event: string; orderId: number; at: string };
      const sub = await m.WebhookSubscription.findByPk(p.subscriptionId);
      if (!sub || !sub.active) return { skipped: "subscription inactive" };
      const order = await deps.services.loadOrderView(p.orderId);
      const body = JSON.stringify({ id: ctx.row.dedupeKey, event: p.event, at: p.at, order });
      const ts = Math.floor(deps.now().getTime() / 1000);
      const signature = crypto.createHmac("sha256", sub.secret).update(`${ts}.${body}`).digest("hex");
      await ctx.markSending();
      const res = await (deps.fetch ?? fetch)(sub.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-ChatOrder-Event": p.event, "X-ChatOrder-Signature": `t=${ts},v1=${signature}` },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new ChannelError(res.status >= 500 || res.status === 429 ? "retry_later" : "rejected", `webhook answered ${res.status}`);
      return { status: res.status };
    },
  };
}

async function rememberCard(
  deps: DeliverDeps,
  r: { orderId: number; stepId: number | null; kind: string; platform: string; userId: number; sent: SentRef; card: Card },
) {
  await deps.db.models.CardRef.create({
    orderId: r.orderId,
    stepId: r.stepId,
    kind: r.kind,
    platform: r.platform,
    userId: r.userId,
    platformRef: r.sent.cardRef ?? { messageId: r.sent.messageId },
    live: r.card.buttons.length > 0 || r.kind !== "approval",
  });
}

async function creditOf(deps: DeliverDeps, view: OrderView) {
  const customer = await deps.db.models.Customer.findByPk(view.customer.id);
  const [row] = (await deps.db.sequelize.query(
    "SELECT COALESCE(SUM(total_fen - paid_fen), 0) AS open FROM orders WHERE customer_id = ? AND status IN ('pending_approval','approved','picking','packed','partially_shipped','shipped','delivered')",
    { replacements: [view.customer.id], plain: false, raw: true },
  )) as unknown as [Array<{ open: number | string }>];
  return { limitFen: customer?.creditLimitFen ?? null, openFen: Number(row?.[0]?.open ?? 0) };
}

async function availableFor(deps: DeliverDeps, view: OrderView): Promise<Record<number, number>> {
  const ids = view.lines.map((l) => l.productId);
  const levels = await deps.db.models.StockLevel.findAll({ where: { productId: { [Op.in]: ids } } });
  return Object.fromEntries(levels.map((l) => [l.productId, l.onHand - l.reserved]));
}

async function noticeFor(
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
