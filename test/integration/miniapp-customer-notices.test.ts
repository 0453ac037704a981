import crypto from "node:crypto";
import request from "supertest";
import { customerNoticeModel } from "../../src/db/models/customers";
import { buildProduct, buildTeam } from "../helpers/factories";
import { signInAs } from "../helpers/miniapp";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";

/** The order detail page shows how far each notice to the customer got: the confirmation and each shipment's. */

const tag = () => crypto.randomBytes(4).toString("hex");

describe(`mini-app order detail: notices to the customer (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const api = () => request(t.callback);

  async function drain() {
    for (let i = 0; i < 10; i++) if ((await t.app.dispatcher.runOnce()).claimed === 0) return;
  }

  /** An approved order of a customer reached in the simulator's chat, its rep, and what the outbox did with it. */
  async function confirmedOrder(reach = true) {
    const team = await buildTeam(t.app);
    const product = await buildProduct(t.app, { onHand: 50, listPriceFen: 1000 });
    const code = `MC-${tag()}`;
    const contact = reach ? { chatPlatform: "simulator", chatTarget: `customer-${tag()}` } : {};
    expect((await api().put("/api/v1/customers").set(t.apiKeyHeader).send({ code, name: `小程序客户${code}`, ownerUserId: team.rep.id, ...contact })).status).toBe(200);
    const created = await api().post("/api/v1/orders").set(t.apiKeyHeader).send({ customerCode: code, lines: [{ sku: product.sku, qty: 2 }], submit: true });
    expect(created.body.status).toBe("approved");
    await drain();
    return { team, orderId: created.body.id as number };
  }

  /** The page's notices as [what, state] pairs, read from its markup. */
  function noticesOn(html: string): Array<[string, string]> {
    const found = [...html.matchAll(/<div data-notice-state="([a-z_]+)">\s*<p class="spread"><strong>([^<]+)<\/strong>/g)];
    return found.map((m) => [m[2], m[1]]);
  }

  it("shows the order confirmation and then the shipment notice with their states, in the viewer's language", async () => {
    const { team, orderId } = await confirmedOrder();
    const rep = await signInAs(t, team.rep);

    const confirmed = await rep.agent.get(`/m/orders/${orderId}`);
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain("客户通知");
    expect(noticesOn(confirmed.text)).toEqual([["订单确认通知", "sent"]]);
    expect(confirmed.text).toContain('<span class="badge badge--notice-sent">已发送</span>');

    for (const step of ["start-picking", "pack"]) expect((await api().post(`/api/v1/orders/${orderId}/${step}`).set(t.apiKeyHeader)).status).toBe(200);
    const trackingNo = `SF${tag()}`;
    expect((await api().post(`/api/v1/orders/${orderId}/shipments`).set(t.apiKeyHeader).send({ carrier: "顺丰", trackingNo })).status).toBe(201);
    await drain();
    const shipped = await rep.agent.get(`/m/orders/${orderId}`);
    expect(noticesOn(shipped.text)).toEqual([
      ["订单确认通知", "sent"],
      [`发货通知 · 顺丰 ${trackingNo}`, "sent"],
    ]);

    // A notice still waiting for a WeCom owner's tap says so, and what it takes.
    await customerNoticeModel(t.app.db.sequelize).update({ state: "awaiting_owner", channel: "wecom_external" }, { where: { orderId, kind: "confirmed" } });
    const waiting = await rep.agent.get(`/m/orders/${orderId}`);
    expect(noticesOn(waiting.text)[0]).toEqual(["订单确认通知", "awaiting_owner"]);
    expect(waiting.text).toContain('<span class="badge badge--notice-awaiting_owner">待负责人确认</span>');
    expect(waiting.text).toContain("企业微信客户");
    expect(waiting.text).toContain("客户尚未收到：需客户负责人在企业微信「客户联系 → 群发助手」中确认发送");

    expect((await rep.agent.get("/m/lang").query({ to: "en", next: `/m/orders/${orderId}` })).status).toBe(302);
    const english = await rep.agent.get(`/m/orders/${orderId}`);
    expect(english.text).toContain("Customer notices");
    expect(noticesOn(english.text)).toEqual([
      ["Order confirmation", "awaiting_owner"],
      [`Shipment notice · 顺丰 ${trackingNo}`, "sent"],
    ]);
    expect(english.text).toContain('<span class="badge badge--notice-awaiting_owner">Awaiting owner</span>');
    expect(english.text).toContain("their owner must confirm it in WeCom");
  });

  it("shows a failed notice to the warehouse too, and no section for a customer who gets no notices", async () => {
    const { team, orderId } = await confirmedOrder();
    await customerNoticeModel(t.app.db.sequelize).update({ state: "failed", error: "wecom errcode 84061" }, { where: { orderId } });
    const warehouse = await signInAs(t, team.warehouse);
    const page = await warehouse.agent.get(`/m/orders/${orderId}`);
    expect(page.status).toBe(200);
    expect(noticesOn(page.text)).toEqual([["订单确认通知", "failed"]]);
    expect(page.text).toContain("未送达客户，请检查客户的联系方式");

    const silent = await confirmedOrder(false);
    const rep = await signInAs(t, silent.team.rep);
    const none = await rep.agent.get(`/m/orders/${silent.orderId}`);
    expect(none.status).toBe(200);
    expect(none.text).not.toContain("客户通知");
    expect(noticesOn(none.text)).toEqual([]);
  });
});
