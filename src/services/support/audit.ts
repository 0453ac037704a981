import type { Transaction } from "sequelize";
import type { Actor } from "../../domain/roles";
import type { ServiceDeps } from "../deps";

export interface AuditInput {
  entity: "order" | "approval_step" | "product" | "customer" | "stock" | "payment" | "shipment" | "rule_set" | "api_key" | "user" | "outbox";
  entityId: number | string;
  action: string;
  actor: Actor;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

/** Who did what, when, and why; written in the same transaction as the change it describes. */
export async function recordAudit(deps: ServiceDeps, tx: Transaction, input: AuditInput): Promise<void> {
  const row = {
    entity: input.entity,
    entityId: String(input.entityId),
    action: input.action,
    actor: input.actor.label,
    at: deps.now(),
    before: input.before ?? null,
    after: input.after ?? null,
    reason: input.reason ?? null,
  };
  const buffer = deps.db.buffer(tx);
  if (buffer) buffer.audit(row);
  else await deps.db.models.AuditEvent.create(row, { transaction: tx });
}

/** The fields that changed between two snapshots, as {before, after} pairs for the audit trail. */
export function diff<T extends Record<string, unknown>>(before: T, after: Partial<T>): { before: Partial<T>; after: Partial<T> } {
  const b: Partial<T> = {};
  const a: Partial<T> = {};
  for (const key of Object.keys(after) as Array<keyof T>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key];
      a[key] = after[key];
    }
  }
  return { before: b, after: a };
}
