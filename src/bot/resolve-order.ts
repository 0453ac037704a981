import { matchOne, type Matchable } from "../domain/catalog-match";
import { chooseCard, orderPreviewCard } from "../domain/cards";
import type { BotIntent } from "../domain/order-text";
import type { OrderView } from "../domain/order-view";
import { availableByProductId, customerCandidates, productCandidates, recentCustomers } from "./catalog";
import { listOf, say } from "./messages";
import { loadPending, pendingIdFor, savePending, wasAsked, type PendingOrder } from "./pending";
import { cardReply, textReply, type Reply } from "./replies";
import { me, type Turn } from "./turn";

type OrderText = Extract<BotIntent, { kind: "order_text" }>;

export const CHOOSE_ACTION = "bot.choose";
/** The name under which a choice card sends back the chosen id. */
const CHOICE = "value";

/** A typed order: problems are reported, names matched (asking when unsure), then a draft is placed. */
export async function placeFromText(turn: Turn, intent: OrderText): Promise<Reply[]> {
  if (intent.problems.length > 0) {
    const list = intent.problems.map((p) => `· ${p}`).join("\n");
    return [textReply(say(turn.locale, "problems", { list }))];
  }
  const pending: PendingOrder = {
    id: pendingIdFor(turn.event),
    customer: intent.customer,
    customerId: null,
    lines: intent.lines.map((l) => ({ product: l.product, qty: l.qty, unitPriceFen: l.unitPriceFen, productId: null })),
  };
  return resolve(turn, pending);
}

/** A tap on a choice card: the chosen customer or product is filled in and resolution goes on. */
export async function resumeChoice(turn: Turn, values: Record<string, string>): Promise<Reply[]> {
  const expired = [textReply(say(turn.locale, "choiceExpired"))];
  const pending = await loadPending(turn.deps.serviceDeps, me(turn), values.pending ?? "");
  if (!pending) return expired;
  const chosen = Number(values[CHOICE]);
  // Only ids the bot offered are accepted: a card's values come back from the client and can be forged.
  if (values.field === "customer") {
    if (!pending.customerOptions?.includes(chosen)) return expired;
    pending.customerId = chosen;
  } else if (values.field === "line") {
    const line = pending.lines[Number(values.index)];
    if (!line?.options?.includes(chosen)) return expired;
    line.productId = chosen;
  } else {
    return expired;
  }
  return resolve(turn, pending);
}

/** An ambiguity to ask about: which field, and the candidates offered. */
interface Question {
  field: "customer" | "line";
  index: number;
  query: string;
  items: Matchable[];
}

/**
 * Matches what is still open. Unknown names end the attempt (no order); a missing or ambiguous
 * customer, then each ambiguous product, is asked one at a time. A "unique" match (a name containing
 * the query, or a one-typo code) is accepted: the preview shows exactly what was picked before submit.
 */
async function resolve(turn: Turn, pending: PendingOrder): Promise<Reply[]> {
  if (pending.orderId) return [await preview(turn, await turn.deps.services.loadOrderView(pending.orderId))];
  const unknown: string[] = [];
  const questions = [...(await matchCustomer(turn, pending, unknown)), ...(await matchLines(turn, pending, unknown))];
  if (unknown.length > 0) return [textReply(say(turn.locale, "unknownItems", { list: listOf(unknown, turn.locale) }))];
  if (pending.customerId === null && pending.customer === null) return askCustomer(turn, pending);
  const [first] = questions;
  if (!first) return [await place(turn, pending)];
  const ids = first.items.map((i) => i.id);
  if (first.field === "customer") pending.customerOptions = ids;
  else pending.lines[first.index].options = ids;
  const key = first.field === "customer" ? "ambiguousCustomer" : "ambiguousProduct";
  const where = { field: first.field, index: String(first.index) };
  return ask(turn, pending, where, say(turn.locale, key, { query: first.query }), first.items);
}

