import { Op, QueryTypes } from "sequelize";
import type { Actor } from "../../domain/roles";
import { sqlDate } from "../../db/insert-rows";
import type { ServiceDeps } from "../deps";
import { lockOrder } from "../support/load-order";
import { moveOrder } from "../support/move-order";

const DAY_MS = 24 * 60 * 60 * 1000;
const ACTOR: Actor = Object.freeze({ kind: "system", userId: null, roles: [], label: "system:housekeeping" });
/** One run never holds the database for long: it stops after this many batches and goes on next time. */
const MAX_BATCHES = 50;

/** Drafts untouched for `days` become archived, one order per transaction (each is audited like any move). */
export async function archiveStaleDrafts(deps: ServiceDeps, input: { days: number; batchSize: number }): Promise<number> {
  const cutoff = new Date(deps.now().getTime() - input.days * DAY_MS);
  const stale = await deps.db.models.Order.findAll({
    where: { status: "draft", updatedAt: { [Op.lt]: cutoff } },
    attributes: ["id"],
    order: [["id", "ASC"]],
    limit: input.batchSize * MAX_BATCHES,
  });
  let archived = 0;
  for (const { id } of stale) {
    const moved = await deps.db.transaction(async (tx) => {
      const order = await lockOrder(deps, tx, id);
      // Touched since we looked: it is not stale any more.
      if (order.status !== "draft" || order.updatedAt >= cutoff) return false;
      await moveOrder(deps, tx, order, "archive", ACTOR, { fields: { archivedAt: deps.now() }, reason: `untouched for ${input.days} days` });
      return true;
    });
    if (moved) archived += 1;
  }
  return archived;
}

/**
 * Deletes rows matching `where` in batches of ids, so no single statement locks a large range
 * (works on SQLite too, which has no DELETE … LIMIT by default).
 */
async function deleteInBatches(deps: ServiceDeps, table: string, where: string, replacements: Record<string, unknown>, batchSize: number): Promise<number> {
  const s = deps.db.sequelize;
  let deleted = 0;
  for (let i = 0; i < MAX_BATCHES; i += 1) {
    const rows = await s.query<{ id: number | string }>(`SELECT id FROM ${table} WHERE ${where} ORDER BY id LIMIT :limit`, {
      type: QueryTypes.SELECT,
      replacements: { ...replacements, limit: batchSize },
    });
    if (rows.length === 0) break;
    await s.query(`DELETE FROM ${table} WHERE id IN (:ids)`, { replacements: { ids: rows.map((r) => r.id) } });
    deleted += rows.length;
    if (rows.length < batchSize) break;
  }
  return deleted;
}

/** Sent outbox rows and handled inbound event keys older than the retention period are deleted in small batches. */
export async function purgeOldRows(deps: ServiceDeps, input: { retentionDays: number; batchSize: number }): Promise<{ outbox: number; inbound: number }> {
  const cutoff = sqlDate(deps.db.dialect, new Date(deps.now().getTime() - input.retentionDays * DAY_MS));
  const outbox = await deleteInBatches(deps, "outbox", "status = 'sent' AND sent_at < :cutoff", { cutoff }, input.batchSize);
  // Only handled events: one still waiting (or failed, for a person to look at) keeps its row.
  const inbound = await deleteInBatches(deps, "inbound_events", "status = 'processed' AND received_at < :cutoff", { cutoff }, input.batchSize);
  return { outbox, inbound };
}
