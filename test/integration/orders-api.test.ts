import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct, buildTeam, reservedMatchesOpenLines } from "../helpers/factories";

describe("orders API", () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const api = () => request(t.callback);

  async function setup(onHand = 100, listPriceFen = 1000) {
    const product = await buildProduct(t.app, { onHand, listPriceFen });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    return { product, customer };
  }

  it("creates a draft order and returns it with lines and totals in fen", async () => {
    const { product, customer } = await setup();
    const res = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 3 }] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "draft", totalFen: 3000, lines: [{ sku: product.sku, qty: 3, unitPriceFen: 1000, lineTotalFen: 3000 }] });
    expect(res.body.orderNo).toMatch(/^SO-\d{8}-\d{4}$/);
    expect(res.body.salesRep).toMatchObject({ id: team.rep.id });
  });

  it("submits a small order straight to approved and reserves its stock", async () => {
    const { product, customer } = await setup(50);
    const res = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 5 }], submit: true });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("approved");
    expect(res.body.approval).toMatchObject({ autoApproved: true, steps: [] });
    const stock = await api().get(`/api/v1/stock/${product.sku}`).set(t.apiKeyHeader);
    expect(stock.body).toEqual({ sku: product.sku, onHand: 50, reserved: 5, available: 45, safetyStock: 0 });
  });

  it("routes a discounted order to the rep's manager with the reason", async () => {
    const { product, customer } = await setup(50);
    const res = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 5, unitPriceFen: 900 }], submit: true });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending_approval");
    expect(res.body.approval.steps).toEqual([
      expect.objectContaining({ stepNo: 1, status: "pending", mode: "any", approvers: [{ id: team.manager.id, name: "李经理" }] }),
    ]);
    expect(res.body.approval.reasons.map((r: { code: string }) => r.code)).toEqual(["discount_above"]);
  });

  it("answers 409 insufficient_stock listing each short sku, and creates nothing", async () => {
    const { product, customer } = await setup(2);
    const before = await t.app.db.models.Order.count();
    const res = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 5 }], submit: true });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "insufficient_stock", details: { items: [{ sku: product.sku, requested: 5, available: 2 }] } });
    expect(await t.app.db.models.Order.count()).toBe(before);
    expect(await reservedMatchesOpenLines(t.app, product.id)).toEqual({ reserved: 0, open: 0 });
  });

  it("returns the first result when a create is retried with the same Idempotency-Key", async () => {
    const { product, customer } = await setup();
    const body = { customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }] };
    const first = await api().post("/api/v1/orders").set(t.apiKeyHeader).set("Idempotency-Key", `k-${product.sku}`).send(body);
    const second = await api().post("/api/v1/orders").set(t.apiKeyHeader).set("Idempotency-Key", `k-${product.sku}`).send(body);
    expect(first.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    const other = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .set("Idempotency-Key", `k-${product.sku}`)
      .send({ ...body, lines: [{ sku: product.sku, qty: 2 }] });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
  });

  it("walks an order from approval to completion", async () => {
    const { product, customer } = await setup(100);
    const created = await api()
      .post("/api/v1/orders")
      .set(t.apiKeyHeader)
      .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 10, unitPriceFen: 950 }], submit: true });
    const id = created.body.id;
    const approved = await api()
      .post(`/api/v1/orders/${id}/approvals`)
      .set(t.apiKeyHeader)
      .send({ decision: "approve", approverId: team.manager.id, comment: "ok" });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe("approved");
    expect((await api().post(`/api/v1/orders/${id}/start-picking`).set(t.apiKeyHeader)).body.status).toBe("picking");
    expect((await api().post(`/api/v1/orders/${id}/pack`).set(t.apiKeyHeader)).body.status).toBe("packed");
    const partial = await api()
      .post(`/api/v1/orders/${id}/shipments`)
      .set(t.apiKeyHeader)
      .send({ carrier: "顺丰", trackingNo: "SF1001", lines: [{ sku: product.sku, qty: 4 }] });
    expect(partial.status).toBe(201);
    expect(partial.body.status).toBe("partially_shipped");
    const rest = await api().post(`/api/v1/orders/${id}/shipments`).set(t.apiKeyHeader).send({ carrier: "顺丰", trackingNo: "SF1002" });
    expect(rest.body.status).toBe("shipped");
    expect(rest.body.shipments.map((s: { lines: Array<{ qty: number }> }) => s.lines[0].qty)).toEqual([4, 6]);
    const stock = await api().get(`/api/v1/stock/${product.sku}`).set(t.apiKeyHeader);
    expect(stock.body).toMatchObject({ onHand: 90, reserved: 0, available: 90 });
    expect((await api().post(`/api/v1/orders/${id}/deliver`).set(t.apiKeyHeader)).body.status).toBe("delivered");
    const paid = await api()
      .post(`/api/v1/orders/${id}/payments`)
      .set(t.apiKeyHeader)
      .send({ amountFen: 9500, paidAt: "2026-11-23T08:00:00Z", reference: "BANK-1" });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: "completed", paidFen: 9500 });
    const detail = await api().get(`/api/v1/orders/${id}`).set(t.apiKeyHeader);
    expect(detail.body.timeline.map((e: { action: string }) => e.action)).toEqual([
      "created", "submit", "approve", "approve", "start_picking", "pack", "ship_partial", "ship_full", "deliver", "payment_recorded", "complete",
    ]);
  });
});
