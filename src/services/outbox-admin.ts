import type { OutboxStatus } from "../db/models/messaging";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";

export type { OutboxStatus };
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ["pending", "leased", "sending", "sent", "dead"];

export interface OutboxMessageView {
  id: number;
  topic: string;
  dedupeKey: string;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** Outbox messages of one status (default: the dead ones), oldest first, at most `limit`. */
export async function listOutboxMessages(deps: ServiceDeps, q: { status?: OutboxStatus; limit?: number } = {}): Promise<OutboxMessageView[]> {
  const rows = await deps.db.models.Outbox.findAll({ where: { status: q.status ?? "dead" }, order: [["id", "ASC"]], limit: Math.min(q.limit ?? 200, 500) });
  return rows.map((r) => ({
    id: r.id,
    topic: r.topic,
    dedupeKey: r.dedupeKey,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: new Date(r.createdAt).toISOString(),
  }));
}

/**
 * Queues dead messages again (one by id, or every dead one): attempts reset, due now. Only dead
 * messages move; the count says how many did. The actor is logged for the record.
 */
export async function retryDeadOutbox(deps: ServiceDeps, which: { id: number } | "all", actor: Actor): Promise<number> {
  const where = which === "all" ? { status: "dead" as const } : { id: which.id, status: "dead" as const };
  const [count] = await deps.db.models.Outbox.update(
    { status: "pending", attempts: 0, nextAttemptAt: deps.now(), leaseUntil: null, leasedBy: null, lastError: null },
    { where },
  );
  deps.log.info({ count, which, actor: actor.label }, "dead outbox messages queued again");
  return count;
}
