import crypto from "node:crypto";
import nock from "nock";
import pino from "pino";
import { Op } from "sequelize";
import request from "supertest";
import { createMemoryCache } from "../../src/cache/memory";
import { ChannelError } from "../../src/channels/channel";
import { createWecomChannel, msgTemplateCapSince, msgTemplateCapWait } from "../../src/channels/wecom";
import { MSG_TEMPLATE_PATH } from "../../src/channels/wecom/external-contacts";
import { customerNoticeModel } from "../../src/db/models/customers";
import { shipmentNoticeCard } from "../../src/domain/cards";
import { createDeliverers } from "../../src/outbox/deliver";
import { createDispatcher } from "../../src/outbox/dispatcher";
import { enqueue } from "../../src/services/enqueue";
import { buildOrderView } from "../helpers/order-view-fixture";
import { buildProduct, buildTeam } from "../helpers/factories";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";

/** Customers as WeCom external contacts (wecom.md 7.2), robot pacing (7.3) and per-member pacing (3.3). */

const API = "https://wecom.test";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const CST = 8 * HOUR;
const tag = () => crypto.randomBytes(4).toString("hex");
/** The first instant of the next natural day in China. */
const nextCstDay = (ms: number) => Math.floor((ms + CST) / DAY) * DAY - CST + DAY;

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const wecom = testWecomConfig();
const wecomEnv = {
  WECOM_CORP_ID: wecom.corpId,
  WECOM_AGENT_ID: String(wecom.agentId),
  WECOM_SECRET: wecom.secret,
  WECOM_TOKEN: wecom.token,
  WECOM_AES_KEY: wecom.aesKey,
  WECOM_API_BASE: API,
};

/** WeCom's gettoken, answered as often as asked: token handling has tests of its own. */
const tokens = () => nock(API).persist().get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, errmsg: "ok", access_token: "TOKEN", expires_in: 7200 });

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** An app with WeCom configured, and what these tests do with it. */
function harness() {
  const h = {} as {
    t: TestApp;
    team: Awaited<ReturnType<typeof buildTeam>>;
  };
  beforeAll(async () => {
    h.t = await createTestApp({ env: wecomEnv });
    h.team = await buildTeam(h.t.app);
  });
  beforeEach(() => {
    nock.cleanAll();
    tokens();
  });
  afterAll(() => h.t.close());

  const api = () => request(h.t.callback);
  const put = (body: unknown) => api().put("/api/v1/customers").set(h.t.apiKeyHeader).send(body as object);

  /**
   * A packed order of this customer shipped whole: the shipment enqueues customer.notify. The order's
   * confirmed notice, written when it was approved, is dropped unless `keepConfirmed`: those have tests
   * of their own, and left in it would take the customer's one mass-send task of the day ahead of the
   * shipment notice these tests are about.
   */
  async function shippedOrder(customerCode: string, opts: { keepConfirmed?: boolean } = {}) {
    const product = await buildProduct(h.t.app, { onHand: 100, listPriceFen: 1000 });
    const created = await api().post("/api/v1/orders").set(h.t.apiKeyHeader).send({ customerCode, lines: [{ sku: product.sku, qty: 2 }], submit: true });
    expect(created.body.status).toBe("approved");
    const id = created.body.id as number;
    if (!opts.keepConfirmed) await h.t.app.db.models.Outbox.destroy({ where: { dedupeKey: `customer.notify:confirmed:${id}` } });
    return { orderId: id, orderNo: created.body.orderNo as string, ...(await ship(id)) };
  }

  /** Picks, packs and ships an approved order whole (顺丰, a fresh tracking number). */
  async function ship(id: number) {
    await api().post(`/api/v1/orders/${id}/start-picking`).set(h.t.apiKeyHeader).expect(200);
    await api().post(`/api/v1/orders/${id}/pack`).set(h.t.apiKeyHeader).expect(200);
    const trackingNo = `SF${tag()}`;
    const shipped = await api().post(`/api/v1/orders/${id}/shipments`).set(h.t.apiKeyHeader).send({ carrier: "顺丰", trackingNo });
    expect(shipped.status).toBe(201);
    return { shipmentId: shipped.body.shipments[0].id as number, trackingNo };
  }

  /**
   * An order of this customer with two lines (2 × ¥10.00 and 3 × ¥25.50): approved at once, or
   * (`pending`) waiting for the rep's manager because its first line is 10% below list price.
   */
  async function confirmableOrder(customerCode: string, opts: { pending?: boolean } = {}) {
    const a = await buildProduct(h.t.app, { onHand: 100, listPriceFen: 1000 });
    const b = await buildProduct(h.t.app, { onHand: 100, listPriceFen: 2550 });
    const lines = [{ sku: a.sku, qty: 2, ...(opts.pending ? { unitPriceFen: 900 } : {}) }, { sku: b.sku, qty: 3 }];
    const created = await api().post("/api/v1/orders").set(h.t.apiKeyHeader).send({ customerCode, lines, submit: true });
    expect(created.body.status).toBe(opts.pending ? "pending_approval" : "approved");
    return { orderId: created.body.id as number, orderNo: created.body.orderNo as string, names: [a.name, b.name] as [string, string] };
  }

  async function customer(fields: Record<string, unknown>) {
    const res = await put({ code: `WX-${tag()}`, name: `企微客户${tag()}`, ownerUserId: h.team.rep.id, ...fields });
    expect(res.status).toBe(200);
    return res.body.items[0] as { id: number; code: string; name: string };
  }

  async function member(platformUserId: string, locale = "zh-CN") {
    return h.t.app.db.models.User.create({ platform: "wecom", platformUserId, name: platformUserId, mobile: null, roles: ["sales"], managerId: null, department: null, locale });
  }

  const outboxRow = (dedupeKey: string) => h.t.app.db.models.Outbox.findOne({ where: { dedupeKey } });
  const notice = (dedupeKey: string) => customerNoticeModel(h.t.app.db.sequelize).findOne({ where: { dedupeKey } });

  /**
   * The app's outbox with its own clock, and a memory cache on that clock for the rate buckets, so a
   * test can walk through a minute without waiting one.
   */
  function clockedOutbox(start = Date.now() + 1000) {
    let clock = start;
    const now = () => new Date(clock);
    const cache = createMemoryCache(() => clock);
    const { db, services, channels } = h.t.app;
    const deliverers = createDeliverers({ db, cache, services, channels, now, ratePerSec: () => 1000, maxAttempts: 3 });
    const opts = { batchSize: 100, leaseMs: 60_000, maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 5, pollMs: 10, name: `clocked-${tag()}` };
    const dispatcher = createDispatcher({ db, cache, log: pino({ level: "silent" }), now, deliverers }, opts);
    return { runOnce: () => dispatcher.runOnce(), advance: (ms: number) => void (clock += ms), now };
  }

  return Object.assign(h, { api, put, shippedOrder, ship, confirmableOrder, customer, member, outboxRow, notice, clockedOutbox });
}