async function matchCustomer(turn: Turn, pending: PendingOrder, unknown: string[]): Promise<Question[]> {
  if (pending.customerId !== null || pending.customer === null) return [];
  const match = matchOne(pending.customer, await customerCandidates(turn.deps.serviceDeps));
  if (match.kind === "exact" || match.kind === "unique") pending.customerId = match.item.id;
  if (match.kind === "none") unknown.push(say(turn.locale, "unknownCustomer", { name: pending.customer }));
  return match.kind === "ambiguous" ? [{ field: "customer", index: 0, query: pending.customer, items: match.items }] : [];
}

async function matchLines(turn: Turn, pending: PendingOrder, unknown: string[]): Promise<Question[]> {
  if (pending.lines.every((l) => l.productId !== null)) return [];
  const products = await productCandidates(turn.deps.serviceDeps);
  const questions: Question[] = [];
  pending.lines.forEach((line, index) => {
    if (line.productId !== null) return;
    const match = matchOne(line.product, products);
    if (match.kind === "exact" || match.kind === "unique") line.productId = match.item.id;
    if (match.kind === "none") unknown.push(say(turn.locale, "unknownProduct", { name: line.product }));
    if (match.kind === "ambiguous") questions.push({ field: "line", index, query: line.product, items: match.items });
  });
  return questions;
}

/** No customer in the message: offer the rep's recent customers, and say how to type one. */
async function askCustomer(turn: Turn, pending: PendingOrder): Promise<Reply[]> {
  const gap = turn.locale === "en" ? " " : "";
  const hint = textReply(`${say(turn.locale, "askCustomer")}${gap}${say(turn.locale, "askCustomerHint")}`);
  const recent = await recentCustomers(turn.deps.serviceDeps, me(turn));
  if (recent.length === 0) return [hint];
  pending.customerOptions = recent.map((c) => c.id);
  const [card] = await ask(turn, pending, { field: "customer", index: "0" }, say(turn.locale, "askCustomer"), recent);
  return [card, hint];
}

async function ask(
  turn: Turn,
  pending: PendingOrder,
  where: { field: "customer" | "line"; index: string },
  question: string,
  items: Matchable[],
): Promise<Reply[]> {
  await savePending(turn.deps.serviceDeps, me(turn), pending);
  const card = chooseCard({
    locale: turn.locale,
    question,
    action: CHOOSE_ACTION,
    name: CHOICE,
    options: items.map((i) => ({ value: String(i.id), label: `${i.name} (${i.code})` })),
    values: { pending: pending.id, ...where },
  });
  return [cardReply(card)];
}

/** Everything is known: a draft (never submitted here) and its preview, which updates in place later. */
async function place(turn: Turn, pending: PendingOrder): Promise<Reply> {
  const view = await turn.deps.services.placeOrder(
    {
      customerId: pending.customerId as number,
      lines: pending.lines.map((l) => ({ productId: l.productId as number, qty: l.qty, unitPriceFen: l.unitPriceFen })),
      source: "chat",
      salesRepId: me(turn),
      // The same typed order handled twice (a retried event, a double tap) is one draft, not two.
      idempotencyKey: `bot:${me(turn)}:${pending.id}`,
    },
    turn.actor,
  );
  if (wasAsked(pending)) await savePending(turn.deps.serviceDeps, me(turn), { ...pending, orderId: view.id });
  return preview(turn, view);
}

async function preview(turn: Turn, view: OrderView): Promise<Reply> {
  const available = await availableByProductId(turn.deps.serviceDeps, view.lines.map((l) => l.productId));
  // The preview shows the approval route the draft would take if submitted now.
  const projected = await turn.deps.services.loadPreviewView(view.id);
  const card = orderPreviewCard(projected, { locale: turn.locale, availableByProductId: available });
  return cardReply(card, { orderId: view.id, refKind: "preview" });
}
