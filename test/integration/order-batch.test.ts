import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { API_ACTOR, actorFor, buildCustomer, buildProduct, buildTeam, reservedMatchesOpenLines } from "../helpers/factories";
import { placeOrders, type PlaceOrderRequest } from "../../src/services/place-order";
import type { ServiceDeps } from "../../src/services/deps";

/** Orders placed together (the intake's group commit) end exactly as if each had been placed alone. */
describe(`placing orders in batches (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  let deps: ServiceDeps;
  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
    deps = t.app.deps;
  });
  afterAll(() => t.close());

  /** Watches (or breaks) the statements the app sends, by their SQL text; returns the undo. */
  function onQuery(fn: (sql: string) => void): () => void {
    const s = t.app.db.sequelize as unknown as { query: (sql: unknown, ...rest: unknown[]) => Promise<unknown> };
    const real = s.query;
    s.query = function (this: unknown, sql: unknown, ...rest: unknown[]) {
      fn(typeof sql === "string" ? sql : String((sql as { query?: string })?.query ?? ""));
      return real.call(this, sql, ...rest);
    };
    return () => void (s.query = real);
  }

  const order = (customerCode: string, sku: string, qty = 1, extra: Partial<PlaceOrderRequest["input"]> = {}): PlaceOrderRequest => ({
    input: { customerCode, lines: [{ sku, qty }], source: "api", submit: true, ...extra },
    actor: API_ACTOR,
  });

  it("writes concurrent orders in fewer transactions than orders, and never oversells", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    let inserts = 0;
    const undo = onQuery((sql) => {
      if (/^INSERT INTO .orders. /.test(sql)) inserts++;
    });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () =>
          t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api", submit: true }, API_ACTOR),
        ),
      );
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as { code?: string }] : []));
      expect(ok).toHaveLength(100);
      expect(new Set(refused.map((e) => e.code))).toEqual(new Set(["insufficient_stock"]));
      expect(new Set(ok.map((o) => o.orderNo)).size).toBe(100);
      expect(ok.every((o) => o.status === "approved" && o.lines[0].qty === 1)).toBe(true);
      // Refused orders are written nowhere.
      expect(await t.app.db.models.Order.count({ where: { customerId: customer.id } })).toBe(100);
      expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 100, open: 100 });
      // The orders of a batch are written with one statement.
      expect(inserts).toBeGreaterThan(0);
      expect(inserts).toBeLessThan(100);
    } finally {
      undo();
    }
  });

  it("leaves each order of a batch the same audit trail, notices and route as an order placed alone", async () => {
    const product = await buildProduct(t.app, { onHand: 50, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const alone = await t.app.services.placeOrder(order(customer.code, product.sku, 2).input, actorFor(team.rep));
    const outcomes = await placeOrders(deps, [order(customer.code, product.sku, 2), order(customer.code, product.sku, 2)].map((r) => ({ ...r, actor: actorFor(team.rep) })));
    const together = outcomes.map((o) => (o.ok ? o.view : null));
    expect(together.every(Boolean)).toBe(true);

    const trail = async (orderId: number) =>
      (await t.app.services.loadOrderTimeline(orderId)).map((e) => `${e.entity}:${e.action}:${JSON.stringify(e.after)}`.replace(/SO-\d{8}-\d+/g, "SO"));
    const notices = async (orderId: number) =>
      (await t.app.db.models.Outbox.findAll({ order: [["id", "ASC"]] }))
        .filter((r) => (r.payload as { orderId?: number }).orderId === orderId)
        .map((r) => `${r.topic}:${r.dedupeKey.replace(String(orderId), "#")}`);
    for (const view of together) {
      expect({ ...view!, id: 0, orderNo: "", lines: [], createdAt: "", submittedAt: "", approvedAt: "" }).toEqual({
        ...alone,
        id: 0,
        orderNo: "",
        lines: [],
        createdAt: "",
        submittedAt: "",
        approvedAt: "",
      });
      expect(await trail(view!.id)).toEqual(await trail(alone.id));
      expect(await notices(view!.id)).toEqual(await notices(alone.id));
    }
  });

  it("fails only the orders that are wrong: unknown product, unknown customer, not enough stock, not allowed to order", async () => {
    const product = await buildProduct(t.app, { onHand: 3, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const outcomes = await placeOrders(deps, [
      order(customer.code, product.sku, 2),
      order(customer.code, "NO-SUCH-SKU"),
      order("NO-SUCH-CUSTOMER", product.sku),
      order(customer.code, product.sku, 2), // only 1 left after the first
      order(customer.code, product.sku, 1),
      { input: { customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, actor: actorFor(team.warehouse) },
    ]);
    const codes = outcomes.map((o) => (o.ok ? o.view.status : (o.error as { code?: string }).code));
    expect(codes).toEqual(["approved", "validation_failed", "validation_failed", "insufficient_stock", "approved", "forbidden"]);
    const short = outcomes[3] as { ok: false; error: { details?: unknown } };
    expect(short.error.details).toEqual({ items: [{ sku: product.sku, requested: 2, available: 1 }] });
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 3, open: 3 });
  });

  it("answers a key repeated inside one batch with the first order, and a reused key with a conflict", async () => {
    const product = await buildProduct(t.app, { onHand: 10, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const key = `batch-${Date.now()}`;
    const outcomes = await placeOrders(deps, [
      order(customer.code, product.sku, 1, { idempotencyKey: key }),
      order(customer.code, product.sku, 1, { idempotencyKey: key }),
      order(customer.code, product.sku, 5, { idempotencyKey: key }),
    ]);
    expect(outcomes[0].ok && outcomes[1].ok && outcomes[0].view.id === outcomes[1].view.id).toBe(true);
    expect(outcomes[2].ok ? "placed" : (outcomes[2].error as { code?: string }).code).toBe("idempotency_conflict");
    expect(await t.app.db.models.Order.count({ where: { idempotencyKey: key } })).toBe(1);
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 1, open: 1 });
  });

  it("places each order alone when the batch's transaction fails as a whole", async () => {
    const product = await buildProduct(t.app, { onHand: 10, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    let failed = false;
    const undo = onQuery((sql) => {
      if (failed || !/^INSERT INTO .order_lines. /.test(sql)) return;
      failed = true;
      throw new Error("injected: the batch's transaction breaks");
    });
    try {
      const outcomes = await placeOrders(deps, [order(customer.code, product.sku, 2), order(customer.code, product.sku, 3)]);
      expect(failed).toBe(true);
      expect(outcomes.map((o) => (o.ok ? o.view.status : String(o.error)))).toEqual(["approved", "approved"]);
    } finally {
      undo();
    }
    expect(await t.app.db.models.Order.count({ where: { customerId: customer.id } })).toBe(2);
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 5, open: 5 });
  });

  it("counts the earlier orders of a batch against the customer's credit, as one after the other would", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100_000 }); // ¥1,000 each
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id, creditLimitFen: 250_000 });
    const outcomes = await placeOrders(deps, [1, 1, 1].map(() => order(customer.code, product.sku, 1)));
    const credit = outcomes.map((o) => (o.ok ? o.view.approval.reasons.some((r) => r.code === "credit_exceeded") : null));
    expect(credit).toEqual([false, false, true]);
  });
});
