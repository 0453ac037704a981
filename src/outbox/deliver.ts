import crypto from "node:crypto";
import { Op } from "sequelize";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import type { OutboxRow } from "../db/models/messaging";
import type { UserRow } from "../db/models/users";
import { customerNoticeModel, type CustomerNoticeRow } from "../db/models/customers";
import { isUniqueViolation } from "../db/sequelize";
import { ChannelError, type ChatChannel, type ChatUser, type SentRef } from "../channels/channel";
import type { ChannelRegistry } from "../channels/registry";
import { WECOM_ROBOT_PACE, msgTemplateCapSince, msgTemplateCapWait, ownerConfirmText } from "../channels/wecom";
import type { Card } from "../domain/card";
import { localeOf, t, type Locale } from "../domain/i18n";
import type { CustomerNoticeKind, OrderView } from "../domain/order-view";
import type { Services } from "../services";
import { lowerIn } from "../services/support/text-match";
import { Deferred } from "./dispatcher";
import { CARD_BUILDERS, cardAsText, customerNoticeCard, customerNotifyPayload, noticeFor, CARD_POLICIES, type CustomerNotifyPayload } from "./card-content";
import { cardPlainText, customerDigestCard } from "../domain/cards";
import { customerRoute, type CustomerRoute } from "./customer-route";

export interface DeliveryContext {
  row: OutboxRow;
  /** The row was caught mid-call by a crash: check with the platform before sending again. */
  interrupted: boolean;
  /** Must be called right before the first platform call. */
  markSending(): Promise<void>;
  /** The rows right behind this one in its lane (same person or order), oldest first; a digest may take some. */
  followers?: OutboxRow[];
  /** Sends the first `n` followers within this row's send (call before markSending): they are marked with it. */
  take?(n: number): void;
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
  /** The dispatcher's OUTBOX_MAX_ATTEMPTS: a customer notice whose last attempt fails is shown as failed. */
  maxAttempts?: number;
  fetch?: typeof fetch;
}

/** Waits before a send beyond the platform's own bucket; each throws Deferred rather than send too much. */
interface Pacing {
  /** The person addressed, for platforms that cap what one person may receive. */
  recipient?: string;
  /** Anything else to wait for first (a robot's bucket, a customer's cap): ms to wait, 0 to go. */
  gate?: () => Promise<number>;
}


/** A cache lock taken by a deliverer, released when it is done. */
interface HeldLock {
  name?: string;
  token?: string;
}

