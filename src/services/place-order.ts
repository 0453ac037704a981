import { assertMayPerform } from "../domain/permissions";
import type { Actor } from "../domain/roles";
import type { OrderSource, OrderView } from "../domain/order-view";
import type { CustomerRow } from "../db/models/customers";
import type { ServiceDeps } from "./deps";
import { fetchProducts, findCustomer, linesFrom, type LineInput } from "./support/build-lines";
import { loadOrderViews } from "./support/load-order";
import { afterFailure, attempt, attemptSync, sameOrder, splitRepeats } from "./support/order-repeats";
import { allocateOrderNos } from "./support/order-no";
import { readAvailable } from "./support/stock";
import { writeOrders, type Prepared } from "./support/write-orders";

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
  /** The trace of the request that asked for it: a batch mixes requests, each order's outbox rows keep their own. */
  traceId?: string;
}

export type PlaceOrderOutcome = { ok: true; view: OrderView } | { ok: false; error: unknown };

/** Creates a draft order, and submits it in the same transaction when asked. */
export async function placeOrder(deps: ServiceDeps, input: PlaceOrderInput, actor: Actor): Promise<OrderView> {
  const [outcome] = await placeOrders(deps, [{ input, actor, traceId: deps.trace.current() }]);
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
    const { input, actor, traceId } = requests[f.index];
    outcomes[f.index] = await attempt(() => deps.trace.run(traceId ?? null, async () => (await sameOrder(deps, f.key, input)) ?? placeOrder(deps, input, actor)));
  }
  return outcomes.map((o) => o ?? { ok: false, error: new Error("order was neither placed nor refused") });
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
      ready.push({ index, input, actor, customer, lines, totalFen, salesRepId, traceId: requests[index].traceId });
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

/** The batch failed as a whole: each order again on its own, in arrival order. */
async function oneByOne(
  deps: ServiceDeps,
  requests: PlaceOrderRequest[],
  prepared: Prepared[],
  outcomes: Array<PlaceOrderOutcome | undefined>,
): Promise<Array<{ index: number; orderId: number }>> {
  for (const p of prepared) outcomes[p.index] = await attempt(() => deps.trace.run(p.traceId ?? null, () => placeOrder(deps, requests[p.index].input, requests[p.index].actor)));
  return [];
}

