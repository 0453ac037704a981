import type { Card } from "../../domain/card";
import type { Locale } from "../../domain/i18n";
import type { CustomerNoticeKind } from "../../domain/order-view";
import { cardPlainText } from "../../domain/cards";
import { ChannelError, type CustomerContact, type SentRef } from "../channel";
import { WecomApiError, type WecomClient } from "./client";
import { clipBytes } from "./limits";

export const MSG_TEMPLATE_PATH = "/cgi-bin/externalcontact/add_msg_template";
/** text.content of add_msg_template (wecom.md 7.2). */
export const MSG_TEMPLATE_TEXT_BYTES = 4000;
const USERID = /^[A-Za-z0-9_@.-]{1,64}$/;
const EXTERNAL_USERID = /^[A-Za-z0-9_-]{1,64}$/;
// A frequency limit (wecom.md 3.2). On this API it is most likely the per-customer cap, and a day-level
// block lasts a natural day, so the next try is tomorrow rather than in a minute.
const CAP_ERRCODES = new Set([45009]);

/**
 * Per-customer caps on mass-send tasks (wecom.md 7.2; unconfirmed): 4 per natural month in the older doc
 * text, 1 per day in 2023 vendor pages. Both are honoured, counting tasks created, so none is dropped.
 */
export const MSG_TEMPLATE_CAPS = { perDay: 1, perMonth: 4 } as const;

// WeCom's natural days and months are China's (UTC+8, no daylight saving).
const CST_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** A little past the boundary, in case WeCom's clock and ours disagree. */
const MARGIN_MS = 60_000;

function cstDayStart(at: Date): number {
  return Math.floor((at.getTime() + CST_MS) / DAY_MS) * DAY_MS - CST_MS;
}

function cstMonthStart(at: Date, plusMonths = 0): number {
  const local = new Date(at.getTime() + CST_MS);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + plusMonths, 1) - CST_MS;
}

/** How long until the next natural day in China, plus a margin. */
export function untilNextCstDay(now: Date): number {
  return cstDayStart(now) + DAY_MS - now.getTime() + MARGIN_MS;
}

/** The earliest task that can count towards a cap at `now`: the start of this natural month in China. */
export function msgTemplateCapSince(now: Date): Date {
  return new Date(cstMonthStart(now));
}

/** 0 when another task to this customer fits both caps; else how long until it does. `accepted`: tasks created since msgTemplateCapSince. */
export function msgTemplateCapWait(accepted: Date[], now: Date): number {
  const inMonth = accepted.filter((a) => a.getTime() >= cstMonthStart(now)).length;
  if (inMonth >= MSG_TEMPLATE_CAPS.perMonth) return cstMonthStart(now, 1) - now.getTime() + MARGIN_MS;
  const inDay = accepted.filter((a) => a.getTime() >= cstDayStart(now)).length;
  if (inDay >= MSG_TEMPLATE_CAPS.perDay) return untilNextCstDay(now);
  return 0;
}

/**
 * Creates the mass-send task that carries `card` to one external contact from its owner (wecom.md 7.2).
 * WeCom delivers nothing until the owner confirms it in their client; the msgid identifies the task.
 */
export async function sendMsgTemplate(client: WecomClient, to: CustomerContact, card: Card, now: () => Date): Promise<SentRef> {
  const sender = to.sender ?? "";
  if (!USERID.test(sender)) throw new ChannelError("rejected", "the owner of a wecom external contact must be a member userid");
  if (!EXTERNAL_USERID.test(to.target)) throw new ChannelError("rejected", "a wecom external contact must be an external_userid");
  let res;
  try {
    res = await client.post(MSG_TEMPLATE_PATH, {
      chat_type: "single",
      external_userid: [to.target],
      sender,
      // Only this customer: the owner may not add others to the task.
      allow_select: false,
      text: { content: customerText(card) },
    });
  } catch (err) {
    if (err instanceof WecomApiError && err.errcode !== null && CAP_ERRCODES.has(err.errcode)) {
      throw new ChannelError("retry_later", `${err.message}: a cap on messages to this customer; next try tomorrow`, untilNextCstDay(now()));
    }
    throw err;
  }
  // Over the cap, WeCom ignores the recipient (wecom.md 7.2): it may say so in fail_list with errcode 0.
  if (listOf(res.fail_list).includes(to.target)) {
    throw new ChannelError(
      "retry_later",
      `wecom left ${to.target} out of the task (fail_list): a per-customer cap, or no longer ${sender}'s contact; next try tomorrow`,
      untilNextCstDay(now()),
    );
  }
  const msgid = typeof res.msgid === "string" ? res.msgid : "";
  return { messageId: msgid, cardRef: { msgid, sender, externalUserId: to.target, awaitingSender: true } };
}

