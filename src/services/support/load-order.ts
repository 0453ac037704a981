import { Op, type Transaction } from "sequelize";
import { DomainError } from "../../domain/errors";
import { customerNoticeModel, type CustomerNoticeRow, type CustomerRow } from "../../db/models/customers";
import type { OrderLineRow, OrderRow } from "../../db/models/orders";
import type { ApprovalDecisionRow, ApprovalStepRow } from "../../db/models/approvals";
import type { PaymentRow, ShipmentLineRow, ShipmentRow } from "../../db/models/fulfilment";
import type { UserRow } from "../../db/models/users";
import type { OrderView, ApprovalStepView } from "../../domain/order-view";
import type { ServiceDeps } from "../deps";

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/** The order row, locked for the rest of the transaction on databases with row locks. */
export async function lockOrder(deps: ServiceDeps, tx: Transaction, orderId: number): Promise<OrderRow> {
  const order = await deps.db.models.Order.findByPk(orderId, { transaction: tx, lock: deps.db.lock });
  if (!order) throw new DomainError("not_found", `order ${orderId} not found`, { orderId });
  return order;
}

/** Resolves an order number or numeric id to the id; not_found when neither exists. */
export async function findOrderId(deps: ServiceDeps, ref: string | number): Promise<number> {
  const where = typeof ref === "number" || /^\d+$/.test(ref) ? { id: Number(ref) } : { orderNo: ref.toUpperCase() };
  const order = await deps.db.models.Order.findOne({ where, attributes: ["id"] });
  if (!order) throw new DomainError("not_found", `order ${ref} not found`, { order: ref });
  return order.id;
}

/** The full read model: lines, the current approval round, shipments and payments. */
export async function loadOrderView(deps: ServiceDeps, orderId: number, tx?: Transaction): Promise<OrderView> {
  const [view] = await loadOrderViews(deps, [orderId], tx);
  return view;
}

const SHIPPED = ["partially_shipped", "shipped", "delivered", "completed"];

/** Several orders' read models with one query per table, in the order of `orderIds`. */
export async function loadOrderViews(deps: ServiceDeps, orderIds: number[], tx?: Transaction): Promise<OrderView[]> {
  const m = deps.db.models;
  const ids = [...new Set(orderIds)];
  const orders = ids.length ? await m.Order.findAll({ where: { id: { [Op.in]: ids } }, transaction: tx }) : [];
  const byId = new Map(orders.map((o) => [o.id, o]));
  const missing = orderIds.find((id) => !byId.has(id));
  if (missing !== undefined) throw new DomainError("not_found", `order ${missing} not found`, { orderId: missing });
  // Skip what the orders cannot have yet (no steps before a submit, no parcels before shipping, no
  // payments while nothing is paid): most views are of young orders, and this is on every response.
  const submitted = orders.filter((o) => o.approvalRound > 0);
  const shippedIds = orders.filter((o) => SHIPPED.includes(o.status)).map((o) => o.id);
  const paidIds = orders.filter((o) => o.paidFen > 0).map((o) => o.id);
  const noticeIds = orders.filter(mayHaveNotices).map((o) => o.id);
  const customerIds = [...new Set(orders.map((o) => o.customerId))];
  const repIds = [...new Set(orders.flatMap((o) => (o.salesRepId ? [o.salesRepId] : [])))];
  const [customers, reps, lines, steps, shipments, payments, notices] = await Promise.all([
    m.Customer.findAll({ where: { id: { [Op.in]: customerIds } }, transaction: tx }),
    repIds.length ? m.User.findAll({ where: { id: { [Op.in]: repIds } }, transaction: tx }) : [],
    m.OrderLine.findAll({ where: { orderId: { [Op.in]: ids } }, order: [["lineNo", "ASC"]], transaction: tx }),
    submitted.length
      ? m.ApprovalStep.findAll({
          where: { [Op.or]: submitted.map((o) => ({ orderId: o.id, round: o.approvalRound })) },
          order: [["stepNo", "ASC"]],
          transaction: tx,
        })
      : [],
    shippedIds.length ? m.Shipment.findAll({ where: { orderId: { [Op.in]: shippedIds } }, order: [["id", "ASC"]], transaction: tx }) : [],
    paidIds.length ? m.Payment.findAll({ where: { orderId: { [Op.in]: paidIds } }, order: [["id", "ASC"]], transaction: tx }) : [],
    // Customer notices: none before the order is confirmed (approved).
    noticeIds.length
      ? customerNoticeModel(deps.db.sequelize).findAll({ where: { orderId: { [Op.in]: noticeIds } }, order: [["id", "ASC"]], transaction: tx })
      : [],
  ]);
  const stepIds = steps.map((s) => s.id);
  const shipmentIds = shipments.map((s) => s.id);
  const [decisions, shipmentLines] = await Promise.all([
    stepIds.length ? m.ApprovalDecision.findAll({ where: { stepId: { [Op.in]: stepIds } }, order: [["id", "ASC"]], transaction: tx }) : [],
    shipmentIds.length ? m.ShipmentLine.findAll({ where: { shipmentId: { [Op.in]: shipmentIds } }, transaction: tx }) : [],
  ]);
  const userIds = [...new Set([...steps.flatMap((s) => s.approverIds), ...decisions.map((d) => d.approverId)])];
  const users = userIds.length ? await m.User.findAll({ where: { id: { [Op.in]: userIds } }, attributes: ["id", "name"], transaction: tx }) : [];
  const related: Related = {
    customers: new Map(customers.map((c) => [c.id, c])),
    reps: new Map(reps.map((r) => [r.id, r])),
    lines: groupBy(lines, (l) => l.orderId),
    steps: groupBy(steps, (s) => s.orderId),
    shipments: groupBy(shipments, (s) => s.orderId),
    payments: groupBy(payments, (p) => p.orderId),
    notices: groupBy(notices, (n) => n.orderId),
    decisions: groupBy(decisions, (d) => d.stepId),
    shipmentLines: groupBy(shipmentLines, (sl) => sl.shipmentId),
    nameOf: new Map(users.map((u) => [u.id, u.name])),
  };
  return orderIds.map((id) => toView(byId.get(id)!, related));
}

