import crypto from "node:crypto";
import request from "supertest";
import type { OrderView } from "../../src/domain/order-view";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, API_ACTOR, buildCustomer, buildProduct, buildTeam } from "../helpers/factories";

/** Master data, stock and the order list, as an ERP or WMS keeps them in step. */

const tag = () => crypto.randomBytes(4).toString("hex").toUpperCase();

describe("catalog API", () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const api = () => request(t.callback);
  const put = (url: string, body: unknown) => api().put(url).set(t.apiKeyHeader).send(body as object);
  const get = (url: string) => api().get(url).set(t.apiKeyHeader);

  /** What a refused catalog write must leave exactly as it was. */
  async function catalogState() {
    const m = t.app.db.models;
    return {
      products: (await m.Product.findAll({ order: [["id", "ASC"]] })).map((p) => [p.id, p.sku, p.name, p.barcode, p.listPriceFen, p.active]),
      customers: (await m.Customer.findAll({ order: [["id", "ASC"]] })).map((c) => [c.id, c.code, c.name, c.ownerUserId, c.creditLimitFen]),
      stock: (await m.StockLevel.findAll({ order: [["productId", "ASC"]] })).map((l) => [l.productId, l.onHand, l.reserved, l.safetyStock]),
      audit: await m.AuditEvent.count(),
    };
  }

  const auditOf = (entity: string, entityId: number | string) =>
    t.app.db.models.AuditEvent.findAll({ where: { entity, entityId: String(entityId) }, order: [["id", "ASC"]] });

  /** Every page of a list, following nextCursor; fails on a runaway loop. */
  async function allPages(url: string): Promise<{ pages: number[][]; ids: number[] }> {
    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const sep = url.includes("?") ? "&" : "?";
      const res = await get(cursor ? `${url}${sep}cursor=${encodeURIComponent(cursor)}` : url);
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((i: { id: number }) => i.id));
      cursor = res.body.nextCursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor);
    return { pages, ids: pages.flat() };
  }

  describe("PUT /products", () => {
    it("creates a product from one object, with no stock yet, and audits it", async () => {
      const sku = `P-${tag()}`;
      const res = await put("/api/v1/products", {
        sku,
        name: "N95口罩",
        barcode: `69${tag()}`,
        unit: "箱",
        category: "口罩",
        listPriceFen: 3200,
        floorPriceFen: 2800,
        safetyStock: 5,
      });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        {
          id: expect.any(Number),
          sku,
          name: "N95口罩",
          barcode: expect.stringMatching(/^69/),
          unit: "箱",
          category: "口罩",
          listPriceFen: 3200,
          floorPriceFen: 2800,
          active: true,
          stock: { onHand: 0, reserved: 0, available: 0, safetyStock: 5 },
        },
      ]);
      expect((await get(`/api/v1/stock/${sku}`)).body).toEqual({ sku, onHand: 0, reserved: 0, available: 0, safetyStock: 5 });
      expect((await auditOf("product", res.body.items[0].id)).map((a) => a.action)).toEqual(["created"]);
    });

    it("updates by sku, keeping the id and the stock, auditing only what changed", async () => {
      const sku = `P-${tag()}`;
      const created = (await put("/api/v1/products", { sku, name: "手套", listPriceFen: 1250 })).body.items[0];
      await put(`/api/v1/stock/${sku}`, { onHand: 40 });
      const res = await put("/api/v1/products", { sku, name: "丁腈手套", listPriceFen: 1300, safetyStock: 8 });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({ id: created.id, sku, name: "丁腈手套", listPriceFen: 1300, stock: { onHand: 40, reserved: 0, available: 40, safetyStock: 8 } }),
      ]);
      const audit = await auditOf("product", created.id);
      expect(audit.map((a) => a.action)).toEqual(["created", "updated"]);
      expect({ before: audit[1].before, after: audit[1].after }).toEqual({ before: { name: "手套", listPriceFen: 1250 }, after: { name: "丁腈手套", listPriceFen: 1300 } });

      const before = await catalogState();
      const same = await put("/api/v1/products", { sku, name: "丁腈手套", listPriceFen: 1300 });
      expect(same.body.items[0]).toEqual(res.body.items[0]);
      expect(await catalogState()).toEqual(before);
    });

    it("creates and updates in one array call, answering in the order sent", async () => {
      const k = tag();
      const existing = (await put("/api/v1/products", { sku: `A-${k}`, name: "旧名", listPriceFen: 100 })).body.items[0];
      const count = await t.app.db.models.Product.count();
      const res = await put("/api/v1/products", [
        { sku: `B-${k}`, name: "新品乙", listPriceFen: 200 },
        { sku: `A-${k}`, name: "新名", listPriceFen: 150 },
        { sku: `C-${k}`, name: "新品丙", listPriceFen: 300, active: false },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.items.map((p: { sku: string; name: string; active: boolean }) => [p.sku, p.name, p.active])).toEqual([
        [`B-${k}`, "新品乙", true],
        [`A-${k}`, "新名", true],
        [`C-${k}`, "新品丙", false],
      ]);
      expect(res.body.items[1].id).toBe(existing.id);
      expect(await t.app.db.models.Product.count()).toBe(count + 2);
    });

    it("refuses a barcode another product holds with 409 conflict and writes nothing of the array", async () => {
      const k = tag();
      const barcode = `69${k}`;
      await put("/api/v1/products", [
        { sku: `H-${k}`, name: "持码商品", listPriceFen: 100, barcode },
        { sku: `O-${k}`, name: "其他商品", listPriceFen: 100 },
      ]);
      const before = await catalogState();
      const res = await put("/api/v1/products", [
        { sku: `N1-${k}`, name: "新一", listPriceFen: 100 },
        { sku: `O-${k}`, name: "其他商品改名", listPriceFen: 999, barcode },
        { sku: `N2-${k}`, name: "新二", listPriceFen: 100 },
      ]);
      expect({ status: res.status, code: res.body.error?.code, details: res.body.error?.details }).toEqual({
        status: 409,
        code: "conflict",
        details: { field: "barcode" },
      });
      expect(await catalogState()).toEqual(before);
      expect((await get(`/api/v1/stock/N1-${k}`)).status).toBe(404);
      expect((await get(`/api/v1/products?q=O-${k}`)).body.items).toEqual([expect.objectContaining({ name: "其他商品", listPriceFen: 100, barcode: null })]);
    });

    it("refuses two new products sharing a barcode with 409 conflict, creating neither", async () => {
      const k = tag();
      const before = await catalogState();
      const res = await put("/api/v1/products", [
        { sku: `D1-${k}`, name: "一", listPriceFen: 100, barcode: `69${k}` },
        { sku: `D2-${k}`, name: "二", listPriceFen: 100, barcode: `69${k}` },
      ]);
      expect([res.status, res.body.error?.code]).toEqual([409, "conflict"]);
      expect(await catalogState()).toEqual(before);
    });

    it("refuses a sku twice in one array, in any case, with 422 naming the second, writing nothing", async () => {
      const k = tag();
      const before = await catalogState();
      for (const second of [`X-${k}`, `x-${k.toLowerCase()}`]) {
        const res = await put("/api/v1/products", [
          { sku: `W-${k}`, name: "好的", listPriceFen: 100 },
          { sku: `X-${k}`, name: "一", listPriceFen: 100 },
          { sku: second, name: "二", listPriceFen: 100 },
        ]);
        expect([res.status, res.body.error?.code, res.body.error?.details?.path]).toEqual([422, "validation_failed", "body.2.sku"]);
      }
      expect(await catalogState()).toEqual(before);
    });

    it("takes 1,000 items in one call and refuses 1,001 with 422, writing nothing", async () => {
      const k = tag();
      const items = (n: number) => Array.from({ length: n }, (_, i) => ({ sku: `BULK-${k}-${i}`, name: `批量${i}`, listPriceFen: 100 + i }));
      const before = await catalogState();
      const over = await put("/api/v1/products", items(1001));
      expect([over.status, over.body.error?.code, over.body.error?.details?.path]).toEqual([422, "validation_failed", "body"]);
      expect(over.body.error.message).toMatch(/1,000/);
      expect(await catalogState()).toEqual(before);

      const ok = await put("/api/v1/products", items(1000));
      expect(ok.status).toBe(200);
      expect(ok.body.items).toHaveLength(1000);
      expect(ok.body.items[999]).toMatchObject({ sku: `BULK-${k}-999`, listPriceFen: 1099 });
      expect(await t.app.db.models.Product.count()).toBe(before.products.length + 1000);
    }, 60_000);

    it("updates the product whose sku differs only in letter case", async () => {
      const sku = `P-${tag()}`;
      const created = (await put("/api/v1/products", { sku, name: "原名", listPriceFen: 100 })).body.items[0];
      const count = await t.app.db.models.Product.count();
      const res = await put("/api/v1/products", { sku: sku.toLowerCase(), name: "改名", listPriceFen: 100 });
      expect({ status: res.status, id: res.body.items?.[0]?.id, count: await t.app.db.models.Product.count() }).toEqual({ status: 200, id: created.id, count });
    });
  });

  describe("GET /products", () => {
    it("pages by cursor without duplicates or gaps", async () => {
      const k = tag();
      const created = (
        await put(
          "/api/v1/products",
          Array.from({ length: 5 }, (_, i) => ({ sku: `PG-${k}-${i}`, name: `分页${k}`, listPriceFen: 100 })),
        )
      ).body.items.map((p: { id: number }) => p.id);
      const { pages, ids } = await allPages(`/api/v1/products?q=PG-${k}&limit=2`);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(ids).toEqual([...created].sort((a, b) => a - b));
      const first = await get(`/api/v1/products?q=PG-${k}&limit=5`);
      expect(first.body.nextCursor).toBeNull();
      expect(first.body.items[0]).toEqual({
        id: created[0],
        sku: `PG-${k}-0`,
        name: `分页${k}`,
        barcode: null,
        unit: "件",
        category: null,
        listPriceFen: 100,
        floorPriceFen: null,
        active: true,
        stock: { onHand: 0, reserved: 0, available: 0, safetyStock: 0 },
      });
    });

    it("searches sku, name and barcode fragments in any letter case", async () => {
      const k = tag();
      const digits = String(crypto.randomInt(10_000_000, 99_999_999));
      const [target] = (await put("/api/v1/products", { sku: `SRCH-${k}`, name: `蓝色外科口罩${k}`, barcode: `69${digits}`, listPriceFen: 100 })).body.items;
      await put("/api/v1/products", { sku: `OTHER-${k}`, name: "别的", listPriceFen: 100 });
      for (const q of [`srch-${k.toLowerCase()}`, `色外科口罩${k}`, digits.slice(2)]) {
        const res = await get(`/api/v1/products?q=${encodeURIComponent(q)}`);
        expect({ q, ids: res.body.items.map((p: { id: number }) => p.id) }).toEqual({ q, ids: [target.id] });
      }
      expect((await get(`/api/v1/products?q=NOTHING-${k}`)).body).toEqual({ items: [], nextCursor: null });
    });
  });

  describe("PUT and GET /customers", () => {
    const full = (code: string) => ({
      code,
      name: "华东医疗器械",
      level: "A",
      creditLimitFen: 10_000_000,
      contactName: "李四",
      phone: "13800000000",
      address: "上海市浦东新区张江路 1 号",
      ownerUserId: team.rep.id,
      paymentTermsDays: 60,
      chatPlatform: "simulator",
      chatTarget: "room-1",
      active: true,
    });

    it("creates from one object, then updates by code keeping the fields the update leaves out", async () => {
      const code = `CU-${tag()}`;
      const created = await put("/api/v1/customers", full(code));
      expect(created.status).toBe(200);
      expect(created.body.items).toEqual([{ id: expect.any(Number), ...full(code), wecomExternalUserId: null, wecomOwnerUserId: null, dingtalkConversationId: null, dingtalkWebhook: null }]);
      const updated = await put("/api/v1/customers", { code, name: "华东医疗集团", creditLimitFen: null });
      expect(updated.body.items).toEqual([{ ...created.body.items[0], name: "华东医疗集团", creditLimitFen: null }]);
      const audit = await auditOf("customer", created.body.items[0].id);
      expect(audit.map((a) => a.action)).toEqual(["created", "updated"]);
      expect(audit[1].after).toEqual({ name: "华东医疗集团", creditLimitFen: null });
    });

    it("creates and updates in one array, defaulting what a new customer leaves out", async () => {
      const k = tag();
      const existing = (await put("/api/v1/customers", { code: `E-${k}`, name: "旧客户" })).body.items[0];
      const res = await put("/api/v1/customers", [
        { code: `E-${k}`, name: "老客户改名" },
        { code: `F-${k}`, name: "新客户", ownerUserId: null },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        { ...existing, name: "老客户改名" },
        {
          id: expect.any(Number),
          code: `F-${k}`,
          name: "新客户",
          level: null,
          creditLimitFen: null,
          contactName: null,
          phone: null,
          address: null,
          ownerUserId: null,
          paymentTermsDays: 30,
          chatPlatform: null,
          chatTarget: null,
          wecomExternalUserId: null,
          wecomOwnerUserId: null,
          dingtalkConversationId: null,
          dingtalkWebhook: null,
          active: true,
        },
      ]);
    });

    it("requires ownerUserId to be a user, naming it and writing nothing of the array", async () => {
      const k = tag();
      const before = await catalogState();
      const single = await put("/api/v1/customers", { code: `G-${k}`, name: "无主", ownerUserId: 99_999_999 });
      expect([single.status, single.body.error?.code, single.body.error?.details?.path]).toEqual([422, "validation_failed", "body.ownerUserId"]);
      const list = await put("/api/v1/customers", [
        { code: `G1-${k}`, name: "好的" },
        { code: `G2-${k}`, name: "无主", ownerUserId: 99_999_999 },
      ]);
      expect([list.status, list.body.error?.code]).toEqual([422, "validation_failed"]);
      expect(await catalogState()).toEqual(before);
      expect((await get(`/api/v1/customers?q=G1-${k}`)).body.items).toEqual([]);
    });

    it("refuses a code twice in one array with 422 naming the second, writing nothing", async () => {
      const k = tag();
      const before = await catalogState();
      const res = await put("/api/v1/customers", [
        { code: `H-${k}`, name: "一" },
        { code: `H-${k}`, name: "二" },
      ]);
      expect([res.status, res.body.error?.details?.path]).toEqual([422, "body.1.code"]);
      expect(await catalogState()).toEqual(before);
    });

    it("pages by cursor without duplicates or gaps and searches code or name", async () => {
      const k = tag();
      const created = (
        await put(
          "/api/v1/customers",
          Array.from({ length: 5 }, (_, i) => ({ code: `PGC-${k}-${i}`, name: `西南贸易${k}第${i}家` })),
        )
      ).body.items.map((c: { id: number }) => c.id);
      const { pages, ids } = await allPages(`/api/v1/customers?q=PGC-${k}&limit=2`);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(ids).toEqual(created);
      const byName = await get(`/api/v1/customers?q=${encodeURIComponent(`西南贸易${k}第3`)}`);
      expect(byName.body.items.map((c: { id: number }) => c.id)).toEqual([created[3]]);
      const byCode = await get(`/api/v1/customers?q=pgc-${k.toLowerCase()}-4`);
      expect(byCode.body.items.map((c: { id: number }) => c.id)).toEqual([created[4]]);
    });

    it("updates the customer whose code differs only in letter case, on every database", async () => {
      const code = `CASE-${tag()}`;
      const created = (await put("/api/v1/customers", { code, name: "原名" })).body.items[0];
      const count = await t.app.db.models.Customer.count();
      const res = await put("/api/v1/customers", { code: code.toLowerCase(), name: "改名" });
      expect({ status: res.status, id: res.body.items?.[0]?.id, count: await t.app.db.models.Customer.count() }).toEqual({ status: 200, id: created.id, count });
    });
  });

  describe("GET and PUT /stock/:sku", () => {
    it("sets a count, shows reservations of open orders, and refuses a count below them", async () => {
      const product = await buildProduct(t.app);
      const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
      const set = await put(`/api/v1/stock/${product.sku}`, { onHand: 50, safetyStock: 5, reason: "月末盘点" });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ sku: product.sku, onHand: 50, reserved: 0, available: 50, safetyStock: 5 });

      await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 8 }], submit: true, source: "api" }, API_ACTOR);
      expect((await get(`/api/v1/stock/${product.sku}`)).body).toEqual({ sku: product.sku, onHand: 50, reserved: 8, available: 42, safetyStock: 5 });

      const recount = await put(`/api/v1/stock/${product.sku}`, { onHand: 8 });
      expect(recount.body).toEqual({ sku: product.sku, onHand: 8, reserved: 8, available: 0, safetyStock: 5 });
      const before = await catalogState();
      const below = await put(`/api/v1/stock/${product.sku}`, { onHand: 7 });
      expect([below.status, below.body.error?.code]).toEqual([409, "on_hand_below_reserved"]);
      expect(await catalogState()).toEqual(before);

      const audit = await auditOf("stock", product.sku);
      expect(audit.map((a) => [a.action, a.after, a.reason])).toEqual([
        ["counted", { onHand: 50, safetyStock: 5 }, "月末盘点"],
        ["counted", { onHand: 8, safetyStock: 5 }, null],
      ]);
    });

    it("answers 404 for an unknown sku on GET and PUT, creating nothing", async () => {
      const before = await catalogState();
      for (const res of [await get("/api/v1/stock/NO-SUCH-SKU"), await put("/api/v1/stock/NO-SUCH-SKU", { onHand: 5 })]) {
        expect([res.status, res.body.error?.code]).toEqual([404, "not_found"]);
      }
      expect(await catalogState()).toEqual(before);
    });
  });

  describe("GET /orders", () => {
    interface Fixture {
      k: string;
      a: { code: string; orders: OrderView[] };
      b: { code: string; orders: OrderView[] };
    }
    let f: Fixture;

    async function setCreatedAt(orderId: number, iso: string) {
      await t.app.db.sequelize.query("UPDATE orders SET created_at = ? WHERE id = ?", { replacements: [new Date(iso), orderId] });
    }

    async function place(customerCode: string, sku: string, opts: { submit?: boolean; unitPriceFen?: number } = {}) {
      return t.app.services.placeOrder(
        { customerCode, lines: [{ sku, qty: 1, ...(opts.unitPriceFen ? { unitPriceFen: opts.unitPriceFen } : {}) }], submit: opts.submit, source: "api" },
        API_ACTOR,
      );
    }

    beforeAll(async () => {
      const k = tag();
      const product = await buildProduct(t.app, { onHand: 1000, listPriceFen: 1000 });
      await put("/api/v1/customers", [
        { code: `ORD-A-${k}`, name: `华东医疗${k}`, ownerUserId: team.rep.id },
        { code: `ORD-B-${k}`, name: `西南贸易${k}`, ownerUserId: team.rep.id },
      ]);
      const s = t.app.services;
      const a1 = await place(`ORD-A-${k}`, product.sku);
      const a2 = await place(`ORD-A-${k}`, product.sku, { submit: true });
      const a3 = await s.cancelOrder({ orderId: (await place(`ORD-A-${k}`, product.sku)).id, reason: "重复下单" }, API_ACTOR);
      const b1 = await place(`ORD-B-${k}`, product.sku, { submit: true, unitPriceFen: 900 });
      let b2 = await place(`ORD-B-${k}`, product.sku, { submit: true });
      await s.startPicking({ orderId: b2.id }, API_ACTOR);
      await s.packOrder({ orderId: b2.id }, API_ACTOR);
      b2 = await s.shipOrder({ orderId: b2.id, carrier: "顺丰", trackingNo: `SF${b2.id}` }, actorFor(team.warehouse));
      const b3 = await place(`ORD-B-${k}`, product.sku);
      // Shanghai is UTC+8: a2 is the 21st there, a3 already the 22nd.
      const createdAt: Array<[OrderView, string]> = [
        [a1, "2026-11-20T02:00:00Z"],
        [a2, "2026-11-21T15:30:00Z"],
        [a3, "2026-11-21T16:30:00Z"],
        [b1, "2026-11-22T08:00:00Z"],
        [b2, "2026-11-23T01:00:00Z"],
        [b3, "2026-11-24T03:00:00Z"],
      ];
      for (const [order, at] of createdAt) await setCreatedAt(order.id, at);
      f = { k, a: { code: `ORD-A-${k}`, orders: [a1, a2, a3] }, b: { code: `ORD-B-${k}`, orders: [b1, b2, b3] } };
      expect([a1, a2, a3, b1, b2, b3].map((o) => o.status)).toEqual(["draft", "approved", "cancelled", "pending_approval", "shipped", "draft"]);
    });

    const ids = (res: request.Response) => res.body.items.map((o: { id: number }) => o.id);
    const newestFirst = (...orders: OrderView[]) => orders.map((o) => o.id).sort((x, y) => y - x);

    it("lists one customer's orders newest first, in the summary shape", async () => {
      const res = await get(`/api/v1/orders?customerCode=${f.a.code}`);
      expect(res.status).toBe(200);
      expect(ids(res)).toEqual(newestFirst(...f.a.orders));
      expect(res.body.nextCursor).toBeNull();
      const [a1, a2] = f.a.orders;
      expect(res.body.items.find((o: { id: number }) => o.id === a2.id)).toEqual({
        id: a2.id,
        orderNo: a2.orderNo,
        status: "approved",
        source: "api",
        customer: { id: a2.customer.id, code: f.a.code, name: `华东医疗${f.k}` },
        salesRep: { id: team.rep.id, name: team.rep.name },
        totalFen: 1000,
        paidFen: 0,
        createdAt: "2026-11-21T15:30:00.000Z",
        submittedAt: a2.submittedAt,
        shippedAt: null,
      });
      expect(res.body.items.find((o: { id: number }) => o.id === a1.id).createdAt).toBe("2026-11-20T02:00:00.000Z");
    });

    it("filters by a list of statuses", async () => {
      const [a1, , a3] = f.a.orders;
      const [b1, b2, b3] = f.b.orders;
      expect(ids(await get(`/api/v1/orders?customerCode=${f.a.code}&status=draft,cancelled`))).toEqual(newestFirst(a1, a3));
      expect(ids(await get(`/api/v1/orders?q=${f.k}&status=pending_approval,shipped`))).toEqual(newestFirst(b1, b2));
      expect(ids(await get(`/api/v1/orders?q=${f.k}&status=draft`))).toEqual(newestFirst(a1, b3));
      expect(ids(await get(`/api/v1/orders?customerCode=${f.a.code}&status=completed`))).toEqual([]);
      expect(ids(await get("/api/v1/orders?customerCode=NO-SUCH-CUSTOMER"))).toEqual([]);
    });

    it("takes from and to as Shanghai days, from inclusive and to exclusive", async () => {
      const [a1, a2, a3] = f.a.orders;
      const [b1, b2, b3] = f.b.orders;
      expect(ids(await get(`/api/v1/orders?q=${f.k}&from=2026-11-22`))).toEqual(newestFirst(a3, b1, b2, b3));
      expect(ids(await get(`/api/v1/orders?q=${f.k}&to=2026-11-22`))).toEqual(newestFirst(a1, a2));
      expect(ids(await get(`/api/v1/orders?q=${f.k}&from=2026-11-22&to=2026-11-23`))).toEqual(newestFirst(a3, b1));
      expect(ids(await get(`/api/v1/orders?q=${f.k}&from=2026-11-22&status=draft`))).toEqual(newestFirst(b3));
    });

    it("takes from and to as instants with offsets", async () => {
      const [, , a3] = f.a.orders;
      const [b1] = f.b.orders;
      expect(ids(await get(`/api/v1/orders?q=${f.k}&from=2026-11-21T16:30:00Z&to=2026-11-22T08:00:00Z`))).toEqual([a3.id]);
      const plus8 = encodeURIComponent("2026-11-22T16:00:00+08:00");
      expect(ids(await get(`/api/v1/orders?q=${f.k}&from=${plus8}&to=${encodeURIComponent("2026-11-22T16:00:01+08:00")}`))).toEqual([b1.id]);
    });

    it("searches by order number prefix in any case, and by customer name or code fragment", async () => {
      const [, a2] = f.a.orders;
      expect(ids(await get(`/api/v1/orders?q=${a2.orderNo}`))).toEqual([a2.id]);
      expect(ids(await get(`/api/v1/orders?q=${a2.orderNo.toLowerCase()}`))).toEqual([a2.id]);
      const prefix = a2.orderNo.slice(0, -1);
      const expected = (await t.app.db.models.Order.findAll({ attributes: ["id", "orderNo"] }))
        .filter((o) => o.orderNo.startsWith(prefix))
        .map((o) => o.id)
        .sort((x, y) => y - x);
      expect(ids(await get(`/api/v1/orders?q=${prefix}&limit=200`))).toEqual(expected);
      expect(ids(await get(`/api/v1/orders?q=${a2.orderNo.slice(3)}`))).toEqual([]);
      expect(ids(await get(`/api/v1/orders?q=${encodeURIComponent(`华东医疗${f.k}`)}`))).toEqual(newestFirst(...f.a.orders));
      expect(ids(await get(`/api/v1/orders?q=ord-b-${f.k.toLowerCase()}`))).toEqual(newestFirst(...f.b.orders));
    });

    it("matches % and _ in q literally", async () => {
      expect(ids(await get("/api/v1/orders?q=%25"))).toEqual([]);
      expect(ids(await get("/api/v1/orders?q=SO_"))).toEqual([]);
    });

    it("pages by cursor without duplicates or gaps, with filters kept across pages", async () => {
      const product = await buildProduct(t.app, { onHand: 100 });
      const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
      const placed: OrderView[] = [];
      for (let i = 0; i < 7; i++) placed.push(await place(customer.code, product.sku, { submit: i % 3 === 0 }));
      const { pages, ids: all } = await allPages(`/api/v1/orders?customerCode=${customer.code}&limit=3`);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(all).toEqual(newestFirst(...placed));

      const drafts = placed.filter((o) => o.status === "draft");
      expect(drafts).toHaveLength(4);
      const filtered = await allPages(`/api/v1/orders?customerCode=${customer.code}&status=draft&limit=2`);
      expect(filtered.pages.map((p) => p.length)).toEqual([2, 2]);
      expect(filtered.ids).toEqual(newestFirst(...drafts));
    });

    it("keeps its place while new orders arrive between pages", async () => {
      const product = await buildProduct(t.app, { onHand: 100 });
      const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
      const placed: OrderView[] = [];
      for (let i = 0; i < 5; i++) placed.push(await place(customer.code, product.sku));
      const first = await get(`/api/v1/orders?customerCode=${customer.code}&limit=2`);
      const late = await place(customer.code, product.sku);
      const second = await get(`/api/v1/orders?customerCode=${customer.code}&limit=2&cursor=${first.body.nextCursor}`);
      const third = await get(`/api/v1/orders?customerCode=${customer.code}&limit=2&cursor=${second.body.nextCursor}`);
      expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(newestFirst(...placed));
      expect(third.body.nextCursor).toBeNull();
      expect(ids(await get(`/api/v1/orders?customerCode=${customer.code}&limit=1`))).toEqual([late.id]);
    });
  });
});
