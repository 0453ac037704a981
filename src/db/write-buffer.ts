import type { InferAttributes, Sequelize, Transaction } from "sequelize";
import type { AuditEventRow } from "./models/messaging";
import { insertRows } from "./insert-rows";
import type { Dialect } from "./sequelize";

export type AuditInsert = Omit<InferAttributes<AuditEventRow>, "id">;

export interface OutboxInsert {
  topic: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  nextAttemptAt: Date;
  createdAt: Date;
  traceId: string | null;
}

/**
 * Audit events and outbox rows written during one transaction, held back and inserted together (two
 * multi-row INSERTs instead of one per event). They are flushed before the commit at the latest, so
 * they commit or roll back with the change they describe, exactly as if written one by one.
 */
export interface WriteBuffer {
  audit(row: AuditInsert): void;
  outbox(rows: OutboxInsert[]): void;
  flush(): Promise<void>;
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export function createWriteBuffer(db: { sequelize: Sequelize; dialect: Dialect }, tx: Transaction): WriteBuffer {
  let audits: AuditInsert[] = [];
  let outbox: OutboxInsert[] = [];
  return {
    audit: (row) => void audits.push(row),
    outbox: (rows) => void outbox.push(...rows),
    async flush() {
      const [a, o] = [audits, outbox];
      audits = [];
      outbox = [];
      // Plain rows, no model instance each: these tables are append-only logs written on every change.
      await insertRows(
        db,
        tx,
        "audit_events",
        a.map((r) => ({
          entity: r.entity,
          entity_id: r.entityId,
          action: r.action,
          actor: r.actor,
          at: r.at,
          before: json(r.before),
          after: json(r.after),
          reason: r.reason,
        })),
      );
      // The dedupe key is unique: a message already written (a retried call) is skipped, not an error.
      await insertRows(
        db,
        tx,
        "outbox",
        o.map((r) => ({
          topic: r.topic,
          payload: JSON.stringify(r.payload),
          dedupe_key: r.dedupeKey,
          status: "pending",
          attempts: 0,
          next_attempt_at: r.nextAttemptAt,
          created_at: r.createdAt,
          trace_id: r.traceId,
        })),
        { ignoreDuplicates: true },
      );
    },
  };
}
