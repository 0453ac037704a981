import crypto from "node:crypto";
import type { InboundEvent } from "../channels/channel";
import type { Card } from "../domain/card";
import type { OutboxMessage } from "../services/enqueue";
import type { ServiceDeps } from "../services/deps";

/** What the bot wants to say; written to the outbox, never sent from here. */
export type Reply =
  | { kind: "text"; text: string }
  | { kind: "card"; card: Card; orderId?: number; refKind?: "preview" };

export const textReply = (text: string): Reply => ({ kind: "text", text });

export const cardReply = (card: Card, ref?: { orderId: number; refKind: "preview" }): Reply => ({ kind: "card", card, ...ref });

// The outbox dedupe_key column holds 191 characters; a platform's event key is usually far shorter.
const MAX_KEY_IN_DEDUPE = 150;

/** `reply:<platform>:<event key>:<n>`, so handling the same event again writes no second reply. */
export function replyDedupeKey(event: InboundEvent, n: number): string {
  const key =
    event.key.length > MAX_KEY_IN_DEDUPE ? crypto.createHash("sha256").update(event.key).digest("hex") : event.key;
  return `reply:${event.platform}:${key}:${n}`;
}

/**
 * Writes every reply of one event as one multi-row INSERT: atomic on its own, so no BEGIN/COMMIT around it
 * (two statements fewer per event, which counts when a burst of callbacks is being worked off). The
 * dispatcher sends them once written; the dedupe keys make handling the same event again write nothing.
 */
export async function writeReplies(deps: ServiceDeps, event: InboundEvent, userId: number, replies: Reply[]): Promise<void> {
  if (replies.length === 0) return;
  const messages: OutboxMessage[] = replies.map((r, n) => ({
    topic: r.kind === "text" ? "chat.text" : "chat.card",
    dedupeKey: replyDedupeKey(event, n),
    payload:
      r.kind === "text"
        ? { userId, text: r.text }
        : { userId, card: r.card, ...(r.orderId ? { orderId: r.orderId } : {}), ...(r.refKind ? { refKind: r.refKind } : {}) },
  }));
  const at = deps.now();
  const traceId = deps.trace.current() ?? null;
  await deps.db.models.Outbox.bulkCreate(
    messages.map((m) => ({ topic: m.topic, dedupeKey: m.dedupeKey, payload: m.payload, nextAttemptAt: at, createdAt: at, traceId })),
    { ignoreDuplicates: true },
  );
}
