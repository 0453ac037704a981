import { matchOne } from "../domain/catalog-match";
import { visibleFields } from "../domain/field-visibility";
import { helpCard, newOrderCard, noticeText, orderListCard, orderStatusCard, stockCard } from "../domain/cards";
import { isDomainError } from "../domain/errors";
import type { Locale } from "../domain/i18n";
import { parseIntent } from "../domain/order-text";
import { mayPerform } from "../domain/permissions";
import { hasRole } from "../domain/roles";
import { takeRejectReason } from "./approvals";
import { productCandidates, recentCustomers, stockItems } from "./catalog";
import { say } from "./messages";
import { cardReply, textReply, type Reply } from "./replies";
import { placeFromText } from "./resolve-order";
import { me, type Turn } from "./turn";

// Group chats prefix the bot's name ("@订单助手 下单 …"); one or more leading mentions are dropped.
const LEADING_MENTIONS = /^(?:\s*@\S+)+\s*/;

/** Answers a typed message: a pending reject reason first, then whatever the text asks for. */
export async function answerText(turn: Turn, raw: string): Promise<Reply[]> {
  const text = raw.replace(LEADING_MENTIONS, "");
  const reason = await takeRejectReason(turn, text);
  if (reason) return reason;
  const intent = parseIntent(text);
  switch (intent.kind) {
    case "help":
      return [help(turn)];
    case "new_order":
      return mayOrder(turn) ? newOrder(turn) : refuseOrdering(turn);
    case "order_text":
      return mayOrder(turn) ? placeFromText(turn, intent) : refuseOrdering(turn);
    case "my_orders":
      return myOrders(turn);
    case "order_status":
      return orderStatus(turn, intent.orderNo);
    case "stock":
      return stock(turn, intent.query);
    case "language":
      return setLanguage(turn, intent.locale);
    case "unknown":
      return [textReply(noticeText("not_understood", {}, turn.locale))];
  }
}

export function help(turn: Turn): Reply {
  return cardReply(helpCard({ locale: turn.locale, roles: turn.actor.roles }));
}

/** Anyone may choose their language, with or without a role; the answer is already in the new one. */
async function setLanguage(turn: Turn, locale: Locale): Promise<Reply[]> {
  await turn.deps.services.setUserLocale(me(turn), locale);
  return [textReply(say(locale, "languageSet"))];
}

function mayOrder(turn: Turn): boolean {
  return mayPerform(turn.actor, "place", null);
}

/** Warehouse or finance get told ordering is for sales; someone with no role at all is refused. */
function refuseOrdering(turn: Turn): Reply[] {
  const text =
    turn.actor.roles.length === 0 ? noticeText("forbidden_action", {}, turn.locale) : say(turn.locale, "orderingForSales");
  return [textReply(text), help(turn)];
}

async function newOrder(turn: Turn): Promise<Reply[]> {
  const recent = await recentCustomers(turn.deps.serviceDeps, me(turn));
  return [cardReply(newOrderCard({ locale: turn.locale, recentCustomers: recent }))];
}

/** The sender's newest orders; a manager's list includes the reps who report to them. */
async function myOrders(turn: Turn): Promise<Reply[]> {
  const { services, serviceDeps } = turn.deps;
  const repIds = [me(turn)];
  if (hasRole(turn.actor, "manager", "director")) {
    const team = await serviceDeps.db.models.User.findAll({ where: { managerId: me(turn) }, attributes: ["id"] });
    repIds.push(...team.map((u) => u.id));
  }
  const page = await services.listOrders({ salesRepIds: repIds, limit: 5 });
  const views = await Promise.all(page.items.map((o) => services.loadOrderView(o.id)));
  return [cardReply(orderListCard(views, { locale: turn.locale }))];
}

async function orderStatus(turn: Turn, orderNo: string): Promise<Reply[]> {
  const { services, serviceDeps } = turn.deps;
  let orderId: number;
  try {
    orderId = await services.findOrderId(orderNo);
  } catch (err) {
    if (isDomainError(err) && err.code === "not_found") return [textReply(say(turn.locale, "orderNotFound", { orderNo }))];
    throw err;
  }
  // Checked on the row before the full view is loaded, so nothing of someone else's order is read.
  const order = await serviceDeps.db.models.Order.findByPk(orderId, { attributes: ["id", "salesRepId"] });
  if (!order || !mayPerform(turn.actor, "view", order)) {
    return [textReply(noticeText("forbidden_action", { scope: "order" }, turn.locale))];
  }
  const view = await services.loadOrderView(orderId);
  return [cardReply(orderStatusCard(view, { locale: turn.locale, prices: visibleFields(turn.actor).prices }))];
}

/** Stock of whatever the query names; several matches are all listed (up to matchOne's eight). */
async function stock(turn: Turn, query: string): Promise<Reply[]> {
  if (turn.actor.roles.length === 0) return [textReply(noticeText("forbidden_action", {}, turn.locale))];
  const match = matchOne(query, await productCandidates(turn.deps.serviceDeps));
  const found = match.kind === "ambiguous" ? match.items : match.kind === "none" ? [] : [match.item];
  const items = await stockItems(turn.deps.serviceDeps, found);
  return [cardReply(stockCard(items, { locale: turn.locale, query }))];
}
