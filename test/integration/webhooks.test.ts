import crypto from "node:crypto";
import nock from "nock";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { API_ACTOR, buildCustomer, buildProduct, buildTeam } from "../helpers/factories";

describe("webhooks to an ERP", () => {
  let t: TestApp;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({ env: { OUTBOX_BACKOFF_BASE_MS: "1", OUTBOX_BACKOFF_MAX_MS: "2" } });
    await buildTeam(t.app);
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await t.close();
  });

  it("refuses unknown events and bad URLs, creating nothing", async () => {
    await expect(t.app.services.createWebhook({ url: "ftp://erp", events: ["*"] })).rejects.toMatchObject({ code: "validation_failed", details: { path: "url" } });
    await expect(t.app.services.createWebhook({ url: "https://erp.example.com/h", events: ["order.eaten"] })).rejects.toMatchObject({ code: "validation_failed", details: { path: "events" } });
    expect(await t.app.db.models.WebhookSubscription.count()).toBe(0);
  });

  it("posts each subscribed event once, signed with the subscription's secret, retrying a failing endpoint", async () => {
    const hook = await t.app.services.createWebhook({ url: "https://erp.example.com/chatorder", events: ["order.created", "order.approved"] });
    const product = await buildProduct(t.app, { onHand: 10, listPriceFen: 100 });
    const customer = await buildCustomer(t.app);
    const received: Array<{ event: string; signature: string; body: string }> = [];
    const scope = nock("https://erp.example.com")
      .post("/chatorder")
      .reply(503)
      .post("/chatorder")
      .times(2)
      .reply(function (_uri, body) {
        received.push({ event: String(this.req.headers["x-chatorder-event"]), signature: String(this.req.headers["x-chatorder-signature"]), body: JSON.stringify(body) });
        return [200, "ok"];
      });
    const order = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api", submit: true }, API_ACTOR);
    for (let i = 0; i < 20 && received.length < 2; i++) {
      await t.app.dispatcher.runOnce();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(scope.isDone()).toBe(true);
    expect(received.map((r) => r.event).sort()).toEqual(["order.approved", "order.created"]);
    for (const r of received) {
      const [, ts, sig] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.signature)!;
      const expected = crypto.createHmac("sha256", hook.secret).update(`${ts}.${r.body}`).digest("hex");
      expect(sig).toBe(expected);
      expect(JSON.parse(r.body).order.id).toBe(order.id);
    }
    const rows = await t.app.db.models.Outbox.findAll({ where: { topic: "webhook.deliver" } });
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent"]);
  });
});