/** Outlasts a send (10 s HTTP timeout, a token refresh) and recording it. */
const CAP_LOCK_MS = 60_000;
const CAP_LOCK_RETRY_MS = 2_000;

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

  /**
   * Sends once: an interrupted row is looked up first; a platform that cannot tell is never re-sent to.
   * Then paced (gate, recipient, platform), after that check, so a deferral never hides an interrupted row.
   */
  /**
   * The platform-wide token. One due within INLINE_TOKEN_WAIT_MS is waited for here: at the rate limit
   * nearly every row waits a few tens of ms, and deferring it would cost an update, a re-claim and a
   * second load and render per message (what kept a saturated dispatcher's CPU high). Longer waits
   * still defer the row, so a stopping dispatcher or another lane is never held up for long.
   */
  async function platformToken(platform: string): Promise<number> {
    const rate = deps.ratePerSec(platform);
    for (let tries = 0; ; tries += 1) {
      const wait = await deps.cache.takeToken(`platform:${platform}`, rate, Math.max(1, rate));
      if (wait === 0 || wait > INLINE_TOKEN_WAIT_MS || tries >= 3) return wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async function sendOnce(ctx: DeliveryContext, channel: ChatChannel, send: () => Promise<SentRef>, pacing: Pacing = {}): Promise<SentRef> {
    if (ctx.interrupted) {
      const found = channel.lookupSent ? await channel.lookupSent(ctx.row.dedupeKey) : undefined;
      if (found) return found;
      if (found === undefined) {
        throw new ChannelError("rejected", "interrupted while sending and the platform cannot confirm delivery; check, then retry by hand");
      }
    }
    waitFor(pacing.gate ? await pacing.gate() : 0);
    // Per-recipient caps come from the channel (WeCom drops a member's excess silently: wecom.md 3.3, gotcha 11).
    const perRecipient = pacing.recipient ? channel.pacing?.perRecipient : undefined;
    if (perRecipient && pacing.recipient) {
      waitFor(await deps.cache.takeToken(perRecipient.bucket(pacing.recipient), perRecipient.ratePerSec, perRecipient.burst));
    }
    waitFor(await platformToken(channel.platform));
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
      const sent = await sendOnce(ctx, channel, () => channel.sendCard(to, card, { dedupeKey: ctx.row.dedupeKey }), { recipient: to.platformUserId });
      await rememberCard(deps, { orderId: p.orderId, stepId: p.stepId ?? null, kind: p.card.startsWith("approval_") ? "approval" : p.card, platform: channel.platform, userId: user.id, sent, card });
      return sent;
    },

    /**
     * A card the bot built (help, preview, choices); preview and reject-reason cards are remembered so they
     * update in place.
     */
    async "chat.card"(ctx) {
      const p = ctx.row.payload as { userId: number; card: Card; orderId?: number; refKind?: string; stepId?: number };
      const { user, to, channel } = await recipient(p.userId);
      const sent = await sendOnce(ctx, channel, () => channel.sendCard(to, p.card, { dedupeKey: ctx.row.dedupeKey }), { recipient: to.platformUserId });
      if (p.orderId && p.refKind) {
        await rememberCard(deps, { orderId: p.orderId, stepId: p.stepId ?? null, kind: p.refKind, platform: channel.platform, userId: user.id, sent, card: p.card });
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
        const policy = CARD_POLICIES[ref.kind] ?? {};
        if (!build || !channel || !user || policy.unchanged?.(view, ref.stepId)) continue;
        const card = await build(ref.kind === "preview" ? preview : view, localeOf(user.locale), ref.stepId, deps);
        waitFor(await platformToken(channel.platform));
        await ctx.markSending();
        const to = { platform: channel.platform, platformUserId: user.platformUserId, userId: user.id };
        try {
          await channel.updateCard({ cardRef: ref.platformRef, to }, card, { dedupeKey: `${ctx.row.dedupeKey}:${ref.id}` });
        } catch (err) {
          // A card the platform will not update (expired, or refused for good) is retired, and its reader
          // gets the news as a text instead; the other copies are still updated. Busy → retry the row.
          if (err instanceof ChannelError && (err.failure === "gone" || err.failure === "rejected")) {
            await ref.update({ live: false });
            if (policy.quietWhenGone) continue;
            await m.Outbox.bulkCreate(
              [
                {
                  topic: "chat.text",
                  dedupeKey: `${ctx.row.dedupeKey}:${ref.id}:instead`,
                  payload: { userId: user.id, text: cardAsText(card), orderId: p.orderId },
                  nextAttemptAt: deps.now(),
                  createdAt: deps.now(),
                  // A message caused by a delivery belongs to the same trace.
                  traceId: ctx.row.traceId,
                },
              ],
              { ignoreDuplicates: true },
            );
            continue;
          }
          throw err;
        }
        // A card with nothing left to tap is final: it needs no further updates.
        if (card.buttons.length === 0 && !card.select && policy.finalWhenClosed) await ref.update({ live: false });
        updated += 1;
      }
      return { updated };
    },

    /** A notice to a person: either text the bot wrote, or a notice key rendered in their language. */
    async "chat.text"(ctx) {
      const p = ctx.row.payload as NoticePayload;
      const { user, to, channel } = await recipient(p.userId);
      const locale = localeOf(user.locale);
      const text = p.text ?? (await noticeFor(deps, p, locale));
      const digest = await digestOf(ctx, channel, p.userId, text, locale);
      return sendOnce(ctx, channel, () => channel.sendText(to, digest, { dedupeKey: ctx.row.dedupeKey }), { recipient: to.platformUserId });
    },

    /**
     * The customer hears that their order was confirmed, or that a shipment left, where they can be reached,
     * and customer_notices shows how far it got. A WeCom external contact gets a mass-send task its owner
     * must confirm (wecom.md 7.2): the owner is told so by a text written with the notice's new state.
     * Both kinds share the route, caps, pacing and retries; only the card and the owner's text differ.
     */
    async "customer.notify"(ctx) {
      const p = customerNotifyPayload(ctx.row.payload);
      const view = await deps.services.loadOrderView(p.orderId);
      const customer = await m.Customer.findByPk(view.customer.id);
      const route = customer ? customerRoute(customer) : null;
      if (!customer || !route) return { skipped: "customer has no chat contact" };
      const notice = await openNotice(ctx.row, noticeFields(p, route));
      // Taken by an attempt that died before the outbox row was settled: never a second task or message.
      if (notice.acceptedAt) return { messageId: notice.msgid ?? "", recorded: notice.state };
      // A confirmation held back (a cap, retries) past the order's cancellation would tell the customer a falsehood.
      if (p.kind === "confirmed" && view.status === "cancelled") {
        await notice.update({ state: "failed", error: "not sent: the order was cancelled before the customer was told" });
        return { skipped: "order cancelled" };
      }
      const held: HeldLock = {};
      try {
        let sent: SentRef;
        let carried: CarriedNotice[] = [{ notice, kind: p.kind, orderNo: view.orderNo }];
        try {
          const channel = deps.channels.get(route.platform);
          if (!channel) throw new ChannelError("rejected", `the ${route.platform} channel is not enabled`);
          // In Chinese: a customer record has no language of its own, and a member's choice of English for
          // their own screens says nothing about what the customer reads.
          const joined = await withHeldNotices(ctx, channel, route, customer.id, carried[0], customerNoticeCard(view, p, "zh-CN"));
          carried = joined.carried;
          const send = () => channel.notifyCustomer(route.contact, joined.card, { dedupeKey: ctx.row.dedupeKey });
          sent = await sendOnce(ctx, channel, send, { gate: () => customerGate(route, carried, held) });
        } catch (err) {
          await noteFailure(notice, err, ctx.row.attempts + 1);
          throw err;
        }
        try {
          await acceptNotices(ctx.row, carried, route, sent, customer.name);
        } catch (err) {
          // Sent but not recorded: a retry would reach the customer twice, so it stops here for a person to check.
          const failure = new ChannelError("rejected", `sent (${sent.messageId || "no id"}) but not recorded: ${err instanceof Error ? err.message : String(err)}`);
          await noteFailure(notice, failure, ctx.row.attempts + 1);
          throw failure;
        }
        return sent;
      } finally {
        if (held.name && held.token) await deps.cache.releaseLock(held.name, held.token);
      }
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

  /**
   * The text to send for a chat.text row: its own, or — when its reader is being paced and more plain
   * notices to them are queued right behind it — all of them as one digest within the platform's text
   * size, so they arrive in one message now rather than one every few seconds (WeCom drops a member's
   * excess silently: wecom.md 3.3, gotcha 11). The rows joined are taken into this send (ctx.take) and are
   * marked sent with it. "Paced" means this row has already been held back once (by the recipient's
   * bucket, or a retry): a fresh burst still goes out message by message while the bucket has tokens.
   */
  async function digestOf(ctx: DeliveryContext, channel: ChatChannel, userId: number, text: string, locale: Locale): Promise<string> {
    const maxBytes = channel.pacing?.textBytes;
    const waited = ctx.row.nextAttemptAt.getTime() > ctx.row.createdAt.getTime();
    if (!maxBytes || !channel.pacing?.perRecipient || !ctx.take || ctx.interrupted || !waited) return text;
    const parts = [text];
    const fits = (more: string[]) => Buffer.byteLength(joinDigest(more, locale), "utf8") <= maxBytes;
    for (const next of ctx.followers ?? []) {
      const q = next.payload as NoticePayload;
      // Only a run of plain notices to the same person: a card in between keeps its place in the order.
      if (next.topic !== "chat.text" || next.status === "sending" || q.userId !== userId) break;
      const more = [...parts, q.text ?? (await noticeFor(deps, q, locale))];
      if (!fits(more)) break;
      parts.push(more[more.length - 1]);
    }
    if (parts.length === 1) return text;
    ctx.take(parts.length - 1);
    return joinDigest(parts, locale);
  }

  /** The notice row of this outbox row, made on its first attempt; a failed one being retried is queued again. */
  async function openNotice(
    row: OutboxRow,
    fields: { orderId: number; kind: CustomerNoticeKind; shipmentId: number | null; channel: string; target: string },
  ): Promise<CustomerNoticeRow> {
    const Notice = customerNoticeModel(deps.db.sequelize);
    const found = await Notice.findOne({ where: { dedupeKey: row.dedupeKey } });
    if (found) {
      const moved = found.channel !== fields.channel || found.target !== fields.target;
      if (!found.acceptedAt && (moved || found.state === "failed")) await found.update({ channel: fields.channel, target: fields.target, state: "queued" });
      return found;
    }
    try {
      return await Notice.create({ ...fields, dedupeKey: row.dedupeKey, state: "queued" });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return (await Notice.findOne({ where: { dedupeKey: row.dedupeKey } }))!;
    }
  }

  /**
   * What a customer notice waits for before the send: its robot's bucket, or the customer's cap on tasks.
   * The cap is counted under a lock held until the task is recorded (released by the caller): two
   * dispatchers must not both see room for one more, as WeCom may ignore the excess without a word.
   */
  async function customerGate(route: CustomerRoute, carried: CarriedNotice[], held: HeldLock): Promise<number> {
    if (route.robotBucket) return deps.cache.takeToken(route.robotBucket, WECOM_ROBOT_PACE.ratePerSec, WECOM_ROBOT_PACE.burst);
    if (!route.owner) return 0;
    const name = `customer-notice:wecom:${route.shown}`;
    const token = await deps.cache.acquireLock(name, CAP_LOCK_MS);
    if (!token) return CAP_LOCK_RETRY_MS;
    Object.assign(held, { name, token });
    const now = deps.now();
    const taken = await customerNoticeModel(deps.db.sequelize).findAll({
      where: { channel: route.channel, target: route.shown, acceptedAt: { [Op.gte]: msgTemplateCapSince(now) } },
      attributes: ["acceptedAt", "msgid"],
    });
    // The caps count tasks: the notices of one digest share their task's msgid and count once.
    const tasks = new Map(taken.map((n, i) => [n.msgid ?? `notice:${i}`, n.acceptedAt!]));
    const wait = msgTemplateCapWait([...tasks.values()], now);
    if (wait > 0) {
      const until = new Date(now.getTime() + wait).toISOString();
      // Every notice of the digest waits with it, and the order shows why.
      for (const { notice } of carried) await notice.update({ state: "queued", error: `waits for the per-customer cap on wecom mass-send tasks until ${until}` });
    }
    return wait;
  }

  /**
   * The customer notices queued right behind this one for the same capped contact (a WeCom external
   * contact takes one mass-send task a day, wecom.md 7.2), joined to it as one digest within the platform's
   * size: notices held back by the cap then reach the customer together the next day, instead of one a day.
   * A run stops at a row someone must check first (caught mid-send, already accepted), at a confirmation
   * whose order was cancelled meanwhile (its own delivery says so), and at the first that does not fit.
   */
  async function withHeldNotices(
    ctx: DeliveryContext,
    channel: ChatChannel,
    route: CustomerRoute,
    customerId: number,
    head: CarriedNotice,
    card: Card,
  ): Promise<{ card: Card; carried: CarriedNotice[] }> {
    const maxBytes = channel.pacing?.cappedCustomerTextBytes;
    const alone = { card, carried: [head] };
    if (!maxBytes || !route.owner || !ctx.take || ctx.interrupted) return alone;
    const cards = [card];
    const carried = [head];
    for (const next of ctx.followers ?? []) {
      if (next.topic !== "customer.notify" || next.status === "sending") break;
      let q: CustomerNotifyPayload;
      let view: OrderView;
      try {
        q = customerNotifyPayload(next.payload);
        if (q.customerId !== customerId) break;
        view = await deps.services.loadOrderView(q.orderId);
      } catch {
        break; // its own delivery reports what is wrong with it; this one goes as it is
      }
      if (q.kind === "confirmed" && view.status === "cancelled") break;
      const more = customerNoticeCard(view, q, "zh-CN");
      if (Buffer.byteLength(cardPlainText(customerDigestCard([...cards, more], "zh-CN")), "utf8") > maxBytes) break;
      const notice = await openNotice(next, noticeFields(q, route));
      if (notice.acceptedAt) break;
      cards.push(more);
      carried.push({ notice, kind: q.kind, orderNo: view.orderNo });
    }
    if (carried.length === 1) return alone;
    ctx.take(carried.length - 1);
    return { card: customerDigestCard(cards, "zh-CN"), carried };
  }

  /**
   * The platform took the notice (with any carried in its digest): record each and, for an external
   * contact, ask its owner to confirm the one task, in one transaction.
   */
  async function acceptNotices(row: OutboxRow, carried: CarriedNotice[], route: CustomerRoute, sent: SentRef, customerName: string) {
    const at = deps.now();
    // userids are case-insensitive (wecom.md conventions).
    const owner = route.owner
      ? await m.User.findOne({ where: { [Op.and]: [{ platform: "wecom", active: true }, lowerIn("platform_user_id", [route.owner])] } })
      : null;
    const unasked = route.owner && !owner ? `no active wecom user ${route.owner} in ChatOrder: nobody was asked to confirm` : null;
    const msgid = sent.messageId ? sent.messageId.slice(0, 128) : null;
    await deps.db.transaction(async (tx) => {
      const state = route.owner ? "awaiting_owner" : "sent";
      for (const c of carried) await c.notice.update({ state, msgid, error: unasked, acceptedAt: at }, { transaction: tx });
      if (!owner) return;
      const text = ownerConfirmText(localeOf(owner.locale), { customerName, notices: carried.map((c) => ({ kind: c.kind, orderNo: c.orderNo })) });
      await m.Outbox.bulkCreate(
        [{ topic: "chat.text", dedupeKey: `chat.text:${row.dedupeKey}:owner`, payload: { userId: owner.id, text }, nextAttemptAt: at, createdAt: at, traceId: row.traceId }],
        { transaction: tx, ignoreDuplicates: true },
      );
    });
  }

  /** A failed attempt: queued while the outbox will try again, failed when it will not. */
  async function noteFailure(notice: CustomerNoticeRow, err: unknown, attempt: number) {
    if (err instanceof Deferred) return; // still queued; a cap wait has noted its reason
    const message = err instanceof Error ? err.message : String(err);
    const last = (err instanceof ChannelError && err.failure === "rejected") || (deps.maxAttempts !== undefined && attempt >= deps.maxAttempts);
    // The send's own error is what the dispatcher must see; a failure to note it must not replace it.
    await notice.update({ state: last ? "failed" : "queued", error: message.slice(0, 500) }).catch(() => undefined);
  }
}

/** A customer notice going out in a send: its row in customer_notices, and what the owner is told of it. */
interface CarriedNotice {
  notice: CustomerNoticeRow;
  kind: CustomerNoticeKind;
  orderNo: string;
}

/** customer_notices' fields for a notice of this payload sent along this route. */
function noticeFields(p: CustomerNotifyPayload, route: CustomerRoute) {
  return { orderId: p.orderId, kind: p.kind, shipmentId: p.kind === "shipment" ? p.shipmentId : null, channel: route.channel, target: route.shown };
}

type NoticePayload = { userId: number; text?: string; message?: string; orderId?: number; stepId?: number; decisionId?: number; shipmentId?: number; reason?: string | null };

/** Several notices as one message: a count, then each notice, in the order they were written. */
function joinDigest(parts: string[], locale: Locale): string {
  return parts.length === 1 ? parts[0] : [t(locale, "notice.digest", { n: parts.length }), ...parts].join("\n\n");
}

const INLINE_TOKEN_WAIT_MS = 250;

function waitFor(ms: number) {
  if (ms > 0) throw new Deferred(ms);
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
    // What the platform's taps name the card by, so the update code a tap brings is recorded on this row.
    taskId: r.sent.taskId ?? null,
    live: r.card.buttons.length > 0 || !!r.card.select || !CARD_POLICIES[r.kind]?.finalWhenClosed,
  });
}

