import { Op } from "sequelize";
import type { ServiceDeps } from "../deps";

const iso = (d: Date) => new Date(d).toISOString();

export interface TimelineEntry {
  at: string;
  entity: string;
  entityId: string;
  action: string;
  actor: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

/** The audit trail of an order and its approval steps, oldest first. */
export async function loadOrderTimeline(deps: ServiceDeps, orderId: number): Promise<TimelineEntry[]> {
  const m = deps.db.models;
  const stepIds = (await m.ApprovalStep.findAll({ where: { orderId }, attributes: ["id"] })).map((s) => String(s.id));
  const rows = await m.AuditEvent.findAll({
    where: {
      [Op.or]: [
        { entity: "order", entityId: String(orderId) },
        ...(stepIds.length ? [{ entity: "approval_step", entityId: { [Op.in]: stepIds } }] : []),
      ],
    },
    order: [["id", "ASC"]],
  });
  return rows.map((r) => ({
    at: iso(r.at),
    entity: r.entity,
    entityId: r.entityId,
    action: r.action,
    actor: r.actor,
    before: r.before,
    after: r.after,
    reason: r.reason,
  }));
}
