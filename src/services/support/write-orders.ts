import { Op, QueryTypes, type CreationAttributes, type Transaction } from "sequelize";
import type { ApprovalRoute } from "../../domain/approval-rules";
import { RECEIVABLE_STATUSES, transition, type OrderStatus } from "../../domain/order-state";
import type { Actor } from "../../domain/roles";
import type { CustomerRow } from "../../db/models/customers";
import type { OrderRow } from "../../db/models/orders";
import { insertRows, type Cell } from "../../db/insert-rows";
import type { ServiceDeps } from "../deps";
import type { PlaceOrderInput } from "../place-order";
import { recordSubmitMoves } from "../submit-order";
import { planRoute, stepRows, type PlannedRound } from "./approval-round";
import { recordAudit } from "./audit";
import type { NewLine } from "./build-lines";
import { emitOrderEvent } from "./notify";
import { reserveStock, shortfall, takeFrom, type StockNeed } from "./stock";

/** An order of a batch, checked and numbered, ready to be written (place-order.ts prepares it). */
export interface Prepared {
  index: number;
  input: PlaceOrderInput;
  actor: Actor;
  customer: CustomerRow;
  lines: NewLine[];
  totalFen: number;
  salesRepId: number | null;
  orderNo: string;
  traceId?: string;
}

/**
 * The batch's one transaction. Each submitted order is checked against the stock the orders before it
 * left; orders that do not fit, or that nobody can approve, are refused here and written nowhere. The
 * rest are inserted as drafts, moved through the same state moves a single submit makes (audit events,
 * notices, webhooks), saved, and their stock reserved last with the guarded UPDATE, so the hot stock
 * rows are locked only until the commit. Should that guard find less stock than was read (another
 * writer got there first), the batch rolls back and its orders are placed one by one.
 */
export async function writeOrders(
  deps: ServiceDeps,
  tx: Transaction,
  prepared: Prepared[],
  available: Map<number, number>,
  settle: (i: number, error: unknown) => void,
): Promise<Array<{ index: number; orderId: number }>> {
  const m = deps.db.models;
  const submitting = prepared.filter((p) => p.input.submit);
  const receivables = await openReceivables(deps, tx, submitting.map((p) => p.customer));

  const accepted: Array<Prepared & { plan: Awaited<ReturnType<typeof planRoute>> | null; needs: StockNeed[] }> = [];
  for (const p of prepared) {
    const needs = p.lines.map((l) => ({ productId: l.productId, sku: l.sku, qty: l.qty }));
    try {
      let plan = null;
      if (p.input.submit) {
        const order = { id: 0, customerId: p.customer.id, totalFen: p.totalFen, salesRepId: p.salesRepId };
        plan = await planRoute(deps, tx, order, p.lines, p.customer, receivables.get(p.customer.id) ?? 0);
        const short = shortfall(needs, available);
        if (short) throw short;
        takeFrom(available, needs);
        receivables.set(p.customer.id, (receivables.get(p.customer.id) ?? 0) + p.totalFen);
      }
      accepted.push({ ...p, plan, needs });
    } catch (err) {
      settle(p.index, err);
    }
  }
  if (accepted.length === 0) return [];

  // Each order is written once, already in the state its moves below take it to.
  const at = deps.now();
  const finals = accepted.map((a) => submitOutcome(a.plan?.route ?? null, at));
  await insertRows(deps.db, tx, "orders", accepted.map((a, i) => orderColumns(a, finals[i], at)));
  const ids = await deps.db.sequelize.query<{ id: number; orderNo: string }>(
    `SELECT id, order_no AS orderNo FROM orders WHERE order_no IN (${accepted.map(() => "?").join(",")})`,
    { replacements: accepted.map((a) => a.orderNo), type: QueryTypes.SELECT, transaction: tx },
  );
  const idOf = new Map(ids.map((r) => [r.orderNo, Number(r.id)]));
  // The orders as drafts, for the moves to take through the same steps a single submit does.
  const orders = accepted.map((a) =>
    m.Order.build(
      { ...draftRow(a), id: idOf.get(a.orderNo)!, paidFen: 0, approvalRound: 0, autoApproved: false, version: 1, createdAt: at, updatedAt: at },
      { isNewRecord: false },
    ),
  );
  await insertRows(
    deps.db,
    tx,
    "order_lines",
    accepted.flatMap((a, i) => a.lines.map((l) => lineColumns(orders[i].id, l))),
  );
  const stepsToWrite = accepted.flatMap((a, i) =>
    a.plan && !a.plan.route.autoApproved ? stepRows(a.plan.route, a.plan.approverIds, orders[i].id, 1, at) : [],
  );
  if (stepsToWrite.length) await m.ApprovalStep.bulkCreate(stepsToWrite, { transaction: tx });
  const steps = stepsToWrite.length
    ? await m.ApprovalStep.findAll({ where: { orderId: { [Op.in]: orders.map((o) => o.id) } }, order: [["stepNo", "ASC"]], transaction: tx })
    : [];

  for (const [i, a] of accepted.entries()) {
    // Under the trace of the request that placed it: its notices and webhooks are stamped with that id.
    await deps.trace.run(a.traceId ?? null, () => writeMoves(i, a));
  }
  async function writeMoves(i: number, a: (typeof accepted)[number]) {
    const order = orders[i];
    await recordAudit(deps, tx, {
      entity: "order",
      entityId: order.id,
      action: "created",
      actor: a.actor,
      after: { orderNo: a.orderNo, customer: a.customer.code, totalFen: a.totalFen, lines: a.lines.map((l) => ({ sku: l.sku, qty: l.qty, unitPriceFen: l.unitPriceFen })) },
    });
    await emitOrderEvent(deps, tx, order, "order.created", "1");
    if (!a.plan) return;
    order.approvalReasons = a.plan.route.reasons;
    order.autoApproved = a.plan.route.autoApproved;
    const round: PlannedRound = { autoApproved: a.plan.route.autoApproved, steps: steps.filter((s) => s.orderId === order.id) };
    await recordSubmitMoves(deps, tx, order, a.actor, round, { at, saved: true, customer: a.customer });
    // The row was written with the moves' outcome worked out beforehand; the moves must agree.
    if (order.status !== finals[i].status || order.version !== finals[i].version) {
      throw new Error(`order ${order.orderNo}: written as ${finals[i].status} v${finals[i].version}, moved to ${order.status} v${order.version}`);
    }
  }
  // Everything else is written before the stock rows are locked, so the hot lock is held only to commit.
  await deps.db.buffer(tx)?.flush();
  await reserveStock(deps, tx, accepted.flatMap((a) => (a.plan ? a.needs : [])));
  return accepted.map((a, i) => ({ index: a.index, orderId: orders[i].id }));
}

