import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { actorFor, buildCustomer, buildProduct, buildTeam } from "../helpers/factories";
import { refusalCode, signInAs } from "../helpers/miniapp";

describe("mini-app approvals inbox, warehouse and assets", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** An order of 2 + 3 units at a discount: the rep's manager must approve it. */
  async function pendingOrder() {
    const team = await buildTeam(t.app);
    const a = await buildProduct(t.app, { onHand: 20, listPriceFen: 1000 });
    const b = await buildProduct(t.app, { onHand: 20, listPriceFen: 500 });
    const customer = await buildCustomer(t.app, { level: "VIP" });
    const order = await t.app.services.placeOrder(
      { customerCode: customer.code, lines: [{ sku: a.sku, qty: 2, unitPriceFen: 900 }, { sku: b.sku, qty: 3 }], submit: true, source: "api" },
      actorFor(team.rep),
    );
    return { team, order, a, b };
  }

  async function approved() {
    const p = await pendingOrder();
    await t.app.services.decideApproval({ orderId: p.order.id, decision: "approve" }, actorFor(p.team.manager));
    return p;
  }

  it("lists what waits for the manager and approves it from the inbox", async () => {
    const { team, order } = await pendingOrder();
    const m = await signInAs(t, team.manager);
    const inbox = await m.agent.get("/m/approvals");
    expect(inbox.text).toContain(order.orderNo);
    expect(inbox.text).toContain("低于标价");
    const res = await m.agent.post(`/m/orders/${order.id}/decision`).type("form").send({ _csrf: m.csrf, decision: "approve", comment: "好", next: "/m/approvals" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/m/approvals?done=approved");
    expect((await t.app.services.loadOrderView(order.id)).status).toBe("approved");
    expect((await m.agent.get("/m/approvals")).text).not.toContain(order.orderNo);
    // The rep's inbox never had it.
    const rep = await signInAs(t, team.rep);
    expect((await rep.agent.get("/m/approvals")).text).toContain("没有等待您审批的订单");
  });

  it("refuses a rejection without a reason with 422 and changes nothing", async () => {
    const { team, order } = await pendingOrder();
    const m = await signInAs(t, team.manager);
    const res = await m.agent.post(`/m/orders/${order.id}/decision`).type("form").send({ _csrf: m.csrf, decision: "reject", comment: "" });
    expect(res.status).toBe(422);
    expect(res.text).toContain("输入有误");
    const bad = await m.agent.post(`/m/orders/${order.id}/decision`).type("form").send({ _csrf: m.csrf, decision: "maybe" });
    expect(bad.status).toBe(422);
    expect((await t.app.services.loadOrderView(order.id)).status).toBe("pending_approval");
  });

  it("does not let the warehouse approve, nor a rep open the warehouse", async () => {
    const { team, order } = await pendingOrder();
    const wh = await signInAs(t, team.warehouse);
    const res = await wh.agent.post(`/m/orders/${order.id}/decision`).type("form").send({ _csrf: wh.csrf, decision: "approve" });
    expect(res.status).toBe(403);
    expect(refusalCode(res.text)).toBe("not_an_approver");
    expect((await t.app.services.loadOrderView(order.id)).status).toBe("pending_approval");
    const rep = await signInAs(t, team.rep);
    expect((await rep.agent.get("/m/warehouse")).status).toBe(403);
    expect((await rep.agent.get(`/m/warehouse/orders/${order.id}`)).status).toBe(403);
    const ship = await rep.agent.post(`/m/warehouse/orders/${order.id}/start`).type("form").send({ _csrf: rep.csrf });
    expect(ship.status).toBe(403);
  });

  it("queues approved orders oldest first with priority customers flagged, then picks, packs and ships in two parcels", async () => {
    const { team, order, a, b } = await approved();
    const wh = await signInAs(t, team.warehouse);
    const queue = await wh.agent.get("/m/warehouse");
    expect(queue.text).toContain(order.orderNo);
    expect(queue.text).toContain("badge--priority");
    const base = `/m/warehouse/orders/${order.id}`;
    expect((await wh.agent.post(`${base}/start`).type("form").send({ _csrf: wh.csrf })).headers.location).toBe(`${base}?done=picking`);
    const screen = await wh.agent.get(base);
    const [lineA, lineB] = (await t.app.services.loadOrderView(order.id)).lines;
    expect(screen.text).toContain(`name="qty_${lineA.id}"`);

    const tooMany = await wh.agent.post(`${base}/picks`).type("form").send({ _csrf: wh.csrf, [`qty_${lineA.id}`]: "5", [`qty_${lineB.id}`]: "3" });
    expect(tooMany.status).toBe(422);
    const notNumber = await wh.agent.post(`${base}/picks`).type("form").send({ _csrf: wh.csrf, [`qty_${lineA.id}`]: "two" });
    expect(notNumber.status).toBe(422);
    expect((await t.app.services.loadOrderView(order.id)).lines.map((l) => l.pickedQty)).toEqual([0, 0]);

    const packed = await wh.agent.post(`${base}/picks`).type("form").send({ _csrf: wh.csrf, [`qty_${lineA.id}`]: "2", [`qty_${lineB.id}`]: "3", pack: "1" });
    expect(packed.headers.location).toBe(`${base}?done=packed`);

    const badTracking = await wh.agent.post(`${base}/ship`).type("form").send({ _csrf: wh.csrf, carrier: "顺丰", trackingNo: "<x>", [`qty_${lineA.id}`]: "2" });
    expect(badTracking.status).toBe(422);
    const partial = await wh.agent.post(`${base}/ship`).type("form").send({ _csrf: wh.csrf, carrier: "顺丰", trackingNo: "SF100", [`qty_${lineA.id}`]: "2", [`qty_${lineB.id}`]: "0" });
    expect(partial.status).toBe(302);
    expect((await t.app.services.loadOrderView(order.id)).status).toBe("partially_shipped");
    await wh.agent.post(`${base}/ship`).type("form").send({ _csrf: wh.csrf, carrier: "顺丰", trackingNo: "SF101", [`qty_${lineB.id}`]: "3" });
    const view = await t.app.services.loadOrderView(order.id);
    expect(view.status).toBe("shipped");
    expect(view.shipments.map((s) => s.trackingNo)).toEqual(["SF100", "SF101"]);

    const slip = await wh.agent.get(`${base}/slip`);
    expect(slip.status).toBe(200);
    expect(slip.text).toContain(a.sku);
    expect(slip.text).toContain(b.sku);
    // Shipped: the rep can no longer cancel or edit it.
    const rep = await signInAs(t, team.rep);
    const detail = await rep.agent.get(`/m/orders/${order.id}`);
    expect(detail.text).toContain("SF101");
    expect(detail.text).not.toContain(`/m/orders/${order.id}/cancel`);
    expect((await rep.agent.post(`/m/orders/${order.id}/cancel`).type("form").send({ _csrf: rep.csrf, reason: "x" })).status).toBe(409);
  });

  it("serves hashed assets for a year, and a page loads under 100 KB of JS and CSS gzipped", async () => {
    const { team } = await pendingOrder();
    const wh = await signInAs(t, team.warehouse);
    const { order } = await approved();
    await t.app.services.startPicking({ orderId: order.id }, actorFor(team.warehouse));
    const page = await wh.agent.get(`/m/warehouse/orders/${order.id}`);
    const urls = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    // A WeCom or DingTalk user's scan pages also load that platform's SDK: count the larger of the two.
    const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../dist/assets/manifest.json"), "utf8"));
    const sdk: string[] = ["wecom", "dingtalk"].map((e) => `/assets/${manifest[e]}`);
    let sdkMax = 0;
    let gzipped = 0;
    for (const url of urls) {
      const res = await request(t.callback).get(url).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => cb(null, Buffer.concat(chunks)));
      });
      expect(res.status).toBe(200);
      expect(res.headers["cache-control"]).toContain("immutable");
      gzipped += zlib.gzipSync(res.body as Buffer).length;
    }
    for (const url of sdk) sdkMax = Math.max(sdkMax, zlib.gzipSync(fs.readFileSync(path.resolve(__dirname, "../../dist", url.slice(1)))).length);
    expect(gzipped + sdkMax).toBeLessThan(100 * 1024);
    expect((await request(t.callback).get("/assets/nope.js")).status).toBe(404);
  });
});