/** fail_list as documented (an array), or as a "|"-joined string like other WeCom lists. */
function listOf(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  return typeof raw === "string" && raw ? raw.split("|") : [];
}

/** A card as the plain text a WeChat customer reads: no markdown reaches them. */
export function customerText(card: Card): string {
  return clipBytes(cardPlainText(card), MSG_TEMPLATE_TEXT_BYTES);
}

/** What the owner is asked to confirm, named in their language. */
const KIND_NAME: Record<Locale, Record<CustomerNoticeKind, string>> = {
  "zh-CN": { confirmed: "订单确认通知", shipment: "发货通知" },
  en: { confirmed: "order confirmation", shipment: "shipment notice" },
};
const EN_ARTICLE: Record<CustomerNoticeKind, string> = { confirmed: "An", shipment: "A" };

/** The customer, and the notices one task carries (several when notices held back by the cap went together). */
type OwnerTextParams = { customerName: string; notices: Array<{ kind: CustomerNoticeKind; orderNo: string }> };

const OWNER_TEXT: Record<Locale, (p: OwnerTextParams) => string> = {
  "zh-CN": (p) =>
    p.notices.length === 1
      ? `给客户「${p.customerName}」的订单 ${p.notices[0].orderNo} ${KIND_NAME["zh-CN"][p.notices[0].kind]}已生成企业微信群发任务，需要你确认后才会发出：请在企业微信「客户联系 → 群发助手」中点击发送。`
      : `给客户「${p.customerName}」的 ${p.notices.length} 条通知（${zhList(p)}）已合并为一个企业微信群发任务，需要你确认后才会发出：请在企业微信「客户联系 → 群发助手」中点击发送。`,
  en: (p) =>
    p.notices.length === 1
      ? `${EN_ARTICLE[p.notices[0].kind]} ${KIND_NAME.en[p.notices[0].kind]} for order ${p.notices[0].orderNo} to customer ${p.customerName} is waiting for you: WeCom sends it only after you confirm it under Customer Contact → Group Message Assistant.`
      : `${p.notices.length} notices to customer ${p.customerName} (${enList(p)}) wait for you as one task: WeCom sends it only after you confirm it under Customer Contact → Group Message Assistant.`,
};

const zhList = (p: OwnerTextParams) => p.notices.map((n) => `订单 ${n.orderNo} ${KIND_NAME["zh-CN"][n.kind]}`).join("、");
const enList = (p: OwnerTextParams) => p.notices.map((n) => `${KIND_NAME.en[n.kind]} for order ${n.orderNo}`).join(", ");

/** Tells the owner of an external contact that a customer notice (or several in one task) waits for their tap (wecom.md 7.2). */
export function ownerConfirmText(locale: Locale, p: OwnerTextParams): string {
  return OWNER_TEXT[locale](p);
}

const NUDGE_TEXT: Record<Locale, (p: OwnerTextParams) => string> = {
  "zh-CN": (p) =>
    p.notices.length === 1
      ? `提醒：给客户「${p.customerName}」的订单 ${p.notices[0].orderNo} ${KIND_NAME["zh-CN"][p.notices[0].kind]}仍在等待你确认，客户还没有收到。请在企业微信「客户联系 → 群发助手」中点击发送。`
      : `提醒：给客户「${p.customerName}」的 ${p.notices.length} 条通知（${zhList(p)}）仍在等待你确认，客户还没有收到。请在企业微信「客户联系 → 群发助手」中点击发送。`,
  en: (p) =>
    p.notices.length === 1
      ? `Reminder: the ${KIND_NAME.en[p.notices[0].kind]} for order ${p.notices[0].orderNo} to customer ${p.customerName} still waits for you and has not reached them. Send it under Customer Contact → Group Message Assistant in WeCom.`
      : `Reminder: ${p.notices.length} notices to customer ${p.customerName} (${enList(p)}) still wait for you and have not reached them. Send them under Customer Contact → Group Message Assistant in WeCom.`,
};

/** Reminds the owner once that a customer notice still waits for their tap (jobs/customer-notice-results.ts). */
export function ownerNudgeText(locale: Locale, p: OwnerTextParams): string {
  return NUDGE_TEXT[locale](p);
}