describe(`PUT /api/v1/customers with WeCom contacts (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  const h = harness();

  async function customersState() {
    const rows = await h.t.app.db.models.Customer.findAll({ order: [["id", "ASC"]] });
    return {
      customers: rows.map((c) => [c.id, c.code, c.name, c.chatPlatform, c.chatTarget, c.wecomExternalUserId, c.wecomOwnerUserId]),
      audit: await h.t.app.db.models.AuditEvent.count(),
    };
  }

  it("stores an external contact with its owner beside the robot target, returns both from GET, and clears them together", async () => {
    const code = `WX-${tag()}`;
    const robot = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${tag()}`;
    const body = { code, name: "华东医疗", chatPlatform: "wecom", chatTarget: robot, wecomExternalUserId: "wmAbC-123_xyz", wecomOwnerUserId: "zhang.san@corp" };
    const saved = await h.put(body);
    expect(saved.status).toBe(200);
    expect(saved.body.items[0]).toMatchObject(body);
    const listed = await h.api().get(`/api/v1/customers?q=${code}`).set(h.t.apiKeyHeader);
    expect(listed.body.items).toEqual([saved.body.items[0]]);

    const renamed = await h.put({ code, name: "华东医疗集团" });
    expect(renamed.body.items[0]).toMatchObject({ wecomExternalUserId: "wmAbC-123_xyz", wecomOwnerUserId: "zhang.san@corp" });
    const cleared = await h.put({ code, name: "华东医疗集团", wecomExternalUserId: null, wecomOwnerUserId: null });
    expect(cleared.body.items[0]).toMatchObject({ chatTarget: robot, wecomExternalUserId: null, wecomOwnerUserId: null });
  });

  it.each([
    ["an external_userid with a space", { wecomExternalUserId: "wm abc", wecomOwnerUserId: "zhangsan" }, "body.wecomExternalUserId"],
    ["an external_userid over 64 characters", { wecomExternalUserId: `wm${"x".repeat(63)}`, wecomOwnerUserId: "zhangsan" }, "body.wecomExternalUserId"],
    ["an owner userid in Chinese", { wecomExternalUserId: "wmAbc", wecomOwnerUserId: "张三" }, "body.wecomOwnerUserId"],
    ["an empty owner userid", { wecomExternalUserId: "wmAbc", wecomOwnerUserId: "" }, "body.wecomOwnerUserId"],
    ["an owner userid that is a number", { wecomExternalUserId: "wmAbc", wecomOwnerUserId: 42 }, "body.wecomOwnerUserId"],
    ["an external contact without its owner", { wecomExternalUserId: "wmAbc" }, "body.wecomOwnerUserId"],
    ["an owner without an external contact", { wecomOwnerUserId: "zhangsan" }, "body.wecomExternalUserId"],
  ])("answers 422 naming the field for %s, and changes nothing", async (_what, fields, path) => {
    const before = await customersState();
    const res = await h.put({ code: `WX-${tag()}`, name: "不该出现", ...fields });
    expect([res.status, res.body.error?.code, res.body.error?.details?.path]).toEqual([422, "validation_failed", path]);
    expect(await customersState()).toEqual(before);
  });

  it("refuses clearing the owner of a stored contact, and a bad item in an array, writing nothing", async () => {
    const stored = await h.customer({ wecomExternalUserId: "wmKeep", wecomOwnerUserId: "zhangsan" });
    const before = await customersState();
    const single = await h.put({ code: stored.code, name: stored.name, wecomOwnerUserId: null });
    expect([single.status, single.body.error?.details?.path]).toEqual([422, "body.wecomOwnerUserId"]);
    const list = await h.put([
      { code: `WX-${tag()}`, name: "好的", wecomExternalUserId: "wmGood", wecomOwnerUserId: "lisi" },
      { code: `WX-${tag()}`, name: "坏的", wecomExternalUserId: "wm/bad", wecomOwnerUserId: "lisi" },
    ]);
    expect([list.status, list.body.error?.details?.path]).toEqual([422, "body.1.wecomExternalUserId"]);
    expect(await customersState()).toEqual(before);
  });
});

