import type { ModelAttributeColumnOptions, QueryOptions, Transaction } from "sequelize";
import type { Models } from "./models";

export interface AuditInsert {
  entity: string;
  entityId: string;
  action: string;
  actor: string;
  at: Date;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export interface OutboxInsert {
  topic: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  nextAttemptAt: Date;
  createdAt: Date;
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

/** The model's column definitions keyed by column name, so values are escaped as the model would. */
function columnsOf(model: object): Record<string, ModelAttributeColumnOptions> {
  return (model as { fieldRawAttributesMap: Record<string, ModelAttributeColumnOptions> }).fieldRawAttributesMap;
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export function createWriteBuffer(models: Models, tx: Transaction): WriteBuffer {
  let audits: AuditInsert[] = [];
  let outbox: OutboxInsert[] = [];
  return {
    audit: (row) => void audits.push(row),
    outbox: (rows) => void outbox.push(...rows),
    async flush() {
      const [a, o] = [audits, outbox];
      audits = [];
      outbox = [];
      // Plain rows through the query interface: these tables are append-only logs, and building a model
      // instance per row was most of the cost of a busy transaction. Columns are typed by the models.
      const qi = models.AuditEvent.sequelize!.getQueryInterface();
      if (a.length) {
        await qi.bulkInsert(
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
          { transaction: tx },
          columnsOf(models.AuditEvent),
        );
      }
      // The dedupe key is unique: a message already written (a retried call) is skipped, not an error.
      if (o.length) {
        await qi.bulkInsert(
          "outbox",
          o.map((r) => ({
            topic: r.topic,
            payload: JSON.stringify(r.payload),
            dedupe_key: r.dedupeKey,
            status: "pending",
            attempts: 0,
            next_attempt_at: r.nextAttemptAt,
            created_at: r.createdAt,
          })),
          { transaction: tx, ignoreDuplicates: true } as QueryOptions,
          columnsOf(models.Outbox),
        );
      }
    },
  };
}
