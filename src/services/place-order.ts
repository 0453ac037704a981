import { Op, QueryTypes, type CreationAttributes, type Transaction } from "sequelize";
import { DomainError } from "../domain/errors";
import { RECEIVABLE_STATUSES, transition, type OrderStatus } from "../domain/order-state";
import type { ApprovalRoute } from "../domain/approval-rules";
import { assertMayPerform } from "../domain/permissions";
import type { Actor } from "../domain/roles";
import type { OrderSource, OrderView } from "../domain/order-view";
import type { CustomerRow } from "../db/models/customers";
import type { OrderRow } from "../db/models/orders";
import { isUniqueViolation } from "../db/sequelize";
import { insertRows, type Cell } from "../db/insert-rows";
import type { ServiceDeps } from "./deps";
import { planRoute, stepRows, type PlannedRound } from "./support/approval-round";
import { recordAudit } from "./support/audit";
import { fetchProducts, findCustomer, linesFrom, type LineInput, type NewLine } from "./support/build-lines";
import { loadOrderView, loadOrderViews } from "./support/load-order";
import { emitOrderEvent } from "./support/notify";
import { allocateOrderNos } from "./support/order-no";
import { readAvailable, reserveStock, shortfall, takeFrom, type StockNeed } from "./support/stock";
import { recordSubmitMoves } from "./submit-order";

export interface PlaceOrderInput {
  customerCode?: string;
  customerId?: number;
  lines: LineInput[];
  note?: string | null;
  submit?: boolean;
  /** A retried create with the same key returns the first result instead of a second order. */
  idempotencyKey?: string | null;
  source: OrderSource;
  /** Defaults to the acting user when they sell, else the customer's owner. */
  salesRepId?: number | null;
  shipTo?: { name?: string | null; phone?: string | null; address?: string | null };
}

export interface PlaceOrderRequest {
  input: PlaceOrderInput;
  actor: Actor;
}

export type PlaceOrderOutcome = { ok: true; view: OrderView } | { ok: false; error: unknown };

/** Creates a draft order, and submits it in the same transaction when asked. */
export async function placeOrder(deps: ServiceDeps, input: PlaceOrderInput, actor: Actor): Promise<OrderView> {
  const [outcome] = await placeOrders(deps, [{ input, actor }]);
  if (!outcome.ok) throw outcome.error;
  return outcome.view;
}

/**
 * Places several orders with one transaction and a handful of multi-row statements, exactly as if
 * each had been placed alone, one after the other: each request gets its own outcome, and one order's
 * bad input or shortfall fails that order only. Should the shared transaction fail as a whole (a
 * deadlock past its retries, an idempotency key raced by another instance), every order is placed
 * again on its own, so a batch never turns one order's trouble into another's error.
 * `written` is called once the orders are committed (or refused), before their views are read.
 */
export async function placeOrders(deps: ServiceDeps, requests: PlaceOrderRequest[], written?: () => void): Promise<PlaceOrderOutcome[]> {
  const outcomes: Array<PlaceOrderOutcome | undefined> = new Array(requests.length);
  const settle = (i: number, error: unknown) => (outcomes[i] = { ok: false, error });
  let committed: Array<{ index: number; orderId: number }> = [];
  const followers: Array<{ index: number; key: string }> = [];
  try {
    const fresh = await splitRepeats(deps, requests, outcomes, followers);
    const { prepared, available } = await prepare(deps, requests, fresh, settle);
    if (prepared.length > 0) {
      try {
        committed = await deps.db.transaction((tx) => writeOrders(deps, tx, prepared, new Map(available), settle));
      } catch (err) {
        if (prepared.length > 1) {
          deps.log.info({ err, orders: prepared.length }, "an order batch failed as a whole; placing its orders one by one");
          committed = await oneByOne(deps, requests, prepared, outcomes);
        }
        else outcomes[prepared[0].index] = await afterFailure(deps, prepared[0].input, err);
      }
    }
  } finally {
    written?.();
  }
  if (committed.length > 0) {
    const views = await loadOrderViews(deps, committed.map((c) => c.orderId));
    committed.forEach((c, i) => (outcomes[c.index] = { ok: true, view: views[i] }));
  }
  // A key seen twice in one batch: the first placed the order, the rest return it (or a conflict).
  for (const f of followers) {
    const { input, actor } = requests[f.index];
    outcomes[f.index] = await attempt(async () => (await sameOrder(deps, f.key, input)) ?? placeOrder(deps, input, actor));
  }
  return outcomes.map((o) => o ?? { ok: false, error: new Error("order was neither placed nor refused") });
}