describe(`customer notices to WeCom external contacts (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  const h = harness();

  /** Runs the app's dispatcher until nothing due is left. */
  async function drain() {
    for (let i = 0; i < 10; i++) if ((await h.t.app.dispatcher.runOnce()).claimed === 0) return;
  }

  it("asks WeCom for a mass-send task from the owner, records its msgid, and tells the owner to confirm it", async () => {
    const owner = await h.member(`zhang${tag()}`);
    const ext = `wm${tag()}EXT`;
    // A robot target too: the external contact wins, and no robot is called.
    const c = await h.customer({ chatPlatform: "wecom", chatTarget: `${API}/cgi-bin/webhook/send?key=unused`, wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId.toUpperCase() });
    const order = await h.shippedOrder(c.code);
    const key = `customer.notify:shipment:${order.shipmentId}`;

    const tasks: Body[] = [];
    const scope = nock(API)
      .post(MSG_TEMPLATE_PATH, (b: Body) => tasks.push(b) > 0).query({ access_token: "TOKEN" })
      .reply(200, { errcode: 0, errmsg: "ok", fail_list: [], msgid: "msgGCAAAXtWyujaWJHDDGi0mAAAA" });
    await h.t.app.dispatcher.runOnce();
    expect(scope.isDone()).toBe(true);
    expect(tasks).toEqual([
      {
        chat_type: "single",
        external_userid: [ext],
        sender: owner.platformUserId.toUpperCase(),
        allow_select: false,
        text: { content: expect.stringContaining(order.orderNo) },
      },
    ]);
    const content = tasks[0].text.content as string;
    expect(content).toContain(`顺丰 ${order.trackingNo}`);
    expect(content).not.toMatch(/[<>*]|¥|元/); // plain text, and no prices leave the company

    expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msgGCAAAXtWyujaWJHDDGi0mAAAA", channel: "wecom_external", target: ext, error: null });
    expect(await h.outboxRow(key)).toMatchObject({ status: "sent", platformRef: { messageId: "msgGCAAAXtWyujaWJHDDGi0mAAAA" } });
    const ask = await h.outboxRow(`chat.text:${key}:owner`);
    expect(ask).toMatchObject({ topic: "chat.text", status: "pending", payload: { userId: owner.id, text: expect.stringContaining(order.orderNo) } });
    expect((ask!.payload as { text: string }).text).toContain("群发助手");

    const detail = await h.api().get(`/api/v1/orders/${order.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices).toEqual([
      {
        id: expect.any(Number),
        kind: "shipment",
        shipmentId: order.shipmentId,
        channel: "wecom_external",
        target: ext,
        msgid: "msgGCAAAXtWyujaWJHDDGi0mAAAA",
        state: "awaiting_owner",
        error: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);

    // The owner's text leaves through the normal outbox, as an app message to them.
    const texts: Body[] = [];
    const told = nock(API).post("/cgi-bin/message/send", (b: Body) => texts.push(b) > 0).query({ access_token: "TOKEN" }).reply(200, { errcode: 0, msgid: "m-owner" });
    await drain();
    expect(told.isDone()).toBe(true);
    expect(texts).toEqual([{ touser: owner.platformUserId, agentid: wecom.agentId, msgtype: "text", text: { content: (ask!.payload as { text: string }).text } }]);
    expect(await h.outboxRow(`chat.text:${key}:owner`)).toMatchObject({ status: "sent" });
  });

  it("writes the owner's text in their language, and notes it when the owner is not a ChatOrder user", async () => {
    const owner = await h.member(`en${tag()}`, "en");
    const a = await h.customer({ wecomExternalUserId: `wm${tag()}A`, wecomOwnerUserId: owner.platformUserId });
    const b = await h.customer({ wecomExternalUserId: `wm${tag()}B`, wecomOwnerUserId: "nobody-here" });
    const first = await h.shippedOrder(a.code);
    const second = await h.shippedOrder(b.code);
    const scope = nock(API).post(MSG_TEMPLATE_PATH).query(true).times(2).reply(200, { errcode: 0, errmsg: "ok", msgid: "msg-x" });
    await h.t.app.dispatcher.runOnce();
    expect(scope.isDone()).toBe(true);
    const ask = await h.outboxRow(`chat.text:customer.notify:shipment:${first.shipmentId}:owner`);
    expect((ask!.payload as { text: string }).text).toMatch(/^A shipment notice for order .* Group Message Assistant\.$/);
    expect(await h.notice(`customer.notify:shipment:${second.shipmentId}`)).toMatchObject({
      state: "awaiting_owner",
      error: expect.stringContaining("nobody-here"),
    });
    expect(await h.outboxRow(`chat.text:customer.notify:shipment:${second.shipmentId}:owner`)).toBeNull();
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it.each([
    ["a frequency-limit errcode (45009)", () => ({ errcode: 45009, errmsg: "api freq out of limit" }), /errcode 45009/],
    ["errcode 0 with the customer in fail_list", (ext: string) => ({ errcode: 0, errmsg: "ok", fail_list: [ext], msgid: "msg-empty" }), /fail_list/],
  ])("queues the notice when WeCom answers with %s, retries it tomorrow, then completes it", async (_what, answer, error) => {
    const owner = await h.member(`cap${tag()}`);
    const ext = `wm${tag()}CAP`;
    const c = await h.customer({ wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId });
    const order = await h.shippedOrder(c.code);
    const key = `customer.notify:shipment:${order.shipmentId}`;

    const capped = nock(API).post(MSG_TEMPLATE_PATH).query(true).reply(200, answer(ext));
    await h.t.app.dispatcher.runOnce();
    expect(capped.isDone()).toBe(true);
    const row = await h.outboxRow(key);
    expect(row).toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringMatching(error) });
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(nextCstDay(Date.now()));
    expect(await h.notice(key)).toMatchObject({ state: "queued", msgid: null, error: expect.stringMatching(error), acceptedAt: null });
    expect(await h.outboxRow(`chat.text:${key}:owner`)).toBeNull();

    // Tomorrow: the task is made, and the owner is asked.
    await row!.update({ nextAttemptAt: new Date() });
    const ok = nock(API).post(MSG_TEMPLATE_PATH).query(true).reply(200, { errcode: 0, errmsg: "ok", fail_list: [], msgid: "msg-later" });
    await h.t.app.dispatcher.runOnce();
    expect(ok.isDone()).toBe(true);
    expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msg-later", error: null });
    expect(await h.outboxRow(`chat.text:${key}:owner`)).not.toBeNull();
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("holds a second notice to the same customer on the same day without asking WeCom, and says why", async () => {
    const owner = await h.member(`twice${tag()}`);
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}TWO`, wecomOwnerUserId: owner.platformUserId });
    const first = await h.shippedOrder(c.code);
    const once = nock(API).post(MSG_TEMPLATE_PATH).query(true).once().reply(200, { errcode: 0, errmsg: "ok", msgid: "msg-1" });
    await h.t.app.dispatcher.runOnce();
    expect(once.isDone()).toBe(true);
    expect(await h.notice(`customer.notify:shipment:${first.shipmentId}`)).toMatchObject({ state: "awaiting_owner" });
    // Shipped after the day's task was made: nothing to join it to, so it waits for tomorrow.
    const second = await h.shippedOrder(c.code);
    await h.t.app.dispatcher.runOnce();
    const held = await h.outboxRow(`customer.notify:shipment:${second.shipmentId}`);
    // Deferred, not failed: no attempt is spent while it waits.
    expect(held).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    expect(held!.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(nextCstDay(Date.now()));
    expect(await h.notice(`customer.notify:shipment:${second.shipmentId}`)).toMatchObject({ state: "queued", error: expect.stringContaining("per-customer cap") });
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("waits while another dispatcher is sending to the same customer, so both cannot fit under the cap", async () => {
    const owner = await h.member(`lock${tag()}`);
    const ext = `wm${tag()}LOCK`;
    const c = await h.customer({ wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId });
    const order = await h.shippedOrder(c.code);
    const key = `customer.notify:shipment:${order.shipmentId}`;
    const other = await h.t.app.cache.acquireLock(`customer-notice:wecom:${ext}`, 60_000);
    await h.t.app.dispatcher.runOnce(); // no WeCom call is declared: one would fail the row
    expect(await h.outboxRow(key)).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    expect(await h.notice(key)).toMatchObject({ state: "queued" });

    await h.t.app.cache.releaseLock(`customer-notice:wecom:${ext}`, other!);
    await (await h.outboxRow(key))!.update({ nextAttemptAt: new Date() });
    const scope = nock(API).post(MSG_TEMPLATE_PATH).query(true).reply(200, { errcode: 0, errmsg: "ok", msgid: "msg-after" });
    await h.t.app.dispatcher.runOnce();
    expect(scope.isDone()).toBe(true);
    expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msg-after" });
    // Released once recorded: nobody is left waiting on it.
    expect(await h.t.app.cache.acquireLock(`customer-notice:wecom:${ext}`, 1000)).not.toBeNull();
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("marks the notice failed when WeCom refuses it for good (84061 no relationship)", async () => {
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}GONE`, wecomOwnerUserId: "zhangsan" });
    const order = await h.shippedOrder(c.code);
    const key = `customer.notify:shipment:${order.shipmentId}`;
    const scope = nock(API).post(MSG_TEMPLATE_PATH).query(true).reply(200, { errcode: 84061, errmsg: "not external contact" });
    await h.t.app.dispatcher.runOnce();
    expect(scope.isDone()).toBe(true);
    expect(await h.outboxRow(key)).toMatchObject({ status: "dead" });
    expect(await h.notice(key)).toMatchObject({ state: "failed", error: expect.stringContaining("errcode 84061") });
    const detail = await h.api().get(`/api/v1/orders/${order.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices).toEqual([expect.objectContaining({ state: "failed" })]);
  });

  it("marks the notice failed when the outbox gives up after its last attempt", async () => {
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}BUSY`, wecomOwnerUserId: "zhangsan" });
    const order = await h.shippedOrder(c.code);
    const key = `customer.notify:shipment:${order.shipmentId}`;
    const outbox = h.clockedOutbox();
    const refusing = nock(API).post(MSG_TEMPLATE_PATH).query(true).times(3).reply(200, { errcode: -1, errmsg: "system busy" });
    for (let i = 0; i < 3; i++) {
      await outbox.runOnce();
      expect(await h.notice(key)).toMatchObject({ state: i < 2 ? "queued" : "failed", error: expect.stringContaining("errcode -1") });
      outbox.advance(60_000);
    }
    expect(refusing.isDone()).toBe(true);
    expect(await h.outboxRow(key)).toMatchObject({ status: "dead", attempts: 3 });
  });
});