/** Where a new order's submit leaves it: approved outright, or waiting for its first step. */
function submitOutcome(route: ApprovalRoute | null, at: Date) {
  if (!route) return { status: "draft" as OrderStatus, version: 1, submittedAt: null, approvedAt: null, approvalRound: 0, autoApproved: false, approvalReasons: null };
  const submitted = transition("draft", "submit");
  return {
    status: route.autoApproved ? transition(submitted, "approve") : submitted,
    version: route.autoApproved ? 3 : 2,
    submittedAt: at,
    approvedAt: route.autoApproved ? at : null,
    approvalRound: 1,
    autoApproved: route.autoApproved,
    approvalReasons: route.reasons,
  };
}

function orderColumns(p: Prepared, final: ReturnType<typeof submitOutcome>, at: Date): Record<string, Cell> {
  const d = draftRow(p);
  return {
    order_no: d.orderNo,
    customer_id: d.customerId,
    sales_rep_id: d.salesRepId,
    status: final.status,
    total_fen: d.totalFen,
    paid_fen: 0,
    payment_terms_days: d.paymentTermsDays,
    due_at: null,
    ship_to_name: d.shipToName,
    ship_to_phone: d.shipToPhone,
    ship_to_address: d.shipToAddress,
    note: d.note,
    source: d.source,
    idempotency_key: d.idempotencyKey,
    approval_round: final.approvalRound,
    auto_approved: final.autoApproved,
    approval_reasons: final.approvalReasons ? JSON.stringify(final.approvalReasons) : null,
    version: final.version,
    created_by: d.createdBy,
    submitted_at: final.submittedAt,
    approved_at: final.approvedAt,
    shipped_at: null,
    delivered_at: null,
    completed_at: null,
    cancelled_at: null,
    cancel_reason: null,
    created_at: at,
    updated_at: at,
  };
}

function lineColumns(orderId: number, l: NewLine): Record<string, Cell> {
  return {
    order_id: orderId,
    line_no: l.lineNo,
    product_id: l.productId,
    sku: l.sku,
    name: l.name,
    unit: l.unit,
    category: l.category,
    list_price_fen: l.listPriceFen,
    floor_price_fen: l.floorPriceFen,
    unit_price_fen: l.unitPriceFen,
    qty: l.qty,
    line_total_fen: l.lineTotalFen,
    picked_qty: 0,
    shipped_qty: 0,
  };
}

function draftRow(p: Prepared): CreationAttributes<OrderRow> & { orderNo: string } {
  return {
    orderNo: p.orderNo,
    customerId: p.customer.id,
    salesRepId: p.salesRepId,
    status: "draft",
    totalFen: p.totalFen,
    paymentTermsDays: p.customer.paymentTermsDays,
    dueAt: null,
    shipToName: p.input.shipTo?.name ?? p.customer.contactName,
    shipToPhone: p.input.shipTo?.phone ?? p.customer.phone,
    shipToAddress: p.input.shipTo?.address ?? p.customer.address,
    note: p.input.note ?? null,
    source: p.input.source,
    idempotencyKey: p.input.idempotencyKey ?? null,
    approvalReasons: null,
    createdBy: p.actor.label,
    submittedAt: null,
    approvedAt: null,
    shippedAt: null,
    deliveredAt: null,
    completedAt: null,
    cancelledAt: null,
    cancelReason: null,
  };
}

/** Unpaid amounts of open orders per customer, for the customers with a credit limit to check. */
async function openReceivables(deps: ServiceDeps, tx: Transaction, customers: CustomerRow[]): Promise<Map<number, number>> {
  const ids = [...new Set(customers.filter((c) => c.creditLimitFen !== null).map((c) => c.id))];
  if (ids.length === 0) return new Map();
  const rows = await deps.db.sequelize.query<{ customerId: number; open: number | string | null }>(
    `SELECT customer_id AS customerId, SUM(total_fen - paid_fen) AS open FROM orders
      WHERE customer_id IN (${ids.map(() => "?").join(",")}) AND status IN (${RECEIVABLE_STATUSES.map(() => "?").join(",")})
      GROUP BY customer_id`,
    { replacements: [...ids, ...RECEIVABLE_STATUSES], type: QueryTypes.SELECT, transaction: tx },
  );
  return new Map(rows.map((r) => [Number(r.customerId), Number(r.open ?? 0)]));
}

