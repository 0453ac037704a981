import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, buildCustomer, buildProduct, buildTeam } from "../helpers/factories";
import { refusalCode, signInAs } from "../helpers/miniapp";

describe("mini-app order form, its JSON endpoints and the order's buttons", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function setup() {
    const team = await buildTeam(t.app);
    const product = await buildProduct(t.app, { onHand: 50, listPriceFen: 1000, floorPriceFen: 800 });
    const customer = await buildCustomer(t.app);
    const rep = await signInAs(t, team.rep);
    return { team, product, customer, rep };
  }

  it("renders the new-order form for a rep and refuses it to the warehouse", async () => {
    const { team, rep } = await setup();
    const page = await rep.agent.get("/m/orders/new");
    expect(page.status).toBe(200);
    expect(page.text).toContain('x-data="orderForm"');
    expect(page.text).toContain('id="order-init"');
    const wh = await signInAs(t, team.warehouse);
    const refused = await wh.agent.get("/m/orders/new");
    expect(refused.status).toBe(403);
    expect(refusalCode(refused.text)).toBe("forbidden");
  });

  it("finds customers by code, name fragment or pinyin initials, and products with their available stock", async () => {
    const { product, rep } = await setup();
    const [named] = await t.app.services.upsertCustomers([{ code: `PY${Date.now()}`, name: "华东医疗测试", level: "A" }], { kind: "api", userId: null, roles: [], label: "api:test" });
    const byInitials = await rep.agent.get("/m/api/customers").query({ q: "hdylcs" });
    expect(byInitials.body.items.map((c: { code: string }) => c.code)).toContain(named.code);
    const byName = await rep.agent.get("/m/api/customers").query({ q: "医疗测试" });
    expect(byName.body.items.map((c: { code: string }) => c.code)).toContain(named.code);
    const products = await rep.agent.get("/m/api/products").query({ q: product.sku });
    expect(products.body.items).toEqual([expect.objectContaining({ sku: product.sku, available: 50, listPriceFen: 1000, floorPriceFen: 800 })]);
  });

  it("quotes a typed order: stock per line, floor-price warning and the approval route with reasons", async () => {
    const { product, customer, rep } = await setup();
    const res = await rep.agent.post("/m/api/quote").set("X-CSRF-Token", rep.csrf).send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 60, unitPriceFen: 700 }] });
    expect(res.status).toBe(200);
    expect(res.body.lines[0]).toMatchObject({ available: 50, short: true, belowFloor: true, lineTotalFen: 42000, discountBp: 3000 });
    expect(res.body.route.steps[0]).toMatchObject({ label: "直属主管审批", approvers: ["李经理"] });
    expect(res.body.route.steps[0].reasonTexts.join(" ")).toContain("低于标价");
    const bad = await rep.agent.post("/m/api/quote").set("X-CSRF-Token", rep.csrf).send({ lines: [{ sku: "NOPE", qty: 1 }] });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.path).toBe("lines.0.sku");
  });

  it("places an order once for a repeated idempotency key (a queued send that is retried)", async () => {
    const { product, customer, rep } = await setup();
    const body = { idempotencyKey: "queued-order-0001", customerCode: customer.code, lines: [{ sku: product.sku, qty: 2 }], submit: true };
    const first = await rep.agent.post("/m/api/orders").set("X-CSRF-Token", rep.csrf).send(body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: "approved", url: `/m/orders/${first.body.id}` });
    const again = await rep.agent.post("/m/api/orders").set("X-CSRF-Token", rep.csrf).send(body);
    expect(again.body.id).toBe(first.body.id);
    const view = await t.app.services.loadOrderView(first.body.id);
    expect(view.source).toBe("miniapp");
  });

  it("refuses a bad order with 422 naming the field and creates nothing", async () => {
    const { team, product, customer, rep } = await setup();
    const before = await t.app.services.listOrders({ salesRepIds: [team.rep.id] });
    const noLines = await rep.agent.post("/m/api/orders").set("X-CSRF-Token", rep.csrf).send({ idempotencyKey: "bad-order-0001", customerCode: customer.code, lines: [] });
    expect(noLines.status).toBe(422);
    expect(noLines.body.error.details.path).toBe("body.lines");
    const badQty = await rep.agent.post("/m/api/orders").set("X-CSRF-Token", rep.csrf).send({ idempotencyKey: "bad-order-0002", customerCode: customer.code, lines: [{ sku: product.sku, qty: 0 }] });
    expect(badQty.body.error.details.path).toBe("body.lines.0.qty");
    const noCsrf = await rep.agent.post("/m/api/orders").send({ idempotencyKey: "bad-order-0003", customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }] });
    expect(noCsrf.status).toBe(403);
    expect((await t.app.services.listOrders({ salesRepIds: [team.rep.id] })).items.length).toBe(before.items.length);
  });

  it("edits a draft at its version, refuses a stale version, and refuses editing a shipped order", async () => {
    const { team, product, customer, rep } = await setup();
    const draft = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, actorFor(team.rep));
    expect((await rep.agent.get(`/m/orders/${draft.id}/edit`)).text).toContain(product.sku);
    const edit = { expectedVersion: draft.version, customerCode: customer.code, lines: [{ sku: product.sku, qty: 3 }], submit: false };
    const saved = await rep.agent.post(`/m/api/orders/${draft.id}`).set("X-CSRF-Token", rep.csrf).send(edit);
    expect(saved.status).toBe(200);
    expect((await t.app.services.loadOrderView(draft.id)).lines[0].qty).toBe(3);
    const stale = await rep.agent.post(`/m/api/orders/${draft.id}`).set("X-CSRF-Token", rep.csrf).send({ ...edit, lines: [{ sku: product.sku, qty: 9 }] });
    expect(stale.status).toBe(409);
    expect((await t.app.services.loadOrderView(draft.id)).lines[0].qty).toBe(3);

    const shipped = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], submit: true, source: "api" }, actorFor(team.rep));
    const wh = actorFor(team.warehouse);
    await t.app.services.startPicking({ orderId: shipped.id }, wh);
    await t.app.services.packOrder({ orderId: shipped.id }, wh);
    await t.app.services.shipOrder({ orderId: shipped.id, carrier: "SF", trackingNo: "SF0001" }, wh);
    const refused = await rep.agent.get(`/m/orders/${shipped.id}/edit`);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("不能再修改");
    const post = await rep.agent.post(`/m/api/orders/${shipped.id}`).set("X-CSRF-Token", rep.csrf).send({ ...edit, expectedVersion: shipped.version });
    expect(post.status).toBe(409);
  });

  it("shows the detail with lines, route, history and the buttons the viewer may use; submits and cancels", async () => {
    const { team, product, customer, rep } = await setup();
    const draft = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 2, unitPriceFen: 900 }], note: "加急", source: "api" }, actorFor(team.rep));
    const detail = await rep.agent.get(`/m/orders/${draft.id}`);
    expect(detail.text).toContain("¥18.00");
    expect(detail.text).toContain("加急");
    expect(detail.text).toContain("创建订单");
    expect(detail.text).toContain(`/m/orders/${draft.id}/submit`);
    const submitted = await rep.agent.post(`/m/orders/${draft.id}/submit`).type("form").send({ _csrf: rep.csrf, version: String(draft.version) });
    expect(submitted.status).toBe(302);
    expect(submitted.headers.location).toBe(`/m/orders/${draft.id}?done=submitted`);
    const after = await rep.agent.get(submitted.headers.location);
    expect(after.text).toContain("已提交");
    expect(after.text).toContain("直属主管审批");
    expect(after.text).toContain("草稿 → 待审批");

    const noReason = await rep.agent.post(`/m/orders/${draft.id}/cancel`).type("form").send({ _csrf: rep.csrf, reason: " " });
    expect(noReason.status).toBe(422);
    expect((await t.app.services.loadOrderView(draft.id)).status).toBe("pending_approval");
    const cancelled = await rep.agent.post(`/m/orders/${draft.id}/cancel`).type("form").send({ _csrf: rep.csrf, reason: "客户改期" });
    expect(cancelled.status).toBe(302);
    expect((await t.app.services.loadOrderView(draft.id)).status).toBe("cancelled");
  });

  it("shows home counts by role", async () => {
    const { team, product, customer, rep } = await setup();
    await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, actorFor(team.rep));
    const home = await rep.agent.get("/m");
    expect(home.text).toMatch(/<span class="tile__n">1<\/span><span class="tile__label">我的草稿/);
    expect(home.text).not.toContain("待拣货");
    const wh = await signInAs(t, team.warehouse);
    const whHome = await wh.agent.get("/m");
    expect(whHome.text).toContain("待拣货");
    expect(whHome.text).not.toContain("我的草稿");
  });
});