describe(`order-confirmed notices to customers (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  const h = harness();

  /** Runs the app's dispatcher until nothing due is left. */
  async function drain() {
    for (let i = 0; i < 10; i++) if ((await h.t.app.dispatcher.runOnce()).claimed === 0) return;
  }

  /** add_msg_template answered with `msgid`, every body kept in `tasks`. */
  function msgTemplate(tasks: Body[], msgid = `msg${tag()}`, times = 1) {
    return nock(API).post(MSG_TEMPLATE_PATH, (b: Body) => tasks.push(b) > 0).query({ access_token: "TOKEN" }).times(times).reply(200, { errcode: 0, errmsg: "ok", fail_list: [], msgid });
  }

  it("asks the owner to confirm a mass-send task telling the customer the order number, items, total in yuan and what happens next", async () => {
    const owner = await h.member(`conf${tag()}`);
    const ext = `wm${tag()}CONF`;
    const c = await h.customer({ wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId });
    const order = await h.confirmableOrder(c.code);
    const key = `customer.notify:confirmed:${order.orderId}`;
    // Written with the approval, in its transaction.
    expect(await h.outboxRow(key)).toMatchObject({ topic: "customer.notify", status: "pending", payload: { kind: "confirmed", orderId: order.orderId } });

    const tasks: Body[] = [];
    const scope = msgTemplate(tasks, "msgCONFIRMED");
    await h.t.app.dispatcher.runOnce();
    expect(scope.isDone()).toBe(true);
    expect(tasks).toEqual([{ chat_type: "single", external_userid: [ext], sender: owner.platformUserId, allow_select: false, text: { content: expect.any(String) } }]);
    expect((tasks[0].text.content as string).split("\n")).toEqual([
      "您的订单已确认",
      c.name,
      `订单号：${order.orderNo}`,
      "合计：¥96.50", // 2 × 1,000 + 3 × 2,550 fen
      expect.stringMatching(/^确认时间：\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}$/),
      `- ${order.names[0]} 2件`,
      `- ${order.names[1]} 3件`,
      "我们将尽快为您备货发货，发货后会再通知您物流公司和运单号。",
    ]);

    expect(await h.notice(key)).toMatchObject({ kind: "confirmed", shipmentId: null, state: "awaiting_owner", msgid: "msgCONFIRMED", channel: "wecom_external", target: ext, error: null });
    const ask = await h.outboxRow(`chat.text:${key}:owner`);
    expect(ask!.payload).toEqual({
      userId: owner.id,
      text: `给客户「${c.name}」的订单 ${order.orderNo} 订单确认通知已生成企业微信群发任务，需要你确认后才会发出：请在企业微信「客户联系 → 群发助手」中点击发送。`,
    });

    const detail = await h.api().get(`/api/v1/orders/${order.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices).toEqual([
      {
        id: expect.any(Number),
        kind: "confirmed",
        shipmentId: null,
        channel: "wecom_external",
        target: ext,
        msgid: "msgCONFIRMED",
        state: "awaiting_owner",
        error: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("writes the owner's prompt in English when the owner reads English, and the customer's confirmation in Chinese", async () => {
    const owner = await h.member(`enconf${tag()}`, "en");
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}EN`, wecomOwnerUserId: owner.platformUserId });
    const order = await h.confirmableOrder(c.code);
    const tasks: Body[] = [];
    msgTemplate(tasks);
    await h.t.app.dispatcher.runOnce();
    const content = tasks[0].text.content as string;
    // The customer record has no language, and the owner's own screens say nothing about the customer's.
    expect(content.split("\n").slice(0, 4)).toEqual(["您的订单已确认", c.name, `订单号：${order.orderNo}`, "合计：¥96.50"]);
    expect(content.endsWith("我们将尽快为您备货发货，发货后会再通知您物流公司和运单号。")).toBe(true);
    const ask = await h.outboxRow(`chat.text:customer.notify:confirmed:${order.orderId}:owner`);
    expect((ask!.payload as { text: string }).text).toBe(
      `An order confirmation for order ${order.orderNo} to customer ${c.name} is waiting for you: WeCom sends it only after you confirm it under Customer Contact → Group Message Assistant.`,
    );
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("posts the confirmation to the customer's group robot instead, with no owner to ask", async () => {
    const robotKey = `robot-${tag()}`;
    const c = await h.customer({ chatPlatform: "wecom", chatTarget: `${API}/cgi-bin/webhook/send?key=${robotKey}` });
    const order = await h.confirmableOrder(c.code);
    const key = `customer.notify:confirmed:${order.orderId}`;
    const posts: Body[] = [];
    const robot = nock(API).post("/cgi-bin/webhook/send", (b: Body) => posts.push(b) > 0).query({ key: robotKey }).reply(200, { errcode: 0, errmsg: "ok" });
    await h.t.app.dispatcher.runOnce();
    expect(robot.isDone()).toBe(true);
    expect(posts).toEqual([{ msgtype: "markdown", markdown: { content: expect.stringMatching(/^\*\*您的订单已确认\*\*\n/) } }]);
    const content = posts[0].markdown.content as string;
    expect(content).toContain(`> 订单号：${order.orderNo}`);
    expect(content).toContain("> 合计：¥96.50");
    expect(content).toContain(`- ${order.names[0]} 2件`);
    expect(content).toContain("发货后会再通知您");
    const notice = await h.notice(key);
    expect(notice).toMatchObject({ kind: "confirmed", state: "sent", channel: "wecom_robot", error: null });
    // The robot key is a credential: the order shows the webhook without it.
    expect(notice!.target).toMatch(/^https:\/\/wecom\.test\/cgi-bin\/webhook\/send#[0-9a-f]{8}$/);
    expect(await h.outboxRow(`chat.text:${key}:owner`)).toBeNull();
    const detail = await h.api().get(`/api/v1/orders/${order.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices).toEqual([expect.objectContaining({ kind: "confirmed", state: "sent", channel: "wecom_robot" })]);
  });

  it("writes no notice for a customer who cannot be reached, whether approved at once or by a manager", async () => {
    const c = await h.customer({});
    const notices = () => h.t.app.db.models.Outbox.count({ where: { topic: "customer.notify" } });
    const before = await notices();
    const at = await h.confirmableOrder(c.code);
    const later = await h.confirmableOrder(c.code, { pending: true });
    const approved = await h.api().post(`/api/v1/orders/${later.orderId}/approvals`).set(h.t.apiKeyHeader).send({ decision: "approve", approverId: h.team.manager.id });
    expect(approved.body.status).toBe("approved");
    for (const o of [at, later]) {
      expect(await h.outboxRow(`customer.notify:confirmed:${o.orderId}`)).toBeNull();
      const detail = await h.api().get(`/api/v1/orders/${o.orderId}`).set(h.t.apiKeyHeader);
      expect(detail.body.customerNotices).toEqual([]);
    }
    expect(await notices()).toBe(before);
  });

  it("writes one notice however often the order is approved, and sends it once when its delivery is repeated", async () => {
    const owner = await h.member(`once${tag()}`);
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}ONCE`, wecomOwnerUserId: owner.platformUserId });
    const order = await h.confirmableOrder(c.code, { pending: true });
    const key = `customer.notify:confirmed:${order.orderId}`;
    expect(await h.outboxRow(key)).toBeNull(); // not confirmed yet

    const approve = () => h.api().post(`/api/v1/orders/${order.orderId}/approvals`).set(h.t.apiKeyHeader).send({ decision: "approve", approverId: h.team.manager.id });
    expect((await approve()).body.status).toBe("approved");
    expect((await approve()).status).toBe(200); // the same tap again: a no-op
    // A retried service call writes the same key: still one row.
    await h.t.app.db.transaction((tx) => enqueue(h.t.app.deps, tx, { topic: "customer.notify", dedupeKey: key, payload: { kind: "confirmed", orderId: order.orderId } }));
    expect(await h.t.app.db.models.Outbox.count({ where: { dedupeKey: key } })).toBe(1);

    const tasks: Body[] = [];
    const once = msgTemplate(tasks, "msgONCE");
    await h.t.app.dispatcher.runOnce();
    expect(once.isDone()).toBe(true);
    expect(tasks[0].text.content).toContain("您的订单已确认");
    // The row is delivered again, as when a dispatcher died before settling it: WeCom is not asked twice.
    await (await h.outboxRow(key))!.update({ status: "pending", nextAttemptAt: new Date() });
    await h.t.app.dispatcher.runOnce();
    expect(tasks).toHaveLength(1);
    expect(await h.outboxRow(key)).toMatchObject({ status: "sent", platformRef: { recorded: "awaiting_owner" } });
    expect(await customerNoticeModel(h.t.app.db.sequelize).count({ where: { dedupeKey: key } })).toBe(1);
    expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msgONCE" });
    expect(await h.t.app.db.models.Outbox.count({ where: { dedupeKey: `chat.text:${key}:owner` } })).toBe(1);
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("does not tell the customer an order is confirmed when it was cancelled while the confirmation waited its turn", async () => {
    const owner = await h.member(`cxl${tag()}`);
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}CXL`, wecomOwnerUserId: owner.platformUserId });
    const first = await h.confirmableOrder(c.code);
    const once = msgTemplate([], "msgTODAY");
    await h.t.app.dispatcher.runOnce();
    expect(once.isDone()).toBe(true);
    const second = await h.confirmableOrder(c.code);
    const key = `customer.notify:confirmed:${second.orderId}`;
    await h.t.app.dispatcher.runOnce();
    expect(await h.notice(key)).toMatchObject({ state: "queued", error: expect.stringContaining("per-customer cap") });

    const cancelled = await h.api().post(`/api/v1/orders/${second.orderId}/cancel`).set(h.t.apiKeyHeader).send({ reason: "客户改单" });
    expect(cancelled.body.status).toBe("cancelled");
    // The next day: no task is made (none is declared: one would fail the row), and the order says why.
    await customerNoticeModel(h.t.app.db.sequelize).update({ acceptedAt: new Date(Date.now() - DAY - HOUR) }, { where: { dedupeKey: `customer.notify:confirmed:${first.orderId}` } });
    await (await h.outboxRow(key))!.update({ nextAttemptAt: new Date() });
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
    expect(await h.outboxRow(key)).toMatchObject({ status: "sent", platformRef: { skipped: "order cancelled" } });
    const detail = await h.api().get(`/api/v1/orders/${second.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices).toEqual([expect.objectContaining({ kind: "confirmed", state: "failed", error: expect.stringContaining("cancelled") })]);
  });

  it("holds the shipment notice behind the same day's confirmation under the per-customer cap, so the customer reads them in order", async () => {
    const owner = await h.member(`both${tag()}`);
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}BOTH`, wecomOwnerUserId: owner.platformUserId });
    const confirmable = await h.confirmableOrder(c.code);
    const confirmed = `customer.notify:confirmed:${confirmable.orderId}`;

    const tasks: Body[] = [];
    const today = msgTemplate(tasks, "msgFIRST");
    await h.t.app.dispatcher.runOnce();
    expect(today.isDone()).toBe(true);
    expect(tasks).toHaveLength(1);
    expect(tasks[0].text.content).toContain("您的订单已确认");
    expect(await h.notice(confirmed)).toMatchObject({ state: "awaiting_owner" });
    // Shipped later the same day, once the confirmation's task was made.
    const order = { orderId: confirmable.orderId, ...(await h.ship(confirmable.orderId)) };
    const shipped = `customer.notify:shipment:${order.shipmentId}`;
    await h.t.app.dispatcher.runOnce();
    // Queued, not dropped: no attempt spent, tried again tomorrow in China, and the order says why.
    const held = await h.outboxRow(shipped);
    expect(held).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    expect(held!.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(nextCstDay(Date.now()));
    expect(await h.notice(shipped)).toMatchObject({ kind: "shipment", state: "queued", error: expect.stringContaining("per-customer cap") });

    // The next day (the confirmation's task moved back a day): the shipment notice goes out.
    await customerNoticeModel(h.t.app.db.sequelize).update({ acceptedAt: new Date(Date.now() - DAY - HOUR) }, { where: { dedupeKey: confirmed } });
    await held!.update({ nextAttemptAt: new Date() });
    const tomorrow = msgTemplate(tasks, "msgSECOND");
    await h.t.app.dispatcher.runOnce();
    expect(tomorrow.isDone()).toBe(true);
    expect(tasks[1].text.content).toContain(`顺丰 ${order.trackingNo}`);
    const detail = await h.api().get(`/api/v1/orders/${order.orderId}`).set(h.t.apiKeyHeader);
    expect(detail.body.customerNotices.map((n: Body) => [n.kind, n.state, n.shipmentId])).toEqual([
      ["confirmed", "awaiting_owner", null],
      ["shipment", "awaiting_owner", order.shipmentId],
    ]);
    const asks = await h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.in]: [`chat.text:${confirmed}:owner`, `chat.text:${shipped}:owner`] } }, order: [["id", "ASC"]] });
    expect(asks.map((a) => (a.payload as { text: string }).text.match(/订单确认通知|发货通知/)?.[0])).toEqual(["订单确认通知", "发货通知"]);
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });
  it("sends the notices written together for one customer as one task, in order, with one prompt to the owner", async () => {
    const owner = await h.member(`pair${tag()}`);
    const c = await h.customer({ wecomExternalUserId: `wm${tag()}PAIR`, wecomOwnerUserId: owner.platformUserId });
    const order = await h.shippedOrder(c.code, { keepConfirmed: true });
    const confirmed = `customer.notify:confirmed:${order.orderId}`;
    const shipped = `customer.notify:shipment:${order.shipmentId}`;

    const tasks: Body[] = [];
    const one = msgTemplate(tasks, "msgPAIR");
    await h.t.app.dispatcher.runOnce();
    expect(one.isDone()).toBe(true);
    expect(tasks).toHaveLength(1);
    const content = tasks[0].text.content as string;
    expect(content.startsWith("您有 2 条订单通知：")).toBe(true);
    expect(content.indexOf("您的订单已确认")).toBeGreaterThan(0);
    expect(content.indexOf(`顺丰 ${order.trackingNo}`)).toBeGreaterThan(content.indexOf("您的订单已确认"));
    for (const key of [confirmed, shipped]) expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msgPAIR", error: null });
    const head = await h.outboxRow(confirmed);
    expect(head).toMatchObject({ status: "sent" });
    expect(await h.outboxRow(shipped)).toMatchObject({ status: "sent", platformRef: { digestOf: head!.id } });
    const asks = await h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.in]: [`chat.text:${confirmed}:owner`, `chat.text:${shipped}:owner`] } } });
    expect(asks).toHaveLength(1);
    const ask = (asks[0].payload as { text: string }).text;
    expect(ask).toContain("2 条通知");
    expect(ask).toContain(`订单 ${order.orderNo} 订单确认通知、订单 ${order.orderNo} 发货通知`);
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });

  it("sends the notices the cap held back together the next day, as one task that counts once", async () => {
    const owner = await h.member(`held${tag()}`);
    const ext = `wm${tag()}HELD`;
    const c = await h.customer({ wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId });
    const first = await h.shippedOrder(c.code);
    const tasks: Body[] = [];
    const today = msgTemplate(tasks, "msgDAY1");
    await h.t.app.dispatcher.runOnce();
    expect(today.isDone()).toBe(true);
    const second = await h.shippedOrder(c.code);
    const third = await h.shippedOrder(c.code);
    const held = [`customer.notify:shipment:${second.shipmentId}`, `customer.notify:shipment:${third.shipmentId}`];
    await h.t.app.dispatcher.runOnce();
    expect(tasks).toHaveLength(1);
    for (const key of held) expect(await h.notice(key)).toMatchObject({ state: "queued", error: expect.stringContaining("per-customer cap") });

    // The next day: the first task moved back a day, the held rows due.
    await customerNoticeModel(h.t.app.db.sequelize).update({ acceptedAt: new Date(Date.now() - DAY - HOUR) }, { where: { dedupeKey: `customer.notify:shipment:${first.shipmentId}` } });
    await h.t.app.db.models.Outbox.update({ nextAttemptAt: new Date() }, { where: { dedupeKey: { [Op.in]: held } } });
    const tomorrow = msgTemplate(tasks, "msgDAY2");
    await h.t.app.dispatcher.runOnce();
    expect(tomorrow.isDone()).toBe(true);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]).toMatchObject({ chat_type: "single", external_userid: [ext], sender: owner.platformUserId });
    expect(tasks[1].text.content).toContain(`顺丰 ${second.trackingNo}`);
    expect(tasks[1].text.content).toContain(`顺丰 ${third.trackingNo}`);
    for (const key of held) expect(await h.notice(key)).toMatchObject({ state: "awaiting_owner", msgid: "msgDAY2" });

    // That one task was the day's: a fourth notice waits, without asking WeCom.
    const fourth = await h.shippedOrder(c.code);
    await h.t.app.dispatcher.runOnce();
    expect(tasks).toHaveLength(2);
    expect(await h.notice(`customer.notify:shipment:${fourth.shipmentId}`)).toMatchObject({ state: "queued", error: expect.stringContaining("per-customer cap") });
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await h.t.app.db.models.Outbox.destroy({ where: { dedupeKey: `customer.notify:shipment:${fourth.shipmentId}` } });
    await drain();
  });

  it("counts a digest's notices as one task against the monthly cap", async () => {
    const owner = await h.member(`month${tag()}`);
    const ext = `wm${tag()}MONTH`;
    const c = await h.customer({ wecomExternalUserId: ext, wecomOwnerUserId: owner.platformUserId });
    const order = await h.shippedOrder(c.code);
    // The 15th of a month in China; earlier this month, one task carried four notices.
    const outbox = h.clockedOutbox(Date.parse("2027-03-15T04:00:00Z"));
    const Notice = customerNoticeModel(h.t.app.db.sequelize);
    const earlier = (i: number, msgid: string) =>
      Notice.create({ orderId: order.orderId, kind: "shipment", shipmentId: null, channel: "wecom_external", target: ext, dedupeKey: `test:${tag()}:${i}`, state: "sent", msgid, acceptedAt: new Date(Date.parse("2027-03-02T04:00:00Z") + i * 60_000) });
    const one = await Promise.all([0, 1, 2, 3].map((i) => earlier(i, "msgONE")));
    const tasks: Body[] = [];
    const sent = msgTemplate(tasks, "msgFIFTH");
    await outbox.runOnce();
    expect(sent.isDone()).toBe(true);
    expect(await h.notice(`customer.notify:shipment:${order.shipmentId}`)).toMatchObject({ state: "awaiting_owner", msgid: "msgFIFTH" });

    // Four tasks of one notice each fill the month: the next notice waits for April.
    await Notice.destroy({ where: { id: { [Op.in]: one.map((n) => n.id) } } });
    await Promise.all([0, 1, 2].map((i) => earlier(i, `msg${i}`)));
    const next = await h.shippedOrder(c.code);
    await outbox.runOnce();
    expect(tasks).toHaveLength(1);
    expect(await h.notice(`customer.notify:shipment:${next.shipmentId}`)).toMatchObject({ state: "queued", error: expect.stringContaining("2027-03-31T16:01") });
    await Notice.destroy({ where: { target: ext, dedupeKey: { [Op.like]: "test:%" } } });
    await h.t.app.db.models.Outbox.destroy({ where: { dedupeKey: `customer.notify:shipment:${next.shipmentId}` } });
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, msgid: "m" });
    await drain();
  });
});