/** Approved (confirmed) or further along: the customer may have been told of it. */
function mayHaveNotices(order: OrderRow): boolean {
  return order.approvedAt !== null || SHIPPED.includes(order.status);
}

function groupBy<T, K>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

interface Related {
  customers: Map<number, CustomerRow>;
  reps: Map<number, UserRow>;
  lines: Map<number, OrderLineRow[]>;
  steps: Map<number, ApprovalStepRow[]>;
  shipments: Map<number, ShipmentRow[]>;
  payments: Map<number, PaymentRow[]>;
  notices: Map<number, CustomerNoticeRow[]>;
  decisions: Map<number, ApprovalDecisionRow[]>;
  shipmentLines: Map<number, ShipmentLineRow[]>;
  nameOf: Map<number, string>;
}

function toView(order: OrderRow, r: Related): OrderView {
  const customer = r.customers.get(order.customerId);
  const rep = order.salesRepId ? r.reps.get(order.salesRepId) : undefined;
  const lines = r.lines.get(order.id) ?? [];
  const steps = r.steps.get(order.id) ?? [];
  const shipments = r.shipments.get(order.id) ?? [];
  const payments = r.payments.get(order.id) ?? [];
  const notices = r.notices.get(order.id) ?? [];
  const nameOf = r.nameOf;
  const lineById = new Map(lines.map((l) => [l.id, l]));
  const stepViews: ApprovalStepView[] = steps.map((s) => ({
    id: s.id,
    stepNo: s.stepNo,
    label: s.label,
    mode: s.mode,
    status: s.status,
    approvers: s.approverIds.map((id) => ({ id, name: nameOf.get(id) ?? `#${id}` })),
    reasons: s.reasons ?? [],
    decisions: (r.decisions.get(s.id) ?? []).map((d) => ({
        approverId: d.approverId,
        approverName: nameOf.get(d.approverId) ?? `#${d.approverId}`,
        decision: d.decision,
        comment: d.comment,
        decidedAt: iso(d.decidedAt)!,
      })),
    activatedAt: iso(s.activatedAt),
    decidedAt: iso(s.decidedAt),
  }));

  return {
    id: order.id,
    orderNo: order.orderNo,
    status: order.status,
    version: order.version,
    source: order.source,
    customer: customer
      ? { id: customer.id, code: customer.code, name: customer.name, level: customer.level }
      : { id: order.customerId, code: "?", name: "?", level: null },
    salesRep: rep ? { id: rep.id, name: rep.name } : null,
    totalFen: order.totalFen,
    paidFen: order.paidFen,
    paymentTermsDays: order.paymentTermsDays,
    note: order.note,
    shipTo: { name: order.shipToName, phone: order.shipToPhone, address: order.shipToAddress },
    lines: lines.map((l) => ({
      id: l.id,
      lineNo: l.lineNo,
      productId: l.productId,
      sku: l.sku,
      name: l.name,
      unit: l.unit,
      listPriceFen: l.listPriceFen,
      unitPriceFen: l.unitPriceFen,
      qty: l.qty,
      discountBp: l.listPriceFen > l.unitPriceFen ? Math.round(((l.listPriceFen - l.unitPriceFen) * 10000) / l.listPriceFen) : 0,
      lineTotalFen: l.lineTotalFen,
      pickedQty: l.pickedQty,
      shippedQty: l.shippedQty,
    })),
    approval: {
      round: order.approvalRound,
      autoApproved: order.autoApproved,
      reasons: order.approvalReasons ?? [],
      steps: stepViews,
    },
    shipments: shipments.map((s) => ({
      id: s.id,
      carrier: s.carrier,
      trackingNo: s.trackingNo,
      shippedAt: iso(s.shippedAt)!,
      lines: (r.shipmentLines.get(s.id) ?? []).map((sl) => {
          const line = lineById.get(sl.orderLineId);
          return { orderLineId: sl.orderLineId, sku: line?.sku ?? "?", name: line?.name ?? "?", qty: sl.qty };
        }),
    })),
    payments: payments.map((p) => ({
      id: p.id,
      amountFen: p.amountFen,
      paidAt: iso(p.paidAt)!,
      method: p.method,
      reference: p.reference,
    })),
    ...(mayHaveNotices(order)
      ? {
          customerNotices: notices.map((n) => ({
            id: n.id,
            kind: n.kind,
            shipmentId: n.shipmentId,
            channel: n.channel,
            target: n.target,
            msgid: n.msgid,
            state: n.state,
            error: n.error,
            createdAt: iso(n.createdAt)!,
            updatedAt: iso(n.updatedAt)!,
          })),
        }
      : {}),
    createdAt: iso(order.createdAt)!,
    submittedAt: iso(order.submittedAt),
    approvedAt: iso(order.approvedAt),
    shippedAt: iso(order.shippedAt),
    deliveredAt: iso(order.deliveredAt),
    completedAt: iso(order.completedAt),
    cancelledAt: iso(order.cancelledAt),
    cancelReason: order.cancelReason,
    dueAt: iso(order.dueAt),
  };
}
