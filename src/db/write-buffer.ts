import type { CreationAttributes, Transaction } from "sequelize";
import type { Models } from "./models";
import type { AuditEventRow, OutboxRow } from "./models/messaging";

type AuditRow = CreationAttributes<AuditEventRow>;
type OutboxRowInput = CreationAttributes<OutboxRow>;

/**
 * Audit events and outbox rows written during one transaction, held back and inserted together (two
 * multi-row INSERTs instead of one per event). They are flushed before the commit at the latest, so
 * they commit or roll back with the change they describe, exactly as if written one by one.
 */
export interface WriteBuffer {
  audit(row: AuditRow): void;
  outbox(rows: OutboxRowInput[]): void;
  flush(): Promise<void>;
}

export function createWriteBuffer(models: Models, tx: Transaction): WriteBuffer {
  let audits: AuditRow[] = [];
  let outbox: OutboxRowInput[] = [];
  return {
    audit: (row) => void audits.push(row),
    outbox: (rows) => void outbox.push(...rows),
    async flush() {
      const [a, o] = [audits, outbox];
      audits = [];
      outbox = [];
      if (a.length) await models.AuditEvent.bulkCreate(a, { transaction: tx });
      // The dedupe key is unique: a message already written (a retried call) is skipped, not an error.
      if (o.length) await models.Outbox.bulkCreate(o, { transaction: tx, ignoreDuplicates: true });
    },
  };
}