describe(`pacing robots and members (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  const h = harness();

  it("sends 20 notices a minute to one group robot and defers the 21st, failing none", async () => {
    const c = await h.customer({});
    const order = await h.shippedOrder(c.code);
    // The order's own rows go first (the customer has no contact yet), then 21 notices to one robot.
    for (let i = 0; i < 5; i++) if ((await h.t.app.dispatcher.runOnce()).claimed === 0) break;
    const robotKey = `robot-${tag()}`;
    await h.t.app.db.models.Customer.update({ chatPlatform: "wecom", chatTarget: `${API}/cgi-bin/webhook/send?key=${robotKey}` }, { where: { id: c.id } });
    const keys = Array.from({ length: 21 }, (_, i) => `customer.notify:pace:${order.shipmentId}:${i}`);
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, keys.map((dedupeKey) => ({ topic: "customer.notify" as const, dedupeKey, payload: { event: "shipped", orderId: order.orderId, shipmentId: order.shipmentId } }))),
    );

    let calls = 0;
    nock(API).post("/cgi-bin/webhook/send").query({ key: robotKey }).times(21).reply(200, () => (calls++, { errcode: 0, errmsg: "ok" }));
    const outbox = h.clockedOutbox();
    for (let s = 0; s < 60; s++) {
      await outbox.runOnce();
      if (s === 0) expect(calls).toBe(10); // a burst of 10, then one every 5.7 s
      outbox.advance(1000);
    }
    expect(calls).toBe(20);
    const rows = await h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.in]: keys } }, order: [["id", "ASC"]] });
    expect(rows.map((r) => r.status)).toEqual([...Array(20).fill("sent"), "pending"]);
    expect(rows[20]).toMatchObject({ attempts: 0, lastError: null });
    const notices = await customerNoticeModel(h.t.app.db.sequelize).findAll({ where: { dedupeKey: { [Op.in]: keys } }, order: [["id", "ASC"]] });
    expect(notices.map((n) => n.state)).toEqual([...Array(20).fill("sent"), "queued"]);
    // The robot key is a credential: the order shows the webhook without it.
    expect(notices[0].channel).toBe("wecom_robot");
    expect(notices[0].target).toMatch(/^https:\/\/wecom\.test\/cgi-bin\/webhook\/send#[0-9a-f]{8}$/);

    outbox.advance(4000); // past 62.9 s: the 21st token
    await outbox.runOnce();
    expect(calls).toBe(21);
    expect(await h.outboxRow(keys[20])).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("paces app messages per member so WeCom never drops one silently, leaving other members alone", async () => {
    const busy = await h.member(`busy${tag()}`);
    const other = await h.member(`calm${tag()}`);
    const k = tag();
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, [
        ...Array.from({ length: 11 }, (_, i) => ({ topic: "chat.text" as const, dedupeKey: `pace:${k}:${i}`, payload: { userId: busy.id, text: `消息 ${i}` } })),
        { topic: "chat.text" as const, dedupeKey: `pace:${k}:other`, payload: { userId: other.id, text: "你好" } },
      ]),
    );
    const sent: Body[] = [];
    const scope = nock(API).post("/cgi-bin/message/send").query(true).times(12).reply(200, (_uri, b) => (sent.push(b as Body), { errcode: 0, msgid: "m" }));
    const outbox = h.clockedOutbox();
    await outbox.runOnce();
    expect(sent.filter((b) => b.touser === busy.platformUserId).map((b) => b.text.content)).toEqual(Array.from({ length: 10 }, (_, i) => `消息 ${i}`));
    expect(sent.filter((b) => b.touser === other.platformUserId)).toHaveLength(1);
    expect(await h.outboxRow(`pace:${k}:10`)).toMatchObject({ status: "pending", attempts: 0 });

    outbox.advance(4000); // one token every 3.6 s after the burst
    await outbox.runOnce();
    expect(scope.isDone()).toBe(true);
    expect(sent[sent.length - 1]).toMatchObject({ touser: busy.platformUserId, text: { content: "消息 10" } });
  });
});

describe(`digests for a paced member (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  const h = harness();

  it("sends a burst of texts to one member as fewer messages once paced, every row sent once and every text in a digest", async () => {
    const busy = await h.member(`burst${tag()}`);
    const other = await h.member(`quiet${tag()}`);
    const k = tag();
    const texts = Array.from({ length: 25 }, (_, i) => `订单 SO-${k}-${i} 已发货`);
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, [
        ...texts.map((text, i) => ({ topic: "chat.text" as const, dedupeKey: `digest:${k}:${i}`, payload: { userId: busy.id, text } })),
        ...[0, 1].map((i) => ({ topic: "chat.text" as const, dedupeKey: `digest:${k}:other:${i}`, payload: { userId: other.id, text: `另一位 ${i}` } })),
      ]),
    );
    const sent: Body[] = [];
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, (_uri, b) => (sent.push(b as Body), { errcode: 0, msgid: `m${sent.length}` }));
    const outbox = h.clockedOutbox();
    await outbox.runOnce(); // the bucket's burst of 10, one by one
    const toBusy = () => sent.filter((b) => b.touser === busy.platformUserId).map((b) => b.text.content as string);
    expect(toBusy()).toEqual(texts.slice(0, 10));
    outbox.advance(4000); // one token: the 15 held back go together
    await outbox.runOnce();
    expect(toBusy()).toHaveLength(11);
    const digest = toBusy()[10];
    expect(digest.startsWith("以下 15 条通知合并发送")).toBe(true);
    // Every text, in the order written, and within WeCom's 2048 bytes.
    let at = 0;
    for (const text of texts.slice(10)) {
      const found = digest.indexOf(text, at);
      expect(found).toBeGreaterThan(at - 1);
      at = found + text.length;
    }
    expect(Buffer.byteLength(digest, "utf8")).toBeLessThanOrEqual(2048);
    const rows = await h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.like]: `digest:${k}:%` } }, order: [["id", "ASC"]] });
    expect(rows.map((r) => r.status)).toEqual(Array(27).fill("sent"));
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    // The other member's texts went on their own, never inside the busy member's digest.
    expect(sent.filter((b) => b.touser === other.platformUserId).map((b) => b.text.content)).toEqual(["另一位 0", "另一位 1"]);
    expect(digest).not.toContain("另一位");
    // Nothing is sent twice.
    outbox.advance(60_000);
    await outbox.runOnce();
    expect(toBusy()).toHaveLength(11);
  });

  it("keeps a digest within the text limit, sending what does not fit with the next token", async () => {
    const busy = await h.member(`long${tag()}`);
    const k = tag();
    // 600 bytes each: three fit in 2048 bytes with the header, the fourth waits.
    const texts = Array.from({ length: 14 }, (_, i) => `${String(i).padStart(2, "0")}${"货".repeat(199)}`);
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, texts.map((text, i) => ({ topic: "chat.text" as const, dedupeKey: `long:${k}:${i}`, payload: { userId: busy.id, text } }))),
    );
    const sent: string[] = [];
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, (_uri, b) => (sent.push((b as Body).text.content), { errcode: 0, msgid: "m" }));
    const outbox = h.clockedOutbox();
    await outbox.runOnce();
    expect(sent).toHaveLength(10);
    outbox.advance(4000);
    await outbox.runOnce();
    expect(sent).toHaveLength(11);
    expect(sent[10]).toContain(texts[10]);
    expect(sent[10]).toContain(texts[12]);
    expect(sent[10]).not.toContain(texts[13]);
    expect(Buffer.byteLength(sent[10], "utf8")).toBeLessThanOrEqual(2048);
    expect(await h.outboxRow(`long:${k}:13`)).toMatchObject({ status: "pending" });
    outbox.advance(4000);
    await outbox.runOnce();
    expect(sent[11]).toBe(texts[13]);
    const rows = await h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.like]: `long:${k}:%` } } });
    expect(rows.map((r) => r.status)).toEqual(Array(14).fill("sent"));
  });

  it("puts the rows of a digest whose send failed back behind their head, and sends them together later", async () => {
    const busy = await h.member(`retry${tag()}`);
    const k = tag();
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, Array.from({ length: 13 }, (_, i) => ({ topic: "chat.text" as const, dedupeKey: `retry:${k}:${i}`, payload: { userId: busy.id, text: `消息 ${i}` } }))),
    );
    const sent: string[] = [];
    nock(API).post("/cgi-bin/message/send").query(true).times(10).reply(200, (_uri, b) => (sent.push((b as Body).text.content), { errcode: 0, msgid: "m" }));
    const outbox = h.clockedOutbox();
    await outbox.runOnce();
    expect(sent).toHaveLength(10);
    // WeCom is busy for the digest (errcode -1, wecom.md 3.2): nothing of it counts as sent.
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, { errcode: -1, errmsg: "system busy" });
    outbox.advance(4000);
    await outbox.runOnce();
    const rows = () => h.t.app.db.models.Outbox.findAll({ where: { dedupeKey: { [Op.like]: `retry:${k}:%` } }, order: [["id", "ASC"]] });
    expect((await rows()).slice(10).map((r) => r.status)).toEqual(["pending", "pending", "pending"]);
    nock(API).post("/cgi-bin/message/send").query(true).reply(200, (_uri, b) => (sent.push((b as Body).text.content), { errcode: 0, msgid: "m" }));
    for (let i = 0; i < 5 && sent.length < 11; i++) {
      outbox.advance(4000);
      await outbox.runOnce();
    }
    expect(sent).toHaveLength(11);
    expect(sent[10]).toMatch(/^以下 3 条通知合并发送：\n\n消息 10\n\n消息 11\n\n消息 12$/);
    expect((await rows()).map((r) => r.status)).toEqual(Array(13).fill("sent"));
  });

  it("does not fold a text across a card queued between, so the member reads them in order", async () => {
    const busy = await h.member(`order${tag()}`);
    const k = tag();
    const card = { title: "卡片", fields: [], buttons: [], locale: "zh-CN" };
    await h.t.app.db.transaction((tx) =>
      enqueue(h.t.app.deps, tx, [
        ...Array.from({ length: 11 }, (_, i) => ({ topic: "chat.text" as const, dedupeKey: `mixed:${k}:${i}`, payload: { userId: busy.id, text: `文本 ${i}` } })),
        { topic: "chat.card" as const, dedupeKey: `mixed:${k}:card`, payload: { userId: busy.id, card } },
        { topic: "chat.text" as const, dedupeKey: `mixed:${k}:after`, payload: { userId: busy.id, text: "卡片之后" } },
      ]),
    );
    const sent: Body[] = [];
    nock(API).persist().post("/cgi-bin/message/send").query(true).reply(200, (_uri, b) => (sent.push(b as Body), { errcode: 0, msgid: "m" }));
    const outbox = h.clockedOutbox();
    await outbox.runOnce();
    for (let i = 0; i < 3; i++) {
      outbox.advance(4000);
      await outbox.runOnce();
    }
    const kinds = sent.map((b) => (b.msgtype === "text" ? b.text.content : "card"));
    expect(kinds).toEqual([...Array.from({ length: 11 }, (_, i) => `文本 ${i}`), "card", "卡片之后"]);
  });
});