/** Requests whose idempotency key already names an order are answered with it; the rest go on. */
async function splitRepeats(
  deps: ServiceDeps,
  requests: PlaceOrderRequest[],
  outcomes: Array<PlaceOrderOutcome | undefined>,
  followers: Array<{ index: number; key: string }>,
): Promise<number[]> {
  const keys = [...new Set(requests.flatMap((r) => (r.input.idempotencyKey ? [r.input.idempotencyKey] : [])))];
  const earlier = keys.length
    ? await deps.db.models.Order.findAll({ where: { idempotencyKey: { [Op.in]: keys } }, attributes: ["idempotencyKey"] })
    : [];
  const used = new Set(earlier.map((o) => o.idempotencyKey));
  const leaders = new Set<string>();
  const fresh: number[] = [];
  for (const [index, r] of requests.entries()) {
    const key = r.input.idempotencyKey ?? null;
    if (key && used.has(key)) outcomes[index] = await attempt(async () => (await sameOrder(deps, key, r.input))!);
    else if (key && leaders.has(key)) followers.push({ index, key });
    else {
      if (key) leaders.add(key);
      fresh.push(index);
    }
  }
  return fresh;
}

interface Prepared {
  index: number;
  input: PlaceOrderInput;
  actor: Actor;
  customer: CustomerRow;
  lines: NewLine[];
  totalFen: number;
  salesRepId: number | null;
  orderNo: string;
}

/** Everything that can be checked before the transaction: who may, which customer, which products. */
async function prepare(
  deps: ServiceDeps,
  requests: PlaceOrderRequest[],
  indexes: number[],
  settle: (i: number, error: unknown) => void,
): Promise<{ prepared: Prepared[]; available: Map<number, number> }> {
  const allowed = indexes.filter((i) => attemptSync(() => assertMayPerform(requests[i].actor, "place", null), (e) => settle(i, e)));
  // One lookup per distinct customer, all under way while the products are read.
  const customers = new Map<string, Promise<CustomerRow>>();
  const customerOf = (input: PlaceOrderInput) => {
    const ref = input.customerId ? `id:${input.customerId}` : `code:${input.customerCode ?? ""}`;
    if (!customers.has(ref)) {
      const lookup = findCustomer(deps, input);
      lookup.catch(() => undefined); // awaited below, per order; an unknown customer fails only its orders
      customers.set(ref, lookup);
    }
    return customers.get(ref)!;
  };
  for (const i of allowed) void customerOf(requests[i].input);
  const products = await fetchProducts(
    deps,
    allowed.map((i) => requests[i].input.lines),
  );
  const ready: Array<Omit<Prepared, "orderNo">> = [];
  for (const index of allowed) {
    const { input, actor } = requests[index];
    try {
      const customer = await customerOf(input);
      const { lines, totalFen } = linesFrom(products, input.lines);
      const salesRepId =
        input.salesRepId !== undefined ? input.salesRepId : actor.kind === "user" ? actor.userId : customer.ownerUserId;
      ready.push({ index, input, actor, customer, lines, totalFen, salesRepId });
    } catch (err) {
      settle(index, err);
    }
  }
  if (ready.length === 0) return { prepared: [], available: new Map() };
  const [numbers, available] = await Promise.all([
    allocateOrderNos(deps, ready.length),
    readAvailable(deps, ready.filter((r) => r.input.submit).flatMap((r) => r.lines.map((l) => l.productId))),
  ]);
  return { prepared: ready.map((r, i) => ({ ...r, orderNo: numbers[i] })), available };
}

