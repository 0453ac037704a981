import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, buildCustomer, buildProduct, buildTeam, buildUser } from "../helpers/factories";
import { signInAs, type MiniAppSession } from "../helpers/miniapp";

// Amounts chosen to occur nowhere else: each is searched for as yuan text and as raw fen.
const LIST_A = 12_347; // ¥123.47
const UNIT_A = 11_113; // ¥111.11… 3 × → 33,339 (¥333.39)
const LIST_B = 7_771; // ¥77.71, 2 × → 15,542 (¥155.42)
const TOTAL = 3 * UNIT_A + 2 * LIST_B; // 48,881 (¥488.81)
const CREDIT_LIMIT = 4_321; // ¥43.21: the order exceeds it, so the approval reasons quote it
const yuan = (fen: number) => `¥${Math.floor(fen / 100).toLocaleString("en-US")}.${String(fen % 100).padStart(2, "0")}`;
const FIGURES = [LIST_A, UNIT_A, 3 * UNIT_A, LIST_B, 2 * LIST_B, TOTAL, CREDIT_LIMIT];

/** Every figure of the order found in `text`, as ¥ text or as a bare fen number. */
function figuresIn(text: string): string[] {
  return FIGURES.flatMap((fen) => [yuan(fen), String(fen)].filter((s) => (s.startsWith("¥") ? text.includes(s) : new RegExp(`\\b${s}\\b`).test(text))));
}

describe("prices and credit by role in the mini-app", () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  let orderId: number;
  let skuA: string;
  let warehouse: MiniAppSession;
  let rep: MiniAppSession;

  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
    const a = await buildProduct(t.app, { onHand: 50, listPriceFen: LIST_A });
    const b = await buildProduct(t.app, { onHand: 50, listPriceFen: LIST_B });
    skuA = a.sku;
    const customer = await buildCustomer(t.app, { creditLimitFen: CREDIT_LIMIT, ownerUserId: team.rep.id });
    const order = await t.app.services.placeOrder(
      { customerCode: customer.code, lines: [{ sku: a.sku, qty: 3, unitPriceFen: UNIT_A }, { sku: b.sku, qty: 2 }], submit: true, source: "api" },
      actorFor(team.rep),
    );
    orderId = order.id;
    // Every step up to approved: the warehouse sees the order in its queue.
    for (let i = 0; i < 5; i++) {
      const view = await t.app.services.loadOrderView(orderId);
      const step = view.approval.steps.find((s) => s.status === "pending");
      if (!step) break;
      const approver = [team.manager, team.finance, team.director].find((u) => step.approvers.some((p) => p.id === u.id))!;
      await t.app.services.decideApproval({ orderId, decision: "approve" }, actorFor(approver));
    }
    expect((await t.app.services.loadOrderView(orderId)).status).toBe("approved");
    warehouse = await signInAs(t, team.warehouse);
    rep = await signInAs(t, team.rep);
  });
  afterAll(() => t.close());

  const pages = () => [`/m/orders/${orderId}`, "/m/orders", "/m/warehouse", `/m/warehouse/orders/${orderId}`, `/m/warehouse/orders/${orderId}/slip`, "/m/approvals", "/m"];

  it("shows the warehouse the order, its lines and quantities, and no price, total or credit figure", async () => {
    for (const path of pages()) {
      const res = await warehouse.agent.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect({ path, figures: figuresIn(res.text) }).toEqual({ path, figures: [] });
    }
    const detail = await warehouse.agent.get(`/m/orders/${orderId}`);
    expect(detail.text).toContain(skuA);
    expect(detail.text).toContain("×3");
    const pick = await warehouse.agent.get(`/m/warehouse/orders/${orderId}`);
    expect(pick.text).toContain(skuA);
  });

  it("gives the warehouse product search without prices, and no quotes", async () => {
    const products = await warehouse.agent.get("/m/api/products").query({ q: skuA });
    expect(products.status).toBe(200);
    expect(products.body.items).toEqual([expect.objectContaining({ sku: skuA, available: expect.any(Number) })]);
    expect(figuresIn(products.text)).toEqual([]);
    expect(products.body.items[0]).not.toHaveProperty("listPriceFen");
    const quote = await warehouse.agent.post("/m/api/quote").set("X-CSRF-Token", warehouse.csrf).send({ lines: [{ sku: skuA, qty: 1 }] });
    expect(quote.status).toBe(403);
    expect(figuresIn(quote.text)).toEqual([]);
  });

  it("shows the sales rep the prices, totals and the credit limit in the approval reasons", async () => {
    const detail = await rep.agent.get(`/m/orders/${orderId}`);
    expect(detail.status).toBe(200);
    expect(figuresIn(detail.text)).toEqual(expect.arrayContaining([yuan(UNIT_A), yuan(3 * UNIT_A), yuan(2 * LIST_B), yuan(TOTAL), yuan(CREDIT_LIMIT)]));
    expect(figuresIn((await rep.agent.get("/m/orders")).text)).toContain(yuan(TOTAL));
    const products = await rep.agent.get("/m/api/products").query({ q: skuA });
    expect(products.body.items[0]).toMatchObject({ sku: skuA, listPriceFen: LIST_A });
  });

  it("gives purchasing product search without prices", async () => {
    const buyer = await buildUser(t.app, ["purchasing"]);
    const p = await signInAs(t, buyer);
    const products = await p.agent.get("/m/api/products").query({ q: skuA });
    expect(products.status).toBe(200);
    expect(figuresIn(products.text)).toEqual([]);
  });

  it("keeps every figure in the API for API keys", async () => {
    const res = await (await import("supertest")).default(t.callback).get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalFen: TOTAL, lines: expect.arrayContaining([expect.objectContaining({ unitPriceFen: UNIT_A })]) });
  });
});