describe("the WeCom channel's customer notices", () => {
  const log = pino({ level: "silent" });
  const card = shipmentNoticeCard(
    buildOrderView({ status: "shipped", shipments: [{ id: 7, carrier: "顺丰", trackingNo: "SF1", shippedAt: "2026-11-23T06:05:00.000Z", lines: [] }] }),
    7,
    { locale: "zh-CN" },
  );
  const opts = { dedupeKey: "customer.notify:shipment:7" };
  const failure = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err as ChannelError);
  beforeEach(() => nock.cleanAll());
  afterEach(() => nock.cleanAll());

  it("takes the 客户联系 secret's own token for add_msg_template when one is set, and the app's for messages", async () => {
    const config = testWecomConfig({ WECOM_AGENT_ID: "1000777", WECOM_SECRET: "app-secret", WECOM_CONTACT_SECRET: "contact-secret" });
    const ch = createWecomChannel(config, { cache: createMemoryCache(), log, now: () => new Date(), publicUrl: "https://order.example.com" });
    const scope = nock(API)
      .get("/cgi-bin/gettoken").query({ corpid: config.corpId, corpsecret: "contact-secret" }).reply(200, { errcode: 0, access_token: "CONTACT", expires_in: 7200 })
      .post(MSG_TEMPLATE_PATH).query({ access_token: "CONTACT" }).reply(200, { errcode: 0, errmsg: "ok", msgid: "msg-c" })
      .get("/cgi-bin/gettoken").query({ corpid: config.corpId, corpsecret: "app-secret" }).reply(200, { errcode: 0, access_token: "APP", expires_in: 7200 })
      .post("/cgi-bin/message/send").query({ access_token: "APP" }).reply(200, { errcode: 0, msgid: "msg-a" });
    const contact = { platform: "wecom", target: "wmCustomer1", name: "华东医疗", sender: "zhangsan" };
    expect(await ch.notifyCustomer(contact, card, opts)).toEqual({
      messageId: "msg-c",
      cardRef: { msgid: "msg-c", sender: "zhangsan", externalUserId: "wmCustomer1", awaitingSender: true },
    });
    await ch.sendText({ platform: "wecom", platformUserId: "zhangsan" }, "hi", opts);
    expect(scope.isDone()).toBe(true);
  });

  it("refuses ids WeCom could not take, and any other target, without calling WeCom", async () => {
    const ch = createWecomChannel(testWecomConfig(), { cache: createMemoryCache(), log, now: () => new Date(), publicUrl: "https://order.example.com" });
    const base = { platform: "wecom", name: "客户" };
    expect(await failure(ch.notifyCustomer({ ...base, target: "wm bad", sender: "zhangsan" }, card, opts))).toMatchObject({ failure: "rejected" });
    expect(await failure(ch.notifyCustomer({ ...base, target: "wmGood", sender: "张三" }, card, opts))).toMatchObject({ failure: "rejected" });
    expect(await failure(ch.notifyCustomer({ ...base, target: "wmGood" }, card, opts))).toMatchObject({ failure: "rejected" });
    expect(await failure(ch.notifyCustomer({ ...base, target: "https://evil.example/cgi-bin/webhook/send?key=x" }, card, opts))).toMatchObject({ failure: "rejected" });
  });
});

