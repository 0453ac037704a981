import { dashboardFigures } from "../../src/services/reports/dashboard";
import { buildCustomer, buildProduct, buildTeam, buildUser, actorFor, API_ACTOR } from "../helpers/factories";
import { fakeClock, noApprovals, routeTo } from "../helpers/jobs";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("dashboard figures: daily rollups kept up by the report-rollups job agree with the order tables", () => {
  const clock = fakeClock("2026-03-01T10:00:00+08:00");
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp({ now: clock.now });
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const refresh = () => t.app.jobRunner({ schedule: false }).runNow("report-rollups");
  const both = async (q: Parameters<typeof dashboardFigures>[1]) => [await dashboardFigures(t.app.deps, q, "rollups"), await dashboardFigures(t.app.deps, q, "orders")];

  it("matches by day, week and month after placing, approving, rejecting, cancelling, shipping and paying", async () => {
    const s = t.app.services;
    const rep2 = await buildUser(t.app, ["sales"], team.manager.id, "第二销售");
    const p1 = await buildProduct(t.app, { onHand: 1000, listPriceFen: 1000 });
    const p2 = await buildProduct(t.app, { onHand: 1000, listPriceFen: 2500 });
    const c1 = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const c2 = await buildCustomer(t.app, { ownerUserId: rep2.id });
    await refresh(); // first run: builds everything there is (nothing yet)

    // Across a month end, in Shanghai days: 23:30 on 31 March is still March there.
    const days = ["2026-03-30T09:00:00+08:00", "2026-03-31T23:30:00+08:00", "2026-04-01T00:30:00+08:00", "2026-04-06T11:00:00+08:00"];
    const orders = [];
    for (const [i, at] of days.entries()) {
      clock.set(at);
      await (i % 2 ? routeTo(t.app, [team.manager.id]) : noApprovals(t.app));
      orders.push(
        await s.placeOrder(
          { customerCode: (i % 2 ? c2 : c1).code, lines: [{ sku: p1.sku, qty: i + 1 }, { sku: p2.sku, qty: 2 }], source: "api", submit: true, salesRepId: i % 2 ? rep2.id : team.rep.id },
          API_ACTOR,
        ),
      );
    }
    const draft = await s.placeOrder({ customerCode: c1.code, lines: [{ sku: p1.sku, qty: 9 }], source: "api" }, API_ACTOR);
    clock.set("2026-04-06T15:00:00+08:00");
    await s.decideApproval({ orderId: orders[1].id, decision: "approve" }, actorFor(team.manager));
    await s.decideApproval({ orderId: orders[3].id, decision: "reject", comment: "价格不对" }, actorFor(team.manager));
    await s.startPicking({ orderId: orders[0].id }, API_ACTOR);
    await s.packOrder({ orderId: orders[0].id }, API_ACTOR);
    await s.shipOrder({ orderId: orders[0].id, carrier: "顺丰", trackingNo: "SF1" }, API_ACTOR);
    await s.recordPayment({ orderId: orders[0].id, amountFen: 6000, paidAt: clock.now() }, API_ACTOR);

    const stale = await dashboardFigures(t.app.deps, { from: "2026-03-25", to: "2026-04-10" }, "rollups");
    expect(stale.funnel.submitted).toBe(0); // rollups trail until the job runs
    expect(await refresh()).toMatchObject({ days: 4 }); // 30 and 31 March, 1 and 6 April

    for (const bucket of ["day", "week", "month"] as const) {
      const [fromRollups, fromOrders] = await both({ from: "2026-03-25", to: "2026-04-10", bucket });
      expect(fromRollups).toEqual(fromOrders);
    }
    // Whole months come from the monthly product table, the partial ones at the ends from the daily one.
    for (const [from, to] of [["2026-03-01", "2026-04-30"], ["2026-02-15", "2026-04-06"], ["2026-03-31", "2026-04-01"]]) {
      const [fromRollups, fromOrders] = await both({ from, to });
      expect(fromRollups.topProducts).toEqual(fromOrders.topProducts);
      expect(fromRollups.topProducts.length).toBeGreaterThan(0);
    }
    const [f] = await both({ from: "2026-03-25", to: "2026-04-10", bucket: "month" });
    expect(f.trend).toEqual([
      { period: "2026-03", orders: 2, amountFen: 1000 * 1 + 5000 + 1000 * 2 + 5000 },
      { period: "2026-04", orders: 1, amountFen: 1000 * 3 + 5000 }, // the rejected order is not a sale
    ]);
    expect(f.funnel).toEqual({ submitted: 4, approved: 3, shipped: 1, paid: 1 });
    expect(f.averageApprovalSeconds).toBeGreaterThan(0);
    expect(f.byRep.map((r) => r.salesRepId).sort()).toEqual([team.rep.id, rep2.id].sort());
    expect(f.topProducts[0]).toMatchObject({ productId: p2.id, qty: 6 });

    // Later changes move the rollups on the next run: a cancellation and the draft submitted.
    await s.cancelOrder({ orderId: orders[2].id, reason: "客户取消" }, API_ACTOR);
    await noApprovals(t.app);
    await s.submitOrder({ orderId: draft.id }, API_ACTOR);
    await refresh();
    const [after, direct] = await both({ from: "2026-03-25", to: "2026-04-10" });
    expect(after).toEqual(direct);
    expect(after.funnel.submitted).toBe(5);
  });
});
