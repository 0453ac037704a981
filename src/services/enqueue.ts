import type { Transaction } from "sequelize";
import type { ServiceDeps } from "./deps";

/**
 * card.send: an order card built at send time ({card, orderId, stepId?, userId});
 * chat.card: a card already built by the bot ({userId, card, orderId?, refKind?});
 * card.update: redraw an order's live cards ({orderId, stepId?});
 * chat.text: a notice ({userId, text} or {userId, message, orderId, ...});
 * customer.notify: a notice to the customer ({kind: "confirmed", orderId} or {kind: "shipment", orderId, shipmentId});
 * webhook.deliver: a signed POST to an ERP.
 */
export type OutboxTopic = "card.send" | "chat.card" | "card.update" | "chat.text" | "customer.notify" | "webhook.deliver";

export interface OutboxMessage {
  topic: OutboxTopic;
  /** Unique per intended effect: the same key twice is the same message and is written once. */
  dedupeKey: string;
  payload: Record<string, unknown>;
}

/**
 * Writes outbox rows inside the caller's transaction: a rolled-back change never reaches anyone, a
 * committed one is delivered by the dispatcher even if this process dies right after.
 */
export async function enqueue(deps: ServiceDeps, tx: Transaction, messages: OutboxMessage | OutboxMessage[]): Promise<void> {
  const list = Array.isArray(messages) ? messages : [messages];
  if (list.length === 0) return;
  const at = deps.now();
  const traceId = deps.trace.current() ?? null;
  const rows = list.map((m) => ({ topic: m.topic, dedupeKey: m.dedupeKey, payload: m.payload, nextAttemptAt: at, createdAt: at, traceId }));
  // A hint to the dispatcher; Sequelize runs it after COMMIT (also after a failed one: a wasted look).
  if (deps.outboxWritten) tx.afterCommit(deps.outboxWritten);
  const buffer = deps.db.buffer(tx);
  if (buffer) buffer.outbox(rows);
  else await deps.db.models.Outbox.bulkCreate(rows, { transaction: tx, ignoreDuplicates: true });
}