/**
 * The batch's one transaction. Each submitted order is checked against the stock the orders before it
 * left; orders that do not fit, or that nobody can approve, are refused here and written nowhere. The
 * rest are inserted as drafts, moved through the same state moves a single submit makes (audit events,
 * notices, webhooks), saved, and their stock reserved last with the guarded UPDATE, so the hot stock
 * rows are locked only until the commit. Should that guard find less stock than was read (another
 * writer got there first), the batch rolls back and its orders are placed one by one.
 */
async function writeOrders(
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
    const order = orders[i];
    await recordAudit(deps, tx, {
      entity: "order",
      entityId: order.id,
      action: "created",
      actor: a.actor,
      after: { orderNo: a.orderNo, customer: a.customer.code, totalFen: a.totalFen, lines: a.lines.map((l) => ({ sku: l.sku, qty: l.qty, unitPriceFen: l.unitPriceFen })) },
    });
    await emitOrderEvent(deps, tx, order, "order.created", "1");
    if (!a.plan) continue;
    order.approvalReasons = a.plan.route.reasons;
    order.autoApproved = a.plan.route.autoApproved;
    const round: PlannedRound = { autoApproved: a.plan.route.autoApproved, steps: steps.filter((s) => s.orderId === order.id) };
    await recordSubmitMoves(deps, tx, order, a.actor, round, { at, saved: true });
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

/** The batch failed as a whole: each order again on its own, in arrival order. */
async function oneByOne(
  deps: ServiceDeps,
  requests: PlaceOrderRequest[],
  prepared: Prepared[],
  outcomes: Array<PlaceOrderOutcome | undefined>,
): Promise<Array<{ index: number; orderId: number }>> {
  for (const p of prepared) outcomes[p.index] = await attempt(() => placeOrder(deps, requests[p.index].input, requests[p.index].actor));
  return [];
}

/** Two identical retries raced and this one lost on the idempotency key: it returns the winner's order. */
async function afterFailure(deps: ServiceDeps, input: PlaceOrderInput, err: unknown): Promise<PlaceOrderOutcome> {
  const key = input.idempotencyKey ?? null;
  if (key && isUniqueViolation(err)) {
    const earlier = await attempt(async () => sameOrder(deps, key, input));
    if (!earlier.ok || earlier.view) return earlier as PlaceOrderOutcome;
  }
  return { ok: false, error: err };
}

/**
 * The order an earlier request with this key created, or null when there is none; the same key on a
 * different order is a conflict.
 */
async function sameOrder(deps: ServiceDeps, key: string, input: PlaceOrderInput): Promise<OrderView | null> {
  const existing = await deps.db.models.Order.findOne({ where: { idempotencyKey: key }, attributes: ["id"] });
  if (!existing) return null;
  const view = await loadOrderView(deps, existing.id);
  const sameCustomer =
    (input.customerId ?? null) === view.customer.id || (input.customerCode ?? null) === view.customer.code;
  const sameLines =
    view.lines.length === input.lines.length &&
    input.lines.every((l, i) => {
      const v = view.lines[i];
      return (l.sku ?? "").toUpperCase() === v.sku.toUpperCase() || l.productId === v.productId
        ? l.qty === v.qty && (l.unitPriceFen == null || l.unitPriceFen === v.unitPriceFen)
        : false;
    });
  if (!sameCustomer || !sameLines) {
    throw new DomainError("idempotency_conflict", "this Idempotency-Key was already used for a different order", {
      orderId: view.id,
      orderNo: view.orderNo,
    });
  }
  return view;
}

async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; view: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, view: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function attemptSync(fn: () => void, onError: (err: unknown) => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    onError(err);
    return false;
  }
}