describe("per-customer caps on mass-send tasks (wecom.md 7.2)", () => {
  // 2026-03-31 23:30 in China.
  const now = new Date("2026-03-31T15:30:00Z");
  const margin = 60_000;

  it("allows one task a natural day in China", () => {
    expect(msgTemplateCapWait([], now)).toBe(0);
    expect(msgTemplateCapWait([new Date("2026-03-31T02:00:00Z")], now)).toBe(30 * 60_000 + margin);
    expect(msgTemplateCapWait([new Date("2026-03-30T15:59:59Z")], now)).toBe(0); // 23:59:59 the day before
  });

  it("allows four tasks a natural month in China, counting from its first day there", () => {
    const march = ["2026-02-28T16:30:00Z", "2026-03-05T02:00:00Z", "2026-03-10T02:00:00Z", "2026-03-20T02:00:00Z"].map((s) => new Date(s));
    expect(msgTemplateCapSince(now)).toEqual(new Date("2026-02-28T16:00:00Z"));
    const tenth = new Date("2026-03-25T02:00:00Z");
    expect(msgTemplateCapWait(march, tenth)).toBe(new Date("2026-03-31T16:00:00Z").getTime() - tenth.getTime() + margin);
    expect(msgTemplateCapWait(march.slice(1), tenth)).toBe(0);
  });
});
