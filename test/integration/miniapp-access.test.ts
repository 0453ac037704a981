import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, buildCustomer, buildProduct, buildTeam, buildUser } from "../helpers/factories";
import { refusalCode, signInAs } from "../helpers/miniapp";

describe("mini-app sign-in, CSRF and who sees what", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function draftFor(rep: { id: number; roles: ("sales" | "manager")[] }) {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 1000 });
    const customer = await buildCustomer(t.app);
    return t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, actorFor(rep));
  }

  it("answers a page without a session with a Chinese sign-in page, not a stack trace", async () => {
    const res = await request(t.callback).get("/m/orders");
    expect(res.status).toBe(401);
    expect(res.type).toBe("text/html");
    expect(res.text).toContain("请先登录");
    expect(res.text).toContain("/dev/chat");
    expect(refusalCode(res.text)).toBe("unauthorized");
  });

  it("answers the JSON endpoints without a session with a 401 error body", async () => {
    const res = await request(t.callback).get("/m/api/products").query({ q: "x" });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
  });

  it("ignores a tampered session cookie", async () => {
    const res = await request(t.callback).get("/m").set("Cookie", "co_session=1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(res.status).toBe(401);
  });

  it("signs a simulator user in through /dev/login and never redirects off the mini-app", async () => {
    const { rep } = await buildTeam(t.app);
    const res = await request(t.callback).get("/dev/login").query({ u: rep.platformUserId, next: "https://evil.example/" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/m");
    expect(String(res.headers["set-cookie"])).toMatch(/co_session=.*httponly/i);
    expect((await request(t.callback).get("/dev/login").query({ u: "nobody" })).status).toBe(404);
  });

  it("signs out a user who was deactivated since", async () => {
    const user = await buildUser(t.app, ["sales"]);
    const { agent } = await signInAs(t, user);
    await user.update({ active: false });
    expect((await agent.get("/m")).status).toBe(401);
  });

  it("refuses a POST without the CSRF token and changes nothing", async () => {
    const { rep } = await buildTeam(t.app);
    const order = await draftFor(rep as never);
    const { agent, csrf } = await signInAs(t, rep);
    const res = await agent.post(`/m/orders/${order.id}/submit`).type("form").send({});
    expect(res.status).toBe(403);
    expect(res.text).toContain("页面已过期");
    const wrong = await agent.post(`/m/orders/${order.id}/submit`).type("form").send({ _csrf: csrf.slice(0, -2) + "xx" });
    expect(wrong.status).toBe(403);
    expect((await t.app.services.loadOrderView(order.id)).status).toBe("draft");
  });

  it("shows a rep their own orders only, and refuses another rep's order", async () => {
    const a = await buildTeam(t.app);
    const other = await buildUser(t.app, ["sales"], a.manager.id);
    const mine = await draftFor(a.rep as never);
    const theirs = await draftFor(other as never);
    const { agent } = await signInAs(t, a.rep);
    const list = await agent.get("/m/orders");
    expect(list.status).toBe(200);
    expect(list.text).toContain(mine.orderNo);
    expect(list.text).not.toContain(theirs.orderNo);
    const refused = await agent.get(`/m/orders/${theirs.id}`);
    expect(refused.status).toBe(403);
    expect(refusalCode(refused.text)).toBe("forbidden");
    expect(refused.text).toContain("没有权限");
    expect((await agent.get(`/m/orders/${mine.id}`)).status).toBe(200);
  });

  it("shows a manager their team's orders but not another team's", async () => {
    const a = await buildTeam(t.app);
    const b = await buildTeam(t.app);
    const ours = await draftFor(a.rep as never);
    const foreign = await draftFor(b.rep as never);
    const { agent } = await signInAs(t, a.manager);
    const team = await agent.get("/m/orders").query({ scope: "team" });
    expect(team.text).toContain(ours.orderNo);
    expect(team.text).not.toContain(foreign.orderNo);
    expect((await agent.get(`/m/orders/${foreign.id}`)).status).toBe(403);
    // The director above both managers sees both.
    const director = await signInAs(t, a.director);
    expect((await director.agent.get(`/m/orders/${ours.id}`)).status).toBe(200);
  });

  it("answers an unknown order or page with a 404 page", async () => {
    const { rep } = await buildTeam(t.app);
    const { agent } = await signInAs(t, rep);
    for (const path of ["/m/orders/99999999", "/m/orders/abc", "/m/no-such-page"]) {
      const res = await agent.get(path);
      expect(res.status).toBe(404);
      expect(res.text).toContain("找不到");
    }
  });

  it("switches the pages to English and back", async () => {
    const { rep } = await buildTeam(t.app);
    const { agent } = await signInAs(t, rep);
    const to = await agent.get("/m/lang").query({ to: "en", next: "/m/orders" });
    expect(to.headers.location).toBe("/m/orders");
    expect((await agent.get("/m")).text).toContain("My drafts");
    await agent.get("/m/lang").query({ to: "zh-CN", next: "//evil.example" });
    expect((await agent.get("/m")).text).toContain("我的草稿");
  });

  it("keeps the language on the person: chosen here, it is what the bot uses; chosen in chat, the pages follow", async () => {
    const { rep } = await buildTeam(t.app);
    const { agent } = await signInAs(t, rep);
    await agent.get("/m/lang").query({ to: "en", next: "/m" });
    expect((await t.app.db.models.User.findByPk(rep.id))?.locale).toBe("en");

    // A language we do not have is refused and changes nothing, on the person or in the browser.
    const bad = await agent.get("/m/lang").query({ to: "fr", next: "/m" });
    expect(bad.status).toBe(422);
    expect(bad.headers["set-cookie"]).toBeUndefined();
    expect((await t.app.db.models.User.findByPk(rep.id))?.locale).toBe("en");

    // Switched back in chat (the same service the bot calls): the pages follow, whatever this browser's cookie says.
    await t.app.services.setUserLocale(rep.id, "zh-CN");
    expect((await agent.get("/m")).text).toContain("我的草稿");
    await t.app.services.setUserLocale(rep.id, "en");
    const page = await agent.get("/m");
    expect(page.text).toContain("My drafts");
    // The browser is told too, so the pages it sees before signing in again speak the same language.
    expect(String(page.headers["set-cookie"])).toMatch(/co_lang=en;/);
    expect((await agent.get("/m")).headers["set-cookie"]).toBeUndefined();
  });

  it("sends a visitor inside WeCom without a session to WeCom sign-in", async () => {
    const wecom = await createTestApp({ env: { WECOM_CORP_ID: "ww1", WECOM_AGENT_ID: "1000002", WECOM_SECRET: "s".repeat(43), WECOM_TOKEN: "tok", WECOM_AES_KEY: "a".repeat(43) } });
    try {
      const res = await request(wecom.callback).get("/m/orders/5").set("User-Agent", "Mozilla/5.0 wxwork/4.1.0");
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("/wecom/oauth?next=%2Fm%2Forders%2F5");
    } finally {
      await wecom.close();
    }
  });
});
