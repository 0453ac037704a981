import { Op, type Transaction } from "sequelize";
import type { OrderRow } from "../../db/models/orders";
import type { ApprovalStepRow } from "../../db/models/approvals";
import type { CustomerRow } from "../../db/models/customers";
import { customerContactOf } from "../../domain/customer-contact";
import type { ServiceDeps } from "../deps";
import { enqueue, type OutboxMessage } from "../enqueue";

/**
 * Who is told what when an order moves. Only outbox rows are written here; the dispatcher renders and
 * sends them after commit. Dedupe keys name the effect, so a retried service call never tells anyone twice.
 */

export type OrderEvent =
  | "order.created"
  | "order.submitted"
  | "order.approved"
  | "order.rejected"
  | "order.revised"
  | "order.cancelled"
  | "order.picking"
  | "order.packed"
  | "order.shipped"
  | "order.delivered"
  | "order.paid"
  | "order.completed";

export async function notifyStepActivated(deps: ServiceDeps, tx: Transaction, order: OrderRow, step: ApprovalStepRow) {
  await enqueue(
    deps,
    tx,
    step.approverIds.map((userId) => ({
      topic: "card.send",
      dedupeKey: `card.send:approval:${step.id}:${userId}`,
      payload: { card: "approval_request", orderId: order.id, stepId: step.id, userId },
    })),
  );
}

export async function notifyStepDecided(
  deps: ServiceDeps,
  tx: Transaction,
  order: OrderRow,
  step: ApprovalStepRow,
  decisionId: number,
) {
  const messages: OutboxMessage[] = [
    {
      topic: "card.update",
      dedupeKey: `card.update:step:${step.id}:decision:${decisionId}`,
      payload: { orderId: order.id, stepId: step.id },
    },
  ];
  if (order.salesRepId !== null) {
    messages.push({
      topic: "chat.text",
      dedupeKey: `chat.text:decision:${decisionId}:rep`,
      payload: { userId: order.salesRepId, message: "step_decided", orderId: order.id, stepId: step.id, decisionId },
    });
  }
  await enqueue(deps, tx, messages);
}

/** `customer`: the order's customer when the caller has it already (a batch of new orders). */
export async function notifyApproved(deps: ServiceDeps, tx: Transaction, order: OrderRow, customer?: CustomerRow) {
  // Read on every approval; who works in the warehouse changes rarely (10 s to notice a new colleague).
  const warehouse = await deps.memo.get("users:warehouse", 10_000, () => usersWithRole(deps, tx, "warehouse"));
  const messages: OutboxMessage[] = warehouse.map((userId) => ({
    topic: "card.send",
    dedupeKey: `card.send:warehouse:${order.id}:${order.approvalRound}:${userId}`,
    payload: { card: "warehouse_pick", orderId: order.id, userId },
  }));
  if (order.salesRepId !== null) {
    messages.push({
      topic: "chat.text",
      dedupeKey: `chat.text:approved:${order.id}:${order.approvalRound}:rep`,
      payload: { userId: order.salesRepId, message: "order_approved", orderId: order.id },
    });
  }
  if (await reachable(deps, tx, order, customer)) {
    // One per order, whatever the round: a customer is told their order is confirmed once.
    messages.push({
      topic: "customer.notify",
      dedupeKey: `customer.notify:confirmed:${order.id}`,
      payload: { kind: "confirmed", orderId: order.id, customerId: order.customerId },
    });
  }
  await enqueue(deps, tx, messages);
}

/** Whether the order's customer can be sent a notice at all; one who cannot gets no outbox row. */
async function reachable(deps: ServiceDeps, tx: Transaction, order: OrderRow, known?: CustomerRow): Promise<boolean> {
  const customer = known?.id === order.customerId ? known : await deps.db.models.Customer.findByPk(order.customerId, { transaction: tx });
  return customer !== null && customerContactOf(customer) !== null;
}

export async function notifyRejected(deps: ServiceDeps, tx: Transaction, order: OrderRow, reason: string | null) {
  if (order.salesRepId === null) return;
  await enqueue(deps, tx, {
    topic: "chat.text",
    dedupeKey: `chat.text:rejected:${order.id}:${order.approvalRound}:rep`,
    payload: { userId: order.salesRepId, message: "order_rejected", orderId: order.id, reason },
  });
}

export async function notifyShipped(deps: ServiceDeps, tx: Transaction, order: OrderRow, shipmentId: number) {
  const messages: OutboxMessage[] = [
    {
      topic: "customer.notify",
      dedupeKey: `customer.notify:shipment:${shipmentId}`,
      payload: { kind: "shipment", orderId: order.id, shipmentId, customerId: order.customerId },
    },
  ];
  if (order.salesRepId !== null) {
    messages.push({
      topic: "chat.text",
      dedupeKey: `chat.text:shipped:${shipmentId}:rep`,
      payload: { userId: order.salesRepId, message: "order_shipped", orderId: order.id, shipmentId },
    });
  }
  await enqueue(deps, tx, messages);
}

/** The rep hears of it; the order's live cards are redrawn by the move itself. */
export async function notifyCancelled(deps: ServiceDeps, tx: Transaction, order: OrderRow) {
  const messages: OutboxMessage[] = [];
  if (order.salesRepId !== null) {
    messages.push({
      topic: "chat.text",
      dedupeKey: `chat.text:cancelled:${order.id}:rep`,
      payload: { userId: order.salesRepId, message: "order_cancelled", orderId: order.id },
    });
  }
  await enqueue(deps, tx, messages);
}

/** One signed webhook delivery per subscriber interested in `event`. */
export async function emitOrderEvent(deps: ServiceDeps, tx: Transaction, order: OrderRow, event: OrderEvent, seq: string) {
  const subs = await deps.memo.get("webhooks", 10_000, () => deps.db.models.WebhookSubscription.findAll({ where: { active: true }, transaction: tx }));
  const interested = subs.filter((s) => s.events === "*" || s.events.split(",").includes(event));
  await enqueue(
    deps,
    tx,
    interested.map((s) => ({
      topic: "webhook.deliver",
      dedupeKey: `webhook:${s.id}:${order.id}:${event}:${seq}`,
      payload: { subscriptionId: s.id, event, orderId: order.id, at: deps.now().toISOString() },
    })),
  );
}

async function usersWithRole(deps: ServiceDeps, tx: Transaction | undefined, role: string): Promise<number[]> {
  const rows = await deps.db.models.User.findAll({
    where: { active: true, [Op.and]: [{ roles: { [Op.like]: `%${role}%` } as never }] },
    attributes: ["id", "roles"],
    transaction: tx,
  });
  return rows.filter((u) => (u.roles as string[]).includes(role)).map((u) => u.id);
}

export { usersWithRole };
