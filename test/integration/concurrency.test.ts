import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { API_ACTOR, actorFor, buildCustomer, buildProduct, buildTeam, buildUser, reservedMatchesOpenLines } from "../helpers/factories";

describe(`concurrency (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  it("never oversells: 200 concurrent submits of 1 on 100 available → exactly 100 succeed", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const drafts = [];
    for (let i = 0; i < 200; i++) {
      drafts.push(await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, API_ACTOR));
    }
    const results = await Promise.allSettled(drafts.map((d) => t.app.services.submitOrder({ orderId: d.id }, API_ACTOR)));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as { code?: string }] : []));
    expect(ok).toHaveLength(100);
    expect(refused).toHaveLength(100);
    expect(new Set(refused.map((e) => e.code))).toEqual(new Set(["insufficient_stock"]));

    const level = await t.app.db.models.StockLevel.findByPk(product.id);
    expect(level).toMatchObject({ onHand: 100, reserved: 100 });
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 100, open: 100 });
    const drafted = await t.app.db.models.Order.count({ where: { status: "draft", customerId: customer.id } });
    expect(drafted).toBe(100); // the refused ones are untouched drafts
  });

  it("records exactly one decision when two approvers decide the same `any` step at once", async () => {
    const second = await buildUser(t.app, ["finance"], null, "钱会计");
    const product = await buildProduct(t.app, { onHand: 10, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const rules = {
      version: 1,
      rules: [
        {
          id: "two-finance",
          name: "两位财务任一审批",
          when: { any: [{ type: "always" }] },
          step: { order: 1, label: "财务审批", approvers: { type: "users", userIds: [team.finance.id, second.id] }, mode: "any" },
        },
      ],
    };
    await t.app.services.saveRuleSet(rules, API_ACTOR);
    try {
      const order = await t.app.services.placeOrder(
        { customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api", submit: true },
        API_ACTOR,
      );
      const results = await Promise.allSettled([
        t.app.services.decideApproval({ orderId: order.id, decision: "approve" }, actorFor(team.finance)),
        t.app.services.decideApproval({ orderId: order.id, decision: "reject", comment: "价格不对" }, actorFor(second)),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(loser.reason.code).toBe("step_not_pending");
      const decisions = await t.app.db.models.ApprovalDecision.count({ where: { stepId: order.approval.steps[0].id } });
      expect(decisions).toBe(1);
    } finally {
      await t.app.db.models.RuleSet.update({ active: false }, { where: {} });
    }
  });

  it("gives unique order numbers to 50 orders placed at once", async () => {
    const product = await buildProduct(t.app, { onHand: 1000, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const orders = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api", submit: true }, API_ACTOR),
      ),
    );
    expect(new Set(orders.map((o) => o.orderNo)).size).toBe(50);
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 50, open: 50 });
  });

  it("creates one order when the same Idempotency-Key arrives 10 times at once", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const input = { customerCode: customer.code, lines: [{ sku: product.sku, qty: 2 }], source: "api" as const, submit: true, idempotencyKey: `race-${product.sku}` };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.app.services.placeOrder(input, API_ACTOR)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 2, open: 2 });
  });
});
