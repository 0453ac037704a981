import http from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import type { OrderStatus } from "../../src/domain/order-state";
import type { OrderView } from "../../src/domain/order-view";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, API_ACTOR, buildCustomer, buildProduct, buildTeam, buildUser, reservedMatchesOpenLines } from "../helpers/factories";

/**
 * Every way a caller can get a request wrong, endpoint by endpoint. Each refusal is checked for its
 * status, code and field, for the absence of a stack trace, and for having changed nothing at all.
 */

type Team = Awaited<ReturnType<typeof buildTeam>>;
type Product = Awaited<ReturnType<typeof buildProduct>>;
type Customer = Awaited<ReturnType<typeof buildCustomer>>;
type Stage = Exclude<OrderStatus, "rejected">;

interface World {
  team: Team;
  product: Product;
  customer: Customer;
  orders: Record<Stage, OrderView>;
  key: string;
  revokedKey: string;
}

const PAID_AT = "2026-11-23T08:00:00Z";
const TOO_BIG = JSON.stringify({ note: "x".repeat(1100 * 1024) });

describe("API refusals", () => {
  let t: TestApp;
  let w: World;
  const api = () => request(t.callback);

  beforeAll(async () => {
    t = await createTestApp();
    const team = await buildTeam(t.app);
    const product = await buildProduct(t.app, { onHand: 10_000, listPriceFen: 1000 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const revoked = await t.app.services.createApiKey("revoked");
    await t.app.services.revokeApiKey(revoked.key.split("_")[1]);
    w = { team, product, customer, orders: {} as World["orders"], key: t.apiKeyHeader.Authorization.slice("Bearer ".length), revokedKey: revoked.key };
    const stages: Stage[] = [
      "draft",
      "pending_approval",
      "approved",
      "picking",
      "packed",
      "partially_shipped",
      "shipped",
      "delivered",
      "completed",
      "cancelled",
    ];
    for (const stage of stages) w.orders[stage] = await orderAt(stage);
  });
  afterAll(() => t.close());

  /** An order of 10 × product at ¥10 walked to `stage` through the services; pending_approval is discounted. */
  async function orderAt(stage: Stage, qty = 10): Promise<OrderView> {
    const s = t.app.services;
    const discounted = stage === "pending_approval";
    let order = await s.placeOrder(
      {
        customerCode: w.customer.code,
        lines: [{ sku: w.product.sku, qty, ...(discounted ? { unitPriceFen: 900 } : {}) }],
        submit: stage !== "draft" && stage !== "cancelled",
        source: "api",
      },
      API_ACTOR,
    );
    const orderId = order.id;
    if (stage === "cancelled") return s.cancelOrder({ orderId, reason: "客户取消" }, API_ACTOR);
    const path: Stage[] = ["picking", "packed", "partially_shipped", "shipped", "delivered", "completed"];
    const at = path.indexOf(stage);
    if (at >= 0) order = await s.startPicking({ orderId }, API_ACTOR);
    if (at >= 1) order = await s.packOrder({ orderId }, API_ACTOR);
    if (at >= 2) order = await s.shipOrder({ orderId, carrier: "顺丰", trackingNo: `SF${orderId}A`, lines: [{ sku: w.product.sku, qty: 4 }] }, API_ACTOR);
    if (at >= 3) order = await s.shipOrder({ orderId, carrier: "顺丰", trackingNo: `SF${orderId}B` }, API_ACTOR);
    if (at >= 4) order = await s.deliverOrder({ orderId }, API_ACTOR);
    if (at >= 5) order = await s.recordPayment({ orderId, amountFen: order.totalFen, paidAt: new Date(PAID_AT) }, API_ACTOR);
    expect(order.status).toBe(stage);
    return order;
  }

  /** Everything a refused request must leave alone, read straight from the database. */
  async function snapshot() {
    const m = t.app.db.models;
    const tables: Record<string, { count(): Promise<number> }> = {
      orders: m.Order,
      orderLines: m.OrderLine,
      approvalSteps: m.ApprovalStep,
      approvalDecisions: m.ApprovalDecision,
      shipments: m.Shipment,
      shipmentLines: m.ShipmentLine,
      payments: m.Payment,
      outbox: m.Outbox,
      auditEvents: m.AuditEvent,
      products: m.Product,
      customers: m.Customer,
      users: m.User,
    };
    const counts: Record<string, number> = {};
    for (const [name, model] of Object.entries(tables)) counts[name] = await model.count();
    const orders = (await m.Order.findAll({ order: [["id", "ASC"]] })).map((o) => [o.id, o.status, o.version, o.paidFen, o.totalFen, o.cancelReason]);
    const lines = (await m.OrderLine.findAll({ order: [["id", "ASC"]] })).map((l) => [l.id, l.qty, l.pickedQty, l.shippedQty]);
    const steps = (await m.ApprovalStep.findAll({ order: [["id", "ASC"]] })).map((s) => [s.id, s.status]);
    const stock = (await m.StockLevel.findAll({ order: [["productId", "ASC"]] })).map((l) => [l.productId, l.onHand, l.reserved, l.safetyStock]);
    const products = (await m.Product.findAll({ order: [["id", "ASC"]] })).map((p) => [p.id, p.sku, p.name, p.barcode, p.listPriceFen, p.floorPriceFen, p.unit, p.active]);
    const customers = (await m.Customer.findAll({ order: [["id", "ASC"]] })).map((c) => [c.id, c.code, c.name, c.ownerUserId, c.creditLimitFen, c.active]);
    return { counts, orders, lines, steps, stock, products, customers };
  }

  /** Our error shape, with nothing of the server's insides in it. */
  function expectError(res: request.Response, status: number, code: string, path?: string) {
    const got = { status: res.status, code: res.body?.error?.code, ...(path === undefined ? {} : { path: res.body?.error?.details?.path }) };
    expect(got).toEqual({ status, code, ...(path === undefined ? {} : { path }) });
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(typeof res.body.error.message).toBe("string");
    expect(res.text).not.toMatch(/\n\s+at |\bat \S+ \(|node_modules|\/src\/|Sequelize|SQLITE|\bER_[A-Z]/);
  }

  /** Sends a request that must be refused, checks the refusal, and checks that nothing changed. */
  async function refused(send: () => PromiseLike<request.Response>, status: number, code: string, path?: string) {
    const before = await snapshot();
    const res = await send();
    expectError(res, status, code, path);
    expect(await snapshot()).toEqual(before);
    return res;
  }

  let ipSeq = 0;
  /** Each unauthenticated request comes from its own address, so the failed-auth limit never trips. */
  const freshIp = () => {
    ipSeq += 1;
    return `10.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
  };

  const validOrder = () => ({ customerCode: w.customer.code, lines: [{ sku: w.product.sku, qty: 1 }] });
  const orderUrl = (stage: Stage, action?: string) => `/api/v1/orders/${w.orders[stage].id}${action ? `/${action}` : ""}`;

  interface Endpoint {
    name: string;
    method: "get" | "post" | "put";
    url: () => string;
    /** A body that would succeed with a valid key, so a refusal that lets it through shows up as a change. */
    body?: () => unknown;
  }

  const ENDPOINTS: Endpoint[] = [
    { name: "POST /orders", method: "post", url: () => "/api/v1/orders", body: () => ({ ...validOrder(), submit: true }) },
    { name: "GET /orders", method: "get", url: () => "/api/v1/orders" },
    { name: "GET /orders/:id", method: "get", url: () => orderUrl("draft") },
    { name: "POST /orders/:id/submit", method: "post", url: () => orderUrl("draft", "submit"), body: () => ({}) },
    { name: "POST /orders/:id/cancel", method: "post", url: () => orderUrl("approved", "cancel"), body: () => ({ reason: "客户取消" }) },
    {
      name: "POST /orders/:id/approvals",
      method: "post",
      url: () => orderUrl("pending_approval", "approvals"),
      body: () => ({ decision: "approve", approverId: w.team.manager.id }),
    },
    { name: "POST /orders/:id/start-picking", method: "post", url: () => orderUrl("approved", "start-picking"), body: () => ({}) },
    { name: "POST /orders/:id/picks", method: "post", url: () => orderUrl("picking", "picks"), body: () => ({ lines: [{ sku: w.product.sku, qty: 10 }] }) },
    { name: "POST /orders/:id/pack", method: "post", url: () => orderUrl("picking", "pack"), body: () => ({}) },
    { name: "POST /orders/:id/shipments", method: "post", url: () => orderUrl("packed", "shipments"), body: () => ({ carrier: "顺丰", trackingNo: "SF-REFUSED-1" }) },
    { name: "POST /orders/:id/deliver", method: "post", url: () => orderUrl("shipped", "deliver"), body: () => ({}) },
    { name: "POST /orders/:id/payments", method: "post", url: () => orderUrl("approved", "payments"), body: () => ({ amountFen: 100, paidAt: PAID_AT }) },
    { name: "GET /products", method: "get", url: () => "/api/v1/products" },
    { name: "PUT /products", method: "put", url: () => "/api/v1/products", body: () => ({ sku: "REFUSED-1", name: "不该出现", listPriceFen: 100 }) },
    { name: "GET /customers", method: "get", url: () => "/api/v1/customers" },
    { name: "PUT /customers", method: "put", url: () => "/api/v1/customers", body: () => ({ code: "REFUSED-1", name: "不该出现" }) },
    { name: "GET /stock/:sku", method: "get", url: () => `/api/v1/stock/${w.product.sku}` },
    { name: "PUT /stock/:sku", method: "put", url: () => `/api/v1/stock/${w.product.sku}`, body: () => ({ onHand: 99_999 }) },
  ];
  const WITH_BODY = ENDPOINTS.filter((e) => e.body);

  function call(e: Endpoint, headers: Record<string, string>) {
    const req = api()[e.method](e.url()).set(headers);
    return e.body ? req.send(e.body() as object) : req;
  }

  describe("authentication", () => {
    it.each(ENDPOINTS)("$name answers 401 without a key, with an unknown key and with a revoked key", async (e) => {
      const variants: Array<Record<string, string>> = [
        {},
        { Authorization: `Bearer co_0123456789_${"A".repeat(43)}` },
        { Authorization: `Bearer ${w.revokedKey}` },
      ];
      for (const auth of variants) {
        const res = await refused(() => call(e, { ...auth, "X-Forwarded-For": freshIp() }), 401, "unauthorized");
        expect(res.headers["www-authenticate"]).toBe('Bearer realm="chatorder"');
      }
    });

    const flip = (s: string) => s.slice(0, -1) + (s.endsWith("A") ? "B" : "A");
    it.each([
      { name: "an empty bearer", auth: () => ({ Authorization: "Bearer " }) },
      { name: "a malformed key", auth: () => ({ Authorization: "Bearer not-a-key" }) },
      { name: "the right prefix with a wrong secret", auth: () => ({ Authorization: `Bearer ${flip(w.key)}` }) },
      { name: "the key with a trailing extra word", auth: () => ({ Authorization: `Bearer ${w.key} extra` }) },
      { name: "the key without the Bearer scheme", auth: () => ({ Authorization: w.key }) },
      { name: "the key as Basic credentials", auth: () => ({ Authorization: `Basic ${Buffer.from(`x:${w.key}`).toString("base64")}` }) },
      { name: "the key in X-Api-Key", auth: () => ({ "X-Api-Key": w.key }) },
    ])("refuses $name with 401 and creates nothing", async ({ auth }) => {
      await refused(
        () => api().post("/api/v1/orders").set({ ...auth(), "X-Forwarded-For": freshIp() }).send({ ...validOrder(), submit: true }),
        401,
        "unauthorized",
      );
    });

    it("accepts the scheme in any case", async () => {
      const res = await api().get("/api/v1/products?limit=1").set({ Authorization: `bearer ${w.key}` });
      expect(res.status).toBe(200);
    });

    it("refuses an address that keeps presenting bad keys, even with a good key, for the rest of the minute", async () => {
      if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 6_000));
      const ip = "203.0.113.7";
      for (let i = 0; i < 30; i++) {
        const res = await api().get("/api/v1/products").set({ Authorization: "Bearer nope", "X-Forwarded-For": ip });
        expect(res.status).toBe(401);
      }
      await refused(() => api().get("/api/v1/products").set({ ...t.apiKeyHeader, "X-Forwarded-For": ip }), 429, "rate_limited");
      const elsewhere = await api().get("/api/v1/products?limit=1").set({ ...t.apiKeyHeader, "X-Forwarded-For": "203.0.113.8" });
      expect(elsewhere.status).toBe(200);
    });
  });

  describe("transport", () => {
    it.each(WITH_BODY)("$name answers 415 to a body that is not JSON", async (e) => {
      for (const [type, body] of [
        ["text/plain", JSON.stringify(e.body!())],
        ["application/x-www-form-urlencoded", "reason=x&onHand=1"],
        ["application/xml", "<order/>"],
        ["application/vnd.api+json", JSON.stringify(e.body!())],
      ]) {
        await refused(() => api()[e.method](e.url()).set(t.apiKeyHeader).set("Content-Type", type).send(body), 415, "unsupported_media_type");
      }
    });

    it.each(WITH_BODY)("$name answers 400 invalid_json to malformed JSON", async (e) => {
      for (const raw of ['{"reason": "x",', "{'reason': 'x'}", '{"reason": "x"} trailing', '"just a string"', "null", "42", "{\"a\":1,}"]) {
        await refused(() => api()[e.method](e.url()).set(t.apiKeyHeader).set("Content-Type", "application/json").send(raw), 400, "invalid_json");
      }
    });

    it.each(WITH_BODY)("$name answers 413 to a body over the size limit", async (e) => {
      await refused(() => api()[e.method](e.url()).set(t.apiKeyHeader).set("Content-Type", "application/json").send(TOO_BIG), 413, "payload_too_large");
    });

    it("answers 413 to a chunked body over the limit, which declares no length", async () => {
      const before = await snapshot();
      const res = await sendChunked("/api/v1/orders", { ...t.apiKeyHeader, "Content-Type": "application/json" }, TOO_BIG);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text).error.code).toBe("payload_too_large");
      expect(await snapshot()).toEqual(before);
    });

    it.each([
      ["GET", "/api/v1/nothing-here"],
      ["GET", "/api/v2/orders"],
      ["GET", "/nothing-here"],
      ["POST", "/api/v1/orders/1/approve"],
      ["GET", "/api/v1/orders/1/timeline"],
      ["GET", "/api/v1/stock"],
      ["PUT", "/api/v1/stock/A/B"],
    ])("%s %s answers 404 in our error shape", async (method, url) => {
      for (const auth of [t.apiKeyHeader, {}]) {
        const res = await refused(() => api()[method.toLowerCase() as "get" | "post" | "put"](url).set(auth).send({}), 404, "not_found");
        expect(res.body.error.message).toContain(url);
      }
    });

    type Verb = "get" | "post" | "put" | "patch" | "delete";
    it.each<{ method: Verb; route: string; url: () => string; allowed: string[] }>([
      { method: "delete", route: "/orders/:id", url: () => orderUrl("draft"), allowed: ["GET"] },
      { method: "patch", route: "/orders/:id", url: () => orderUrl("draft"), allowed: ["GET"] },
      { method: "put", route: "/orders", url: () => "/api/v1/orders", allowed: ["GET", "POST"] },
      { method: "get", route: "/orders/:id/submit", url: () => orderUrl("draft", "submit"), allowed: ["POST"] },
      { method: "get", route: "/orders/:id/payments", url: () => orderUrl("approved", "payments"), allowed: ["POST"] },
      { method: "patch", route: "/products", url: () => "/api/v1/products", allowed: ["GET", "PUT"] },
      { method: "post", route: "/customers", url: () => "/api/v1/customers", allowed: ["GET", "PUT"] },
      { method: "delete", route: "/stock/:sku", url: () => `/api/v1/stock/${w.product.sku}`, allowed: ["GET", "PUT"] },
      { method: "post", route: "/stock/:sku", url: () => `/api/v1/stock/${w.product.sku}`, allowed: ["GET", "PUT"] },
    ])("$method $route answers 405 naming the allowed methods", async ({ method, url, allowed }) => {
      const res = await refused(
        () => api()[method](url()).set(t.apiKeyHeader).send({ onHand: 1, code: "X", name: "X" }),
        405,
        "method_not_allowed",
      );
      const allow = String(res.headers.allow).split(/,\s*/);
      expect(allow).toEqual(expect.arrayContaining(allowed));
      expect(allow).not.toContain(method.toUpperCase());
      expect(res.body.error.details.allow).toBe(res.headers.allow);
    });

    it("does not choke on deeply nested JSON", async () => {
      const deep = `{"customerCode":"${w.customer.code}","lines":[{"sku":"${w.product.sku}","qty":1}],"note":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
      await refused(() => api().post("/api/v1/orders").set(t.apiKeyHeader).set("Content-Type", "application/json").send(deep), 422, "validation_failed", "body.note");
    });

    it("refuses a body that tries to set __proto__ as invalid JSON", async () => {
      const raw = `{"customerCode":"${w.customer.code}","lines":[{"sku":"${w.product.sku}","qty":1}],"__proto__":{"submit":true}}`;
      await refused(() => api().post("/api/v1/orders").set(t.apiKeyHeader).set("Content-Type", "application/json").send(raw), 400, "invalid_json");
    });
  });

  /** Raw chunked POST: supertest always declares a Content-Length. */
  async function sendChunked(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
    const server = http.createServer(t.callback);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { ...headers, "Transfer-Encoding": "chunked" } }, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
        req.end();
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  interface BadBody {
    name: string;
    body: () => unknown;
    path: string;
  }

  const withLine = (line: Record<string, unknown>) => () => ({ ...validOrder(), lines: [{ sku: w.product.sku, qty: 1, ...line }] });

  describe("POST /orders", () => {
    it.each<BadBody>([
      { name: "an empty body", body: () => ({}), path: "body.customerCode" },
      { name: "a list instead of an object", body: () => [validOrder()], path: "body" },
      { name: "customerCode as a number", body: () => ({ ...validOrder(), customerCode: 42 }), path: "body.customerCode" },
      { name: "customerCode null", body: () => ({ ...validOrder(), customerCode: null }), path: "body.customerCode" },
      { name: "an empty customerCode", body: () => ({ ...validOrder(), customerCode: "" }), path: "body.customerCode" },
      { name: "a blank customerCode", body: () => ({ ...validOrder(), customerCode: "   " }), path: "body.customerCode" },
      { name: "a 65-character customerCode", body: () => ({ ...validOrder(), customerCode: "C".repeat(65) }), path: "body.customerCode" },
      { name: "no lines", body: () => ({ customerCode: w.customer.code }), path: "body.lines" },
      { name: "an empty lines array", body: () => ({ ...validOrder(), lines: [] }), path: "body.lines" },
      { name: "lines as an object", body: () => ({ ...validOrder(), lines: { sku: w.product.sku, qty: 1 } }), path: "body.lines" },
      { name: "lines as a string", body: () => ({ ...validOrder(), lines: `${w.product.sku} x1` }), path: "body.lines" },
      {
        name: "201 lines",
        body: () => ({ ...validOrder(), lines: Array.from({ length: 201 }, () => ({ sku: w.product.sku, qty: 1 })) }),
        path: "body.lines",
      },
      { name: "a null line", body: () => ({ ...validOrder(), lines: [null] }), path: "body.lines.0" },
      { name: "a line as a string", body: () => ({ ...validOrder(), lines: [w.product.sku] }), path: "body.lines.0" },
      { name: "a line without sku", body: () => ({ ...validOrder(), lines: [{ qty: 1 }] }), path: "body.lines.0.sku" },
      { name: "sku as a number", body: withLine({ sku: 1001 }), path: "body.lines.0.sku" },
      { name: "a line without qty", body: () => ({ ...validOrder(), lines: [{ sku: w.product.sku }] }), path: "body.lines.0.qty" },
      { name: "qty as a string", body: withLine({ qty: "5" }), path: "body.lines.0.qty" },
      { name: "qty zero", body: withLine({ qty: 0 }), path: "body.lines.0.qty" },
      { name: "negative qty", body: withLine({ qty: -1 }), path: "body.lines.0.qty" },
      { name: "fractional qty", body: withLine({ qty: 1.5 }), path: "body.lines.0.qty" },
      { name: "qty over 1,000,000", body: withLine({ qty: 1_000_001 }), path: "body.lines.0.qty" },
      { name: "a huge qty", body: withLine({ qty: 1e308 }), path: "body.lines.0.qty" },
      { name: "qty beyond safe integers", body: withLine({ qty: 2 ** 53 }), path: "body.lines.0.qty" },
      { name: "qty null", body: withLine({ qty: null }), path: "body.lines.0.qty" },
      { name: "qty true", body: withLine({ qty: true }), path: "body.lines.0.qty" },
      { name: "qty as a list", body: withLine({ qty: [1] }), path: "body.lines.0.qty" },
      {
        name: "a bad qty on the second line",
        body: () => ({ ...validOrder(), lines: [{ sku: w.product.sku, qty: 1 }, { sku: w.product.sku, qty: -2 }] }),
        path: "body.lines.1.qty",
      },
      { name: "negative unitPriceFen", body: withLine({ unitPriceFen: -1 }), path: "body.lines.0.unitPriceFen" },
      { name: "fractional unitPriceFen", body: withLine({ unitPriceFen: 999.5 }), path: "body.lines.0.unitPriceFen" },
      { name: "unitPriceFen as a string", body: withLine({ unitPriceFen: "1000" }), path: "body.lines.0.unitPriceFen" },
      { name: "unitPriceFen over the maximum", body: withLine({ unitPriceFen: 10_000_000_001 }), path: "body.lines.0.unitPriceFen" },
      { name: "an unknown line field", body: withLine({ discount: 5 }), path: "body.lines.0.discount" },
      { name: "an unknown top-level field", body: () => ({ ...validOrder(), status: "approved" }), path: "body.status" },
      { name: "customerId, which the API does not take", body: () => ({ ...validOrder(), customerId: w.customer.id }), path: "body.customerId" },
      { name: "salesRepId, which the API does not take", body: () => ({ ...validOrder(), salesRepId: w.team.rep.id }), path: "body.salesRepId" },
      { name: "a 501-character note", body: () => ({ ...validOrder(), note: "x".repeat(501) }), path: "body.note" },
      { name: "note as a number", body: () => ({ ...validOrder(), note: 5 }), path: "body.note" },
      { name: "submit as a string", body: () => ({ ...validOrder(), submit: "true" }), path: "body.submit" },
      { name: "shipTo as a string", body: () => ({ ...validOrder(), shipTo: "上海" }), path: "body.shipTo" },
      { name: "an unknown shipTo field", body: () => ({ ...validOrder(), shipTo: { email: "a@b.c" } }), path: "body.shipTo.email" },
      { name: "a 33-character shipTo.phone", body: () => ({ ...validOrder(), shipTo: { phone: "1".repeat(33) } }), path: "body.shipTo.phone" },
      { name: "an unknown customer", body: () => ({ ...validOrder(), customerCode: "NO-SUCH-CUSTOMER" }), path: "body.customerCode" },
      {
        name: "an unknown sku on the second line",
        body: () => ({ ...validOrder(), lines: [{ sku: w.product.sku, qty: 1 }, { sku: "NO-SUCH-SKU", qty: 1 }] }),
        path: "body.lines.1.sku",
      },
      {
        name: "an order total beyond safe integers",
        body: () => ({
          ...validOrder(),
          lines: [
            { sku: w.product.sku, qty: 1_000_000, unitPriceFen: 5_000_000_000 },
            { sku: w.product.sku, qty: 1_000_000, unitPriceFen: 5_000_000_000 },
          ],
        }),
        path: "body.lines",
      },
    ])("refuses $name with 422 naming $path, and creates nothing", async ({ body, path }) => {
      const res = await refused(() => api().post("/api/v1/orders").set(t.apiKeyHeader).send(body() as object), 422, "validation_failed", path);
      expect(res.body.error.message).toEqual(expect.any(String));
    });

    it.each([
      ["a number too large for JSON doubles", "1e400"],
      ["a 20-digit integer", "12345678901234567890"],
    ])("refuses %s as qty with 422", async (_name, literal) => {
      const raw = `{"customerCode":"${w.customer.code}","lines":[{"sku":"${w.product.sku}","qty":${literal}}]}`;
      await refused(() => api().post("/api/v1/orders").set(t.apiKeyHeader).set("Content-Type", "application/json").send(raw), 422, "validation_failed", "body.lines.0.qty");
    });

    it("refuses an inactive customer and an inactive product by name", async () => {
      const gone = await buildCustomer(t.app);
      await t.app.db.models.Customer.update({ active: false }, { where: { id: gone.id } });
      await refused(
        () => api().post("/api/v1/orders").set(t.apiKeyHeader).send({ ...validOrder(), customerCode: gone.code }),
        422,
        "validation_failed",
        "body.customerCode",
      );
      const retired = await buildProduct(t.app, { onHand: 10 });
      await t.app.db.models.Product.update({ active: false }, { where: { id: retired.id } });
      await refused(
        () => api().post("/api/v1/orders").set(t.apiKeyHeader).send({ ...validOrder(), lines: [{ sku: retired.sku, qty: 1 }] }),
        422,
        "validation_failed",
        "body.lines.0.sku",
      );
    });

    // A line total of 10^6 × ¥10^8 is not a safe integer: the order must be refused, not crash.
    it("refuses a single line whose total is beyond safe integers with 422, not a 500", async () => {
      const res = await refused(
        () => api().post("/api/v1/orders").set(t.apiKeyHeader).send(withLine({ qty: 1_000_000, unitPriceFen: 10_000_000_000 })() as object),
        422,
        "validation_failed",
      );
      expect(res.body.error.details.path).toMatch(/^body\.lines/);
    });

    it.each([
      ["with a space", "key with space"],
      ["of 129 characters", "k".repeat(129)],
    ])("refuses an Idempotency-Key %s with 422 naming the header", async (_name, key) => {
      await refused(
        () => api().post("/api/v1/orders").set(t.apiKeyHeader).set("Idempotency-Key", key).send(validOrder()),
        422,
        "validation_failed",
        "headers.idempotency-key",
      );
    });

    it("refuses a submit that the stock cannot cover with 409, holding nothing back", async () => {
      const scarce = await buildProduct(t.app, { onHand: 3 });
      const res = await refused(
        () => api().post("/api/v1/orders").set(t.apiKeyHeader).send({ ...validOrder(), lines: [{ sku: scarce.sku, qty: 4 }], submit: true }),
        409,
        "insufficient_stock",
      );
      expect(res.body.error.details.items).toEqual([{ sku: scarce.sku, requested: 4, available: 3 }]);
      expect(await reservedMatchesOpenLines(t.app, scarce.id)).toEqual({ reserved: 0, open: 0 });
    });
  });

  describe("GET /orders", () => {
    const cursor = (text: string) => Buffer.from(text).toString("base64url");
    it.each([
      ["status=shipping", "query.status.0"],
      ["status=draft,bogus", "query.status.1"],
      ["status=draft&status=approved", "query.status"],
      ["customerCode=", "query.customerCode"],
      ["from=yesterday", "query.from"],
      ["from=2026-13-01", "query.from"],
      ["to=2026-02-30", "query.to"],
      ["to=2026-11-23T08:00:00", "query.to"],
      ["limit=0", "query.limit"],
      ["limit=201", "query.limit"],
      ["limit=abc", "query.limit"],
      ["limit=1.5", "query.limit"],
      [`q=${"q".repeat(65)}`, "query.q"],
      ["cursor=!!!", "query.cursor"],
      ["cursor=abc", "query.cursor"],
      [`cursor=${cursor("o:abc")}`, "query.cursor"],
      [`cursor=${cursor("x:12")}`, "query.cursor"],
      [`cursor=${cursor("o:1234567890123456")}`, "query.cursor"],
      [`cursor=${"c".repeat(65)}`, "query.cursor"],
      ["sort=id", "query.sort"],
    ])("refuses ?%s with 422 naming %s", async (query, path) => {
      await refused(() => api().get(`/api/v1/orders?${query}`).set(t.apiKeyHeader), 422, "validation_failed", path);
    });
  });

  describe("order ids", () => {
    const ACTIONS: Array<{ action: string; body: () => object }> = [
      { action: "submit", body: () => ({}) },
      { action: "cancel", body: () => ({ reason: "客户取消" }) },
      { action: "approvals", body: () => ({ decision: "approve", approverId: w.team.manager.id }) },
      { action: "start-picking", body: () => ({}) },
      { action: "picks", body: () => ({ lines: [{ sku: w.product.sku, qty: 1 }] }) },
      { action: "pack", body: () => ({}) },
      { action: "shipments", body: () => ({ carrier: "顺丰", trackingNo: "SF-NOORDER" }) },
      { action: "deliver", body: () => ({}) },
      { action: "payments", body: () => ({ amountFen: 100, paidAt: PAID_AT }) },
    ];
    const BAD_IDS = ["abc", "1.5", "-1", "1e3", "0x1F", "1234567890123", "%201", "%EF%BC%91"];

    it.each(BAD_IDS)("GET /orders/%s answers 422 naming params.id", async (id) => {
      await refused(() => api().get(`/api/v1/orders/${id}`).set(t.apiKeyHeader), 422, "validation_failed", "params.id");
    });

    it.each(["0", "999999999", "999999999999"])("GET /orders/%s answers 404", async (id) => {
      await refused(() => api().get(`/api/v1/orders/${id}`).set(t.apiKeyHeader), 404, "not_found");
    });

    it.each(ACTIONS)("POST /orders/:id/$action answers 422 to a non-numeric id and 404 to an unknown one", async ({ action, body }) => {
      for (const id of ["abc", "-1", "1.5"]) {
        await refused(() => api().post(`/api/v1/orders/${id}/${action}`).set(t.apiKeyHeader).send(body()), 422, "validation_failed", "params.id");
      }
      await refused(() => api().post(`/api/v1/orders/999999999/${action}`).set(t.apiKeyHeader).send(body()), 404, "not_found");
    });
  });

  describe("order action bodies", () => {
    it.each<BadBody & { stage: Stage; action: string }>([
      { stage: "draft", action: "submit", name: "expectedVersion 0", body: () => ({ expectedVersion: 0 }), path: "body.expectedVersion" },
      { stage: "draft", action: "submit", name: "expectedVersion as a string", body: () => ({ expectedVersion: "1" }), path: "body.expectedVersion" },
      { stage: "draft", action: "submit", name: "a fractional expectedVersion", body: () => ({ expectedVersion: 1.5 }), path: "body.expectedVersion" },
      { stage: "draft", action: "submit", name: "an unknown field", body: () => ({ force: true }), path: "body.force" },
      { stage: "draft", action: "submit", name: "a list", body: () => [], path: "body" },
      { stage: "approved", action: "cancel", name: "no reason", body: () => ({}), path: "body.reason" },
      { stage: "approved", action: "cancel", name: "an empty reason", body: () => ({ reason: "" }), path: "body.reason" },
      { stage: "approved", action: "cancel", name: "a blank reason", body: () => ({ reason: "   " }), path: "body.reason" },
      { stage: "approved", action: "cancel", name: "a 501-character reason", body: () => ({ reason: "x".repeat(501) }), path: "body.reason" },
      { stage: "approved", action: "cancel", name: "reason as a number", body: () => ({ reason: 5 }), path: "body.reason" },
      { stage: "approved", action: "cancel", name: "an unknown field", body: () => ({ reason: "x", refund: true }), path: "body.refund" },
      { stage: "pending_approval", action: "approvals", name: "no decision", body: () => ({ approverId: w.team.manager.id }), path: "body.decision" },
      { stage: "pending_approval", action: "approvals", name: "decision maybe", body: () => ({ decision: "maybe", approverId: w.team.manager.id }), path: "body.decision" },
      { stage: "pending_approval", action: "approvals", name: "decision in capitals", body: () => ({ decision: "APPROVE", approverId: w.team.manager.id }), path: "body.decision" },
      { stage: "pending_approval", action: "approvals", name: "no approverId", body: () => ({ decision: "approve" }), path: "body.approverId" },
      { stage: "pending_approval", action: "approvals", name: "approverId as a string", body: () => ({ decision: "approve", approverId: String(w.team.manager.id) }), path: "body.approverId" },
      { stage: "pending_approval", action: "approvals", name: "a negative approverId", body: () => ({ decision: "approve", approverId: -1 }), path: "body.approverId" },
      { stage: "pending_approval", action: "approvals", name: "a fractional approverId", body: () => ({ decision: "approve", approverId: 1.5 }), path: "body.approverId" },
      { stage: "pending_approval", action: "approvals", name: "stepId 0", body: () => ({ decision: "approve", approverId: w.team.manager.id, stepId: 0 }), path: "body.stepId" },
      {
        stage: "pending_approval",
        action: "approvals",
        name: "a 501-character comment",
        body: () => ({ decision: "approve", approverId: w.team.manager.id, comment: "x".repeat(501) }),
        path: "body.comment",
      },
      { stage: "pending_approval", action: "approvals", name: "an unknown approver", body: () => ({ decision: "approve", approverId: 99_999_999 }), path: "body.approverId" },
      { stage: "pending_approval", action: "approvals", name: "a reject without comment", body: () => ({ decision: "reject", approverId: w.team.manager.id }), path: "body.comment" },
      {
        stage: "pending_approval",
        action: "approvals",
        name: "a reject with a blank comment",
        body: () => ({ decision: "reject", approverId: w.team.manager.id, comment: "   " }),
        path: "body.comment",
      },
      { stage: "pending_approval", action: "approvals", name: "an unknown field", body: () => ({ decision: "approve", approverId: w.team.manager.id, as: "admin" }), path: "body.as" },
      { stage: "approved", action: "start-picking", name: "an unknown field", body: () => ({ picker: 1 }), path: "body.picker" },
      { stage: "approved", action: "start-picking", name: "a list", body: () => [], path: "body" },
      { stage: "picking", action: "picks", name: "no lines", body: () => ({}), path: "body.lines" },
      { stage: "picking", action: "picks", name: "an empty lines array", body: () => ({ lines: [] }), path: "body.lines" },
      { stage: "picking", action: "picks", name: "a negative qty", body: () => ({ lines: [{ sku: w.product.sku, qty: -1 }] }), path: "body.lines.0.qty" },
      { stage: "picking", action: "picks", name: "a fractional qty", body: () => ({ lines: [{ sku: w.product.sku, qty: 0.5 }] }), path: "body.lines.0.qty" },
      { stage: "picking", action: "picks", name: "qty as a string", body: () => ({ lines: [{ sku: w.product.sku, qty: "10" }] }), path: "body.lines.0.qty" },
      { stage: "picking", action: "picks", name: "a line without sku", body: () => ({ lines: [{ qty: 1 }] }), path: "body.lines.0.sku" },
      { stage: "picking", action: "picks", name: "a sku not on the order", body: () => ({ lines: [{ sku: "NOT-ON-ORDER", qty: 1 }] }), path: "body.lines.0.sku" },
      { stage: "picking", action: "pack", name: "an unknown field", body: () => ({ boxes: 2 }), path: "body.boxes" },
      { stage: "packed", action: "shipments", name: "no carrier", body: () => ({ trackingNo: "SF1234" }), path: "body.carrier" },
      { stage: "packed", action: "shipments", name: "a blank carrier", body: () => ({ carrier: "  ", trackingNo: "SF1234" }), path: "body.carrier" },
      { stage: "packed", action: "shipments", name: "no trackingNo", body: () => ({ carrier: "顺丰" }), path: "body.trackingNo" },
      { stage: "packed", action: "shipments", name: "a trackingNo with a space", body: () => ({ carrier: "顺丰", trackingNo: "SF 1234" }), path: "body.trackingNo" },
      { stage: "packed", action: "shipments", name: "a 3-character trackingNo", body: () => ({ carrier: "顺丰", trackingNo: "SF1" }), path: "body.trackingNo" },
      { stage: "packed", action: "shipments", name: "an empty lines array", body: () => ({ carrier: "顺丰", trackingNo: "SF1234", lines: [] }), path: "body.lines" },
      {
        stage: "packed",
        action: "shipments",
        name: "a zero qty",
        body: () => ({ carrier: "顺丰", trackingNo: "SF1234", lines: [{ sku: w.product.sku, qty: 0 }] }),
        path: "body.lines.0.qty",
      },
      {
        stage: "packed",
        action: "shipments",
        name: "a sku not on the order",
        body: () => ({ carrier: "顺丰", trackingNo: "SF1234", lines: [{ sku: "NOT-ON-ORDER", qty: 1 }] }),
        path: "body.lines.0.sku",
      },
      { stage: "packed", action: "shipments", name: "an unknown field", body: () => ({ carrier: "顺丰", trackingNo: "SF1234", weightKg: 3 }), path: "body.weightKg" },
      { stage: "shipped", action: "deliver", name: "an unknown field", body: () => ({ signedBy: "张三" }), path: "body.signedBy" },
      { stage: "approved", action: "payments", name: "no amount", body: () => ({ paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "a zero amount", body: () => ({ amountFen: 0, paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "a negative amount", body: () => ({ amountFen: -100, paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "a fractional amount", body: () => ({ amountFen: 10.5, paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "the amount as a string", body: () => ({ amountFen: "100", paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "an amount beyond safe integers", body: () => ({ amountFen: 1e16, paidAt: PAID_AT }), path: "body.amountFen" },
      { stage: "approved", action: "payments", name: "no paidAt", body: () => ({ amountFen: 100 }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a date-only paidAt", body: () => ({ amountFen: 100, paidAt: "2026-11-23" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a paidAt without offset", body: () => ({ amountFen: 100, paidAt: "2026-11-23T08:00:00" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "an impossible paidAt", body: () => ({ amountFen: 100, paidAt: "2026-02-30T08:00:00Z" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a paidAt past year 9999 in UTC", body: () => ({ amountFen: 100, paidAt: "9999-12-31T23:59:59-14:00" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a paidAt in year 0", body: () => ({ amountFen: 100, paidAt: "0000-01-01T00:00:00Z" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a paidAt before 2000", body: () => ({ amountFen: 100, paidAt: "1999-12-31T23:59:59Z" }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "paidAt as epoch millis", body: () => ({ amountFen: 100, paidAt: 1_795_420_800_000 }), path: "body.paidAt" },
      { stage: "approved", action: "payments", name: "a 33-character method", body: () => ({ amountFen: 100, paidAt: PAID_AT, method: "m".repeat(33) }), path: "body.method" },
      { stage: "approved", action: "payments", name: "a 129-character reference", body: () => ({ amountFen: 100, paidAt: PAID_AT, reference: "r".repeat(129) }), path: "body.reference" },
      { stage: "approved", action: "payments", name: "an unknown field", body: () => ({ amountFen: 100, paidAt: PAID_AT, currency: "CNY" }), path: "body.currency" },
    ])("$action on a $stage order refuses $name with 422 naming $path", async ({ stage, action, body, path }) => {
      await refused(() => api().post(orderUrl(stage, action)).set(t.apiKeyHeader).send(body() as object), 422, "validation_failed", path);
    });

    it("refuses a cancel with no body at all, naming the reason", async () => {
      await refused(() => api().post(orderUrl("approved", "cancel")).set(t.apiKeyHeader), 422, "validation_failed", "body.reason");
    });

    it("refuses an inactive approver as unknown", async () => {
      const former = await buildUser(t.app, ["manager"]);
      await former.update({ active: false });
      await refused(
        () => api().post(orderUrl("pending_approval", "approvals")).set(t.apiKeyHeader).send({ decision: "approve", approverId: former.id }),
        422,
        "validation_failed",
        "body.approverId",
      );
    });
  });

  describe("illegal transitions", () => {
    const ship = () => ({ carrier: "顺丰", trackingNo: "SF-ILLEGAL-1" });
    const pay = () => ({ amountFen: 100, paidAt: PAID_AT });
    const cancel = () => ({ reason: "客户取消" });
    const picks = () => ({ lines: [{ sku: w.product.sku, qty: 10 }] });
    it.each<{ name: string; stage: Stage; action: string; body?: () => object }>([
      { name: "pack a draft", stage: "draft", action: "pack" },
      { name: "pack an approved order nobody has picked", stage: "approved", action: "pack" },
      { name: "ship a draft", stage: "draft", action: "shipments", body: ship },
      { name: "ship an approved order", stage: "approved", action: "shipments", body: ship },
      { name: "ship part of an order still being picked", stage: "picking", action: "shipments", body: () => ({ ...ship(), lines: [{ sku: w.product.sku, qty: 1 }] }) },
      { name: "deliver an approved order", stage: "approved", action: "deliver" },
      { name: "deliver a packed order", stage: "packed", action: "deliver" },
      { name: "deliver a partially shipped order", stage: "partially_shipped", action: "deliver" },
      { name: "deliver a cancelled order", stage: "cancelled", action: "deliver" },
      { name: "pay a draft", stage: "draft", action: "payments", body: pay },
      { name: "pay an order awaiting approval", stage: "pending_approval", action: "payments", body: pay },
      { name: "pay a cancelled order", stage: "cancelled", action: "payments", body: pay },
      { name: "pay a completed order", stage: "completed", action: "payments", body: pay },
      { name: "cancel a shipped order", stage: "shipped", action: "cancel", body: cancel },
      { name: "cancel a partially shipped order", stage: "partially_shipped", action: "cancel", body: cancel },
      { name: "cancel a delivered order", stage: "delivered", action: "cancel", body: cancel },
      { name: "cancel a completed order", stage: "completed", action: "cancel", body: cancel },
      { name: "submit a cancelled order", stage: "cancelled", action: "submit" },
      { name: "submit a shipped order", stage: "shipped", action: "submit" },
      { name: "start picking a draft", stage: "draft", action: "start-picking" },
      { name: "start picking an order awaiting approval", stage: "pending_approval", action: "start-picking" },
      { name: "start picking a packed order", stage: "packed", action: "start-picking" },
      { name: "record picks on an approved order", stage: "approved", action: "picks", body: picks },
      { name: "record picks on a packed order", stage: "packed", action: "picks", body: picks },
    ])("refuses to $name with 409 invalid_transition, leaving the order as it was", async ({ stage, action, body }) => {
      const order = w.orders[stage];
      const res = await refused(() => api().post(orderUrl(stage, action)).set(t.apiKeyHeader).send(body ? body() : {}), 409, "invalid_transition");
      expect(res.body.error.details.from).toBe(stage);
      const now = await api().get(orderUrl(stage)).set(t.apiKeyHeader);
      expect({ status: now.body.status, version: now.body.version }).toEqual({ status: stage, version: order.version });
    });

    it("refuses a submit at a stale expectedVersion with 409 conflict", async () => {
      const res = await refused(() => api().post(orderUrl("draft", "submit")).set(t.apiKeyHeader).send({ expectedVersion: 2 }), 409, "conflict");
      expect(res.body.error.details).toEqual({ expectedVersion: 2, version: 1 });
    });

    it("refuses to submit a draft the stock cannot cover, leaving it a draft", async () => {
      const scarce = await buildProduct(t.app, { onHand: 5 });
      const draft = await t.app.services.placeOrder({ customerCode: w.customer.code, lines: [{ sku: scarce.sku, qty: 6 }], source: "api" }, API_ACTOR);
      await refused(() => api().post(`/api/v1/orders/${draft.id}/submit`).set(t.apiKeyHeader).send({}), 409, "insufficient_stock");
      const after = await api().get(`/api/v1/orders/${draft.id}`).set(t.apiKeyHeader);
      expect({ status: after.body.status, version: after.body.version }).toEqual({ status: "draft", version: 1 });
    });
  });

  describe("approvals", () => {
    const decide = (orderId: number, body: object) => api().post(`/api/v1/orders/${orderId}/approvals`).set(t.apiKeyHeader).send(body);

    it("refuses a decision by someone who is not an approver of the step with 403", async () => {
      for (const user of [w.team.finance, w.team.director, w.team.rep]) {
        await refused(() => decide(w.orders.pending_approval.id, { decision: "approve", approverId: user.id }), 403, "not_an_approver");
      }
    });

    it("refuses a decision on an order with nothing waiting for approval with 409 step_not_pending", async () => {
      for (const stage of ["draft", "approved", "cancelled"] as const) {
        await refused(() => decide(w.orders[stage].id, { decision: "approve", approverId: w.team.manager.id }), 409, "step_not_pending");
      }
    });

    it("refuses a decision on a step that was already settled with 409 step_not_pending", async () => {
      const order = await orderAt("pending_approval");
      const stepId = order.approval.steps[0].id;
      await t.app.services.decideApproval({ orderId: order.id, decision: "approve" }, actorFor(w.team.manager));
      await refused(() => decide(order.id, { decision: "approve", approverId: w.team.finance.id, stepId }), 409, "step_not_pending");
      await refused(() => decide(order.id, { decision: "reject", approverId: w.team.manager.id, stepId, comment: "改主意了" }), 409, "step_not_pending");
    });

    it("refuses a stepId from another order with 404", async () => {
      const other = await orderAt("pending_approval");
      await refused(
        () => decide(w.orders.pending_approval.id, { decision: "approve", approverId: w.team.manager.id, stepId: other.approval.steps[0].id }),
        404,
        "not_found",
      );
    });

    it("answers the same decision twice, naming the step, with 200 and the unchanged order", async () => {
      const order = await orderAt("pending_approval");
      const stepId = order.approval.steps[0].id;
      const first = await decide(order.id, { decision: "approve", approverId: w.team.manager.id, stepId, comment: "同意" });
      expect(first.status).toBe(200);
      expect(first.body.status).toBe("approved");
      const before = await snapshot();
      const again = await decide(order.id, { decision: "approve", approverId: w.team.manager.id, stepId, comment: "同意" });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await snapshot()).toEqual(before);
    });

    it("answers the same rejection twice with 200 and the unchanged order", async () => {
      const order = await orderAt("pending_approval");
      const stepId = order.approval.steps[0].id;
      const first = await decide(order.id, { decision: "reject", approverId: w.team.manager.id, stepId, comment: "价格太低" });
      expect(first.body).toMatchObject({ status: "rejected" });
      const before = await snapshot();
      const again = await decide(order.id, { decision: "reject", approverId: w.team.manager.id, stepId, comment: "价格太低" });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await snapshot()).toEqual(before);
      const { reserved, open } = await reservedMatchesOpenLines(t.app, w.product.id);
      expect(reserved).toBe(open);
    });

    // The double tap of a chat button or a retried ERP call carries no stepId.
    it("answers the same decision twice without a stepId with 200 and the unchanged order", async () => {
      const order = await orderAt("pending_approval");
      const first = await decide(order.id, { decision: "approve", approverId: w.team.manager.id });
      expect(first.body.status).toBe("approved");
      const before = await snapshot();
      const again = await decide(order.id, { decision: "approve", approverId: w.team.manager.id });
      expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
      expect(await snapshot()).toEqual(before);
    });
  });

  describe("fulfilment and money", () => {
    it("refuses a payment above what is outstanding with 409 overpayment", async () => {
      const order = await orderAt("approved");
      const res = await refused(
        () => api().post(`/api/v1/orders/${order.id}/payments`).set(t.apiKeyHeader).send({ amountFen: order.totalFen + 1, paidAt: PAID_AT }),
        409,
        "overpayment",
      );
      expect(res.body.error.details).toEqual({ outstandingFen: order.totalFen, amountFen: order.totalFen + 1 });
      await t.app.services.recordPayment({ orderId: order.id, amountFen: 6000, paidAt: new Date(PAID_AT) }, API_ACTOR);
      const rest = await refused(
        () => api().post(`/api/v1/orders/${order.id}/payments`).set(t.apiKeyHeader).send({ amountFen: order.totalFen - 6000 + 1, paidAt: PAID_AT }),
        409,
        "overpayment",
      );
      expect(rest.body.error.details.outstandingFen).toBe(order.totalFen - 6000);
    });

    it("refuses to ship more than was ordered with 422 quantity_exceeded naming the line", async () => {
      const packed = w.orders.packed;
      const over = await refused(
        () => api().post(orderUrl("packed", "shipments")).set(t.apiKeyHeader).send({ carrier: "顺丰", trackingNo: "SF-OVER-1", lines: [{ sku: w.product.sku, qty: 11 }] }),
        422,
        "quantity_exceeded",
        "body.lines.0.qty",
      );
      expect(over.body.error.details).toMatchObject({ sku: w.product.sku, max: packed.lines[0].qty });
      const rest = await refused(
        () =>
          api().post(orderUrl("partially_shipped", "shipments")).set(t.apiKeyHeader).send({ carrier: "顺丰", trackingNo: "SF-OVER-2", lines: [{ sku: w.product.sku, qty: 7 }] }),
        422,
        "quantity_exceeded",
        "body.lines.0.qty",
      );
      expect(rest.body.error.details.max).toBe(6);
      const split = await refused(
        () =>
          api()
            .post(orderUrl("partially_shipped", "shipments"))
            .set(t.apiKeyHeader)
            .send({ carrier: "顺丰", trackingNo: "SF-OVER-3", lines: [{ sku: w.product.sku, qty: 6 }, { sku: w.product.sku.toLowerCase(), qty: 1 }] }),
        422,
        "quantity_exceeded",
        "body.lines.1.qty",
      );
      expect(split.body.error.details.max).toBe(0);
    });

    it("refuses to record more picked than was ordered with 422 quantity_exceeded", async () => {
      await refused(
        () => api().post(orderUrl("picking", "picks")).set(t.apiKeyHeader).send({ lines: [{ sku: w.product.sku, qty: 11 }] }),
        422,
        "quantity_exceeded",
        "body.lines.0.qty",
      );
    });
  });

  describe("API key names in the audit trail", () => {
    it("lets a key with a long name decide approvals, keeping the approver in the 64-character actor", async () => {
      const { key } = await t.app.services.createApiKey("e".repeat(48));
      const order = await orderAt("pending_approval");
      const res = await api().post(`/api/v1/orders/${order.id}/approvals`).set({ Authorization: `Bearer ${key}` }).send({ decision: "approve", approverId: w.team.manager.id });
      expect({ status: res.status, orderStatus: res.body.status }).toEqual({ status: 200, orderStatus: "approved" });
      const [decided] = res.body.approval.steps[0].decisions;
      expect(decided.approverId).toBe(w.team.manager.id);
      const audit = await t.app.db.models.AuditEvent.findOne({ where: { entity: "approval_step", entityId: String(order.approval.steps[0].id) } });
      expect(audit?.actor).toMatch(new RegExp(`^api:e+>user:${w.team.manager.id}$`));
      expect(audit?.actor.length).toBeLessThanOrEqual(64);
    });

    it("lets a key with the longest allowed name place orders, and refuses longer names", async () => {
      const { key } = await t.app.services.createApiKey("k".repeat(48));
      await expect(t.app.services.createApiKey("k".repeat(49))).rejects.toMatchObject({ code: "validation_failed" });
      const res = await api().post("/api/v1/orders").set({ Authorization: `Bearer ${key}` }).send(validOrder());
      expect(res.status).toBe(201);
    });
  });

  describe("catalog and stock", () => {
    const product = (over: Record<string, unknown> = {}) => ({ sku: "BAD-1", name: "坏商品", listPriceFen: 100, ...over });
    const customer = (over: Record<string, unknown> = {}) => ({ code: "BAD-C1", name: "坏客户", ...over });

    it.each<BadBody>([
      { name: "an empty list", body: () => [], path: "body" },
      { name: "an empty object", body: () => ({}), path: "body.sku" },
      { name: "a string", body: () => ["x"], path: "body.0" },
      { name: "a sku with a space", body: () => product({ sku: "BAD 1" }), path: "body.sku" },
      { name: "a sku with a slash", body: () => product({ sku: "BAD/1" }), path: "body.sku" },
      { name: "an empty sku", body: () => product({ sku: "" }), path: "body.sku" },
      { name: "a 65-character sku", body: () => product({ sku: "S".repeat(65) }), path: "body.sku" },
      { name: "no name", body: () => ({ sku: "BAD-1", listPriceFen: 100 }), path: "body.name" },
      { name: "a 129-character name", body: () => product({ name: "名".repeat(129) }), path: "body.name" },
      { name: "no list price", body: () => ({ sku: "BAD-1", name: "x" }), path: "body.listPriceFen" },
      { name: "a negative list price", body: () => product({ listPriceFen: -1 }), path: "body.listPriceFen" },
      { name: "a fractional list price", body: () => product({ listPriceFen: 99.9 }), path: "body.listPriceFen" },
      { name: "the list price as a string", body: () => product({ listPriceFen: "100" }), path: "body.listPriceFen" },
      { name: "a list price over the maximum", body: () => product({ listPriceFen: 10_000_000_001 }), path: "body.listPriceFen" },
      { name: "a 3-character barcode", body: () => product({ barcode: "123" }), path: "body.barcode" },
      { name: "a barcode with spaces", body: () => product({ barcode: "690 123 456" }), path: "body.barcode" },
      { name: "a 17-character unit", body: () => product({ unit: "u".repeat(17) }), path: "body.unit" },
      { name: "a negative safety stock", body: () => product({ safetyStock: -1 }), path: "body.safetyStock" },
      { name: "active as a string", body: () => product({ active: "yes" }), path: "body.active" },
      { name: "an unknown field", body: () => product({ stock: 5 }), path: "body.stock" },
      { name: "a floor price above the list price", body: () => product({ floorPriceFen: 101 }), path: "body.floorPriceFen" },
      { name: "a bad price on the second item", body: () => [product({ sku: "BAD-0" }), product({ listPriceFen: -1 })], path: "body.1.listPriceFen" },
      { name: "an unknown field on the second item", body: () => [product({ sku: "BAD-0" }), product({ colour: "red" })], path: "body.1.colour" },
      { name: "a duplicate sku", body: () => [product(), product({ name: "again" })], path: "body.1.sku" },
      { name: "a duplicate sku in other case", body: () => [product({ sku: "bad-dup" }), product({ sku: "BAD-DUP" })], path: "body.1.sku" },
      { name: "a floor price above list on the second item", body: () => [product({ sku: "BAD-0" }), product({ floorPriceFen: 101 })], path: "body.1.floorPriceFen" },
      { name: "1,001 items", body: () => Array.from({ length: 1001 }, (_, i) => product({ sku: `BAD-${i}` })), path: "body" },
    ])("PUT /products refuses $name with 422 naming $path", async ({ body, path }) => {
      await refused(() => api().put("/api/v1/products").set(t.apiKeyHeader).send(body() as object), 422, "validation_failed", path);
    });

    it.each<BadBody>([
      { name: "an empty list", body: () => [], path: "body" },
      { name: "an empty object", body: () => ({}), path: "body.code" },
      { name: "a blank code", body: () => customer({ code: "  " }), path: "body.code" },
      { name: "no name", body: () => ({ code: "BAD-C1" }), path: "body.name" },
      { name: "a negative credit limit", body: () => customer({ creditLimitFen: -1 }), path: "body.creditLimitFen" },
      { name: "payment terms over a year", body: () => customer({ paymentTermsDays: 366 }), path: "body.paymentTermsDays" },
      { name: "ownerUserId as a string", body: () => customer({ ownerUserId: "3" }), path: "body.ownerUserId" },
      { name: "an unknown chat platform", body: () => customer({ chatPlatform: "slack" }), path: "body.chatPlatform" },
      { name: "a 33-character phone", body: () => customer({ phone: "1".repeat(33) }), path: "body.phone" },
      { name: "an unknown field", body: () => customer({ email: "a@b.c" }), path: "body.email" },
      { name: "an unknown owner", body: () => customer({ ownerUserId: 99_999_999 }), path: "body.ownerUserId" },
      { name: "a duplicate code", body: () => [customer(), customer({ name: "again" })], path: "body.1.code" },
    ])("PUT /customers refuses $name with 422 naming $path", async ({ body, path }) => {
      await refused(() => api().put("/api/v1/customers").set(t.apiKeyHeader).send(body() as object), 422, "validation_failed", path);
    });

    it("PUT /customers names the item whose owner is unknown", async () => {
      const body = [customer({ code: "BAD-C0", ownerUserId: w.team.rep.id }), customer({ ownerUserId: 99_999_999 })];
      await refused(() => api().put("/api/v1/customers").set(t.apiKeyHeader).send(body), 422, "validation_failed", "body.1.ownerUserId");
    });

    it.each(["/api/v1/products", "/api/v1/customers"])("GET %s refuses bad paging and search parameters with 422", async (url) => {
      for (const [query, path] of [
        ["limit=0", "query.limit"],
        ["limit=501", "query.limit"],
        ["limit=ten", "query.limit"],
        [`q=${"q".repeat(65)}`, "query.q"],
        ["q=a&q=b", "query.q"],
        ["cursor=!!!", "query.cursor"],
        [`cursor=${Buffer.from("o:x").toString("base64url")}`, "query.cursor"],
        ["page=2", "query.page"],
      ]) {
        await refused(() => api().get(`${url}?${query}`).set(t.apiKeyHeader), 422, "validation_failed", path);
      }
    });

    it.each<BadBody>([
      { name: "an empty body", body: () => ({}), path: "body.onHand" },
      { name: "a negative onHand", body: () => ({ onHand: -1 }), path: "body.onHand" },
      { name: "a fractional onHand", body: () => ({ onHand: 1.5 }), path: "body.onHand" },
      { name: "onHand as a string", body: () => ({ onHand: "5" }), path: "body.onHand" },
      { name: "onHand over a billion", body: () => ({ onHand: 1_000_000_001 }), path: "body.onHand" },
      { name: "a negative safety stock", body: () => ({ onHand: 5, safetyStock: -1 }), path: "body.safetyStock" },
      { name: "a 501-character reason", body: () => ({ onHand: 5, reason: "r".repeat(501) }), path: "body.reason" },
      { name: "reserved, which is not set by hand", body: () => ({ onHand: 5, reserved: 0 }), path: "body.reserved" },
    ])("PUT /stock/:sku refuses $name with 422 naming $path", async ({ body, path }) => {
      await refused(() => api().put(`/api/v1/stock/${w.product.sku}`).set(t.apiKeyHeader).send(body() as object), 422, "validation_failed", path);
    });

    it("answers an unknown or malformed sku on /stock with 404 or 422", async () => {
      await refused(() => api().get("/api/v1/stock/NO-SUCH-SKU").set(t.apiKeyHeader), 404, "not_found");
      await refused(() => api().put("/api/v1/stock/NO-SUCH-SKU").set(t.apiKeyHeader).send({ onHand: 5 }), 404, "not_found");
      await refused(() => api().get(`/api/v1/stock/${"S".repeat(65)}`).set(t.apiKeyHeader), 422, "validation_failed", "params.sku");
      await refused(() => api().put("/api/v1/stock/%20%20").set(t.apiKeyHeader).send({ onHand: 5 }), 422, "validation_failed", "params.sku");
    });

    it("refuses a count below what open orders hold with 409 on_hand_below_reserved", async () => {
      const stock = await api().get(`/api/v1/stock/${w.product.sku}`).set(t.apiKeyHeader);
      expect(stock.body.reserved).toBeGreaterThan(0);
      const res = await refused(
        () => api().put(`/api/v1/stock/${w.product.sku}`).set(t.apiKeyHeader).send({ onHand: stock.body.reserved - 1, reason: "盘点" }),
        409,
        "on_hand_below_reserved",
      );
      expect(res.body.error.details).toEqual({ sku: w.product.sku, onHand: stock.body.reserved - 1, reserved: stock.body.reserved });
      expect((await api().get(`/api/v1/stock/${w.product.sku}`).set(t.apiKeyHeader)).body).toEqual(stock.body);
    });
  });
});
