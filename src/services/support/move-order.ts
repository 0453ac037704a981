import type { Transaction } from "sequelize";
import { transition, type OrderAction } from "../../domain/order-state";
import type { Actor } from "../../domain/roles";
import type { OrderRow } from "../../db/models/orders";
import type { ServiceDeps } from "../deps";
import { recordAudit } from "./audit";
import { emitOrderEvent, type OrderEvent } from "./notify";
import { enqueue } from "../enqueue";

const EVENT: Partial<Record<OrderAction, OrderEvent>> = {
  submit: "order.submitted",
  approve: "order.approved",
  reject: "order.rejected",
  revise: "order.revised",
  start_picking: "order.picking",
  pack: "order.packed",
  ship_partial: "order.shipped",
  ship_full: "order.shipped",
  deliver: "order.delivered",
  complete: "order.completed",
  cancel: "order.cancelled",
};

/**
 * Applies one state-machine move: checks it, bumps the version, saves, audits it and tells subscribers.
 * `fields` are the timestamps and details that go with the move; `persist: false` leaves the save to a
 * move that follows in the same transaction.
 */
export async function moveOrder(
  deps: ServiceDeps,
  tx: Transaction,
  order: OrderRow,
  action: OrderAction,
  actor: Actor,
  opts: { fields?: Partial<OrderRow>; reason?: string | null; auditAfter?: Record<string, unknown>; persist?: boolean } = {},
): Promise<void> {
  const from = order.status;
  const to = transition(from, action);
  order.set({ ...(opts.fields ?? {}), status: to, version: order.version + 1 } as Partial<OrderRow>);
  if (opts.persist !== false) await order.save({ transaction: tx });
  await recordAudit(deps, tx, {
    entity: "order",
    entityId: order.id,
    action,
    actor,
    before: { status: from },
    after: { status: to, ...(opts.auditAfter ?? {}) },
    reason: opts.reason ?? null,
  });
  const event = EVENT[action];
  if (event) await emitOrderEvent(deps, tx, order, event, `${order.version}`);
  // Every card already showing this order (preview, approval, warehouse) is redrawn in place.
  await enqueue(deps, tx, {
    topic: "card.update",
    dedupeKey: `card.update:order:${order.id}:v${order.version}`,
    payload: { orderId: order.id },
  });
}
