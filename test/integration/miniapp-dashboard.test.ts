import { API_ACTOR, buildCustomer, buildProduct, buildTeam, buildUser } from "../helpers/factories";
import { noApprovals } from "../helpers/jobs";
import { refusalCode, signInAs } from "../helpers/miniapp";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("mini-app dashboard", () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  let productName = "";
  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 12_345 });
    productName = product.name;
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    await noApprovals(t.app);
    await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 2 }], source: "api", submit: true, salesRepId: team.rep.id }, API_ACTOR);
    await t.app.jobRunner({ schedule: false }).runNow("report-rollups");
  });
  afterAll(() => t.close());

  it("shows managers, directors and admins the figures, with the chart script only on this page", async () => {
    const admin = await buildUser(t.app, ["admin"]);
    for (const user of [team.manager, team.director, admin]) {
      const { agent } = await signInAs(t, user);
      const res = await agent.get("/m/dashboard");
      expect(res.status).toBe(200);
      expect(res.text).toContain("经营看板");
      expect(res.text).toContain(productName);
      expect(res.text).toContain("王小明");
      expect(res.text).toContain("246.90");
      expect(res.text).toMatch(/<script src="\/assets\/dashboard-[^"]+\.js">/);
      expect(res.text).toContain('href="/m/dashboard"');
      const home = await agent.get("/m");
      expect(home.text).not.toMatch(/assets\/dashboard-/);
    }
  });

  it("switches the period and ignores an unknown one", async () => {
    const { agent } = await signInAs(t, team.manager);
    const month = await agent.get("/m/dashboard").query({ period: "month" });
    expect(month.status).toBe(200);
    expect(month.text).toMatch(/seg__item is-active" href="\/m\/dashboard\?period=month"/);
    const odd = await agent.get("/m/dashboard").query({ period: "<x>" });
    expect(odd.status).toBe(200);
    expect(odd.text).toMatch(/seg__item is-active" href="\/m\/dashboard\?period=day"/);
  });

  it("refuses reps, warehouse and finance with the refusal page, and keeps the dashboard off their tab bar", async () => {
    for (const user of [team.rep, await buildUser(t.app, ["warehouse"]), await buildUser(t.app, ["finance"])]) {
      const { agent } = await signInAs(t, user);
      const res = await agent.get("/m/dashboard");
      expect(res.status).toBe(403);
      expect(refusalCode(res.text)).toBe("forbidden");
      expect((await agent.get("/m")).text).not.toContain('href="/m/dashboard"');
    }
  });
  it("renders in English when the viewer switches language", async () => {
    const { agent } = await signInAs(t, team.manager);
    await agent.get("/m/lang").query({ to: "en", next: "/m/dashboard" });
    const res = await agent.get("/m/dashboard").query({ period: "week" });
    expect(res.status).toBe(200);
    expect(res.text).toContain("Sales trend");
    expect(res.text).toContain("Order funnel");
    expect(res.text).not.toContain("经营看板");
  });
});
