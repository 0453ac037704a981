import crypto from "node:crypto";
import type { InboundEvent } from "../channels/channel";
import type { Card } from "../domain/card";
import { sqlDate } from "../db/insert-rows";
import type { Dialect } from "../db/sequelize";
import type { ServiceDeps } from "../services/deps";

/** What the bot wants to say; written to the outbox, never sent from here. */
export type Reply =
  | { kind: "text"; text: string }
  | { kind: "card"; card: Card } & Partial<CardRefOf>;

/** A card kept in card_refs once sent, so later changes to its order (or step) redraw it in place. */
export interface CardRefOf {
  orderId: number;
  refKind: "preview" | "reject_reason";
  stepId?: number;
}

export const textReply = (text: string): Reply => ({ kind: "text", text });

export const cardReply = (card: Card, ref?: CardRefOf): Reply => ({ kind: "card", card, ...ref });

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
 * It runs on the driver's prepared path rather than through the model's bulkCreate, whose per-row
 * instances, validation and SQL building were a third of a "帮助" turn's CPU (bench:wecom profiles).
 */
export async function writeReplies(deps: ServiceDeps, event: InboundEvent, userId: number, replies: Reply[]): Promise<void> {
  if (replies.length === 0) return;
  const db = deps.db;
  const at = sqlDate(db.dialect, deps.now());
  const traceId = deps.trace.current() ?? null;
  const params: unknown[] = [];
  replies.forEach((r, n) => {
    const payload =
      r.kind === "text"
        ? { userId, text: r.text }
        : { userId, card: r.card, ...(r.orderId ? { orderId: r.orderId } : {}), ...(r.refKind ? { refKind: r.refKind } : {}), ...(r.stepId ? { stepId: r.stepId } : {}) };
    params.push(r.kind === "text" ? "chat.text" : "chat.card", replyDedupeKey(event, n), JSON.stringify(payload), at, at, traceId);
  });
  await db.prepared.all(insertSql(db.dialect, replies.length), params);
  deps.outboxWritten?.();
}

/** Rows as the model writes them: status pending, no attempts yet, due now. */
const COLUMNS = "(topic, dedupe_key, payload, next_attempt_at, created_at, trace_id, status, attempts)";
const ROW = "(?, ?, ?, ?, ?, ?, 'pending', 0)";

/** The same text for the same row count (a turn says one to three things), so each is prepared once. */
function insertSql(dialect: Dialect, rows: number): string {
  const verb = dialect === "sqlite" ? "INSERT OR IGNORE" : "INSERT IGNORE";
  return `${verb} INTO outbox ${COLUMNS} VALUES ${Array.from({ length: rows }, () => ROW).join(", ")}`;
}
