import crypto from "node:crypto";
import nock from "nock";
import pino from "pino";
import request from "supertest";
import { createMemoryCache } from "../../src/cache/memory";
import { groupMsgSendResult } from "../../src/channels/wecom";
import { createWecomClient } from "../../src/channels/wecom/client";
import { GROUPMSG_RESULT_PATH } from "../../src/channels/wecom/group-msg-result";
import { loadConfig } from "../../src/config";
import { customerNoticeModel } from "../../src/db/models/customers";
import { EXPIRE_AFTER_MS, NUDGE_AFTER_MS, pollCustomerNotices } from "../../src/jobs/customer-notice-results";
import { buildCustomer, buildProduct } from "../helpers/factories";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";

/** The job that asks WeCom how customer mass-send tasks fared (get_groupmsg_send_result, wecom.md 7.2). */

const API = "https://wecom.test";
const HOUR = 3600_000;
const tag = () => crypto.randomBytes(4).toString("hex");
type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(`customer notice results job (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  let t: TestApp;
  let orderId: number;
  let orderNo: string;
  let customerName: string;
  const config = testWecomConfig();
  const log = pino({ level: "silent" });
  const NOW = new Date("2026-03-02T04:00:00Z");

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp();
    const customer = await buildCustomer(t.app);
    customerName = customer.name;
    const product = await buildProduct(t.app, { onHand: 10 });
    const res = await request(t.callback).post("/api/v1/orders").set(t.apiKeyHeader).send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }] });
    expect(res.status).toBe(201);
    ({ id: orderId, orderNo } = res.body);
  });
  beforeEach(async () => {
    // Each test asks about its own notices only.
    await Notice().update({ state: "sent" }, { where: { state: "awaiting_owner" } });
    nock.cleanAll();
    nock(API).persist().get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, errmsg: "ok", access_token: "TOKEN", expires_in: 7200 });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await t.close();
  });

  const Notice = () => customerNoticeModel(t.app.db.sequelize);

  /** A notice WeCom took as a mass-send task from `sender`, `ageMs` ago, as the customer.notify deliverer leaves it. */
  async function awaiting(opts: { sender?: string; ageMs?: number; target?: string; kind?: "confirmed" | "shipment" } = {}) {
    const key = `customer.notify:test:${tag()}`;
    const msgid = `msg${tag()}`;
    const target = opts.target ?? `wm${tag()}`;
    const sender = opts.sender ?? "zhangsan";
    const acceptedAt = new Date(NOW.getTime() - (opts.ageMs ?? HOUR));
    await t.app.db.models.Outbox.create({
      topic: "customer.notify",
      dedupeKey: key,
      payload: { orderId, shipmentId: 0 },
      status: "sent",
      platformRef: { messageId: msgid, cardRef: { msgid, sender, externalUserId: target, awaitingSender: true } } as Record<string, unknown>,
      nextAttemptAt: acceptedAt,
      createdAt: acceptedAt,
    });
    const notice = await Notice().create({ orderId, shipmentId: null, ...(opts.kind ? { kind: opts.kind } : {}), dedupeKey: key, channel: "wecom_external", target, msgid, state: "awaiting_owner", acceptedAt });
    return { notice, key, msgid, target, sender };
  }

  function job(now = NOW) {
    const client = createWecomClient({ ...config, apiBase: API }, { cache: createMemoryCache(), log, now: () => now });
    return pollCustomerNotices({ db: t.app.db, log, now: () => now, sendResult: (msgid, sender) => groupMsgSendResult(client, msgid, sender) });
  }

  /** WeCom's answer for one task: `pages` of send_list, chained by next_cursor. */
  function results(msgid: string, sender: string, pages: Array<Array<Record<string, unknown>>>) {
    const scope = nock(API);
    pages.forEach((list, i) => {
      scope
        .post(GROUPMSG_RESULT_PATH, (b: Body) => b.msgid === msgid && b.userid === sender && (i === 0 ? b.cursor === undefined : b.cursor === `c${i}`))
        .query({ access_token: "TOKEN" })
        .reply(200, { errcode: 0, errmsg: "ok", next_cursor: i < pages.length - 1 ? `c${i + 1}` : "", send_list: list });
    });
    return scope;
  }
  const entry = (externalUserId: string, status: number, sender = "zhangsan") => ({ external_userid: externalUserId, chat_id: "", userid: sender, status, send_time: status === 1 ? 1772424000 : 0 });
  const reload = async (id: number) => (await Notice().findByPk(id))!;

  it("records a notice as sent once the owner confirmed, reading every page of the result", async () => {
    const a = await awaiting();
    const others = Array.from({ length: 3 }, () => entry(`wm${tag()}`, 0));
    const scope = results(a.msgid, a.sender, [others, [entry(`wm${tag()}`, 1), entry(a.target, 1)]]);
    const summary = await job();
    expect(scope.isDone()).toBe(true);
    expect(summary).toMatchObject({ sent: 1, errors: 0 });
    expect(await reload(a.notice.id)).toMatchObject({ state: "sent", error: null });
  });

  it.each([
    [2, "no longer the owner's contact"],
    [3, "already received a mass message"],
  ])("records status %i as failed, saying why", async (status, why) => {
    const a = await awaiting();
    const scope = results(a.msgid, a.sender, [[entry(a.target, status)]]);
    expect(await job()).toMatchObject({ failed: 1 });
    expect(scope.isDone()).toBe(true);
    const row = await reload(a.notice.id);
    expect(row.state).toBe("failed");
    expect(row.error).toContain(why);
  });

  it("leaves a task still unsent (status 0) waiting, without a reminder while it is young", async () => {
    const a = await awaiting({ ageMs: NUDGE_AFTER_MS - HOUR });
    const scope = results(a.msgid, a.sender, [[entry(a.target, 0)]]);
    expect(await job()).toMatchObject({ waiting: 1, nudged: 0 });
    expect(scope.isDone()).toBe(true);
    expect((await reload(a.notice.id)).state).toBe("awaiting_owner");
    expect(await t.app.db.models.Outbox.count({ where: { dedupeKey: `chat.text:${a.key}:owner:nudge` } })).toBe(0);
  });

  it("reminds the owner once, in Chinese, when the task is still unsent after a few hours", async () => {
    const owner = await t.app.db.models.User.create({ platform: "wecom", platformUserId: `Owner${tag()}`, name: "王店长", mobile: null, roles: ["sales"], managerId: null, department: null });
    // WeCom spells userids in whatever case; they are case-insensitive (wecom.md conventions).
    const a = await awaiting({ sender: owner.platformUserId.toLowerCase(), ageMs: NUDGE_AFTER_MS + HOUR });
    results(a.msgid, a.sender, [[entry(a.target, 0, a.sender)]]);
    expect(await job()).toMatchObject({ nudged: 1 });
    results(a.msgid, a.sender, [[entry(a.target, 0, a.sender)]]);
    expect(await job()).toMatchObject({ nudged: 0, waiting: 1 });
    const nudges = await t.app.db.models.Outbox.findAll({ where: { dedupeKey: `chat.text:${a.key}:owner:nudge` } });
    expect(nudges).toHaveLength(1);
    expect(nudges[0].topic).toBe("chat.text");
    expect(nudges[0].payload).toMatchObject({ userId: owner.id });
    const text = (nudges[0].payload as { text: string }).text;
    expect(text).toContain(orderNo);
    expect(text).toContain(customerName);
    expect(text).toContain("群发助手");
    expect(text).toContain("发货通知"); // a notice from before kinds were recorded is a shipment notice
    expect((await reload(a.notice.id)).state).toBe("awaiting_owner");
  });

  it("names the order confirmation when the task waiting for the owner is one", async () => {
    const owner = await t.app.db.models.User.create({ platform: "wecom", platformUserId: `Conf${tag()}`, name: "钱店长", mobile: null, roles: ["sales"], managerId: null, department: null, locale: "en" });
    const a = await awaiting({ sender: owner.platformUserId, ageMs: NUDGE_AFTER_MS + HOUR, kind: "confirmed" });
    results(a.msgid, a.sender, [[entry(a.target, 0, a.sender)]]);
    expect(await job()).toMatchObject({ nudged: 1 });
    const [nudge] = await t.app.db.models.Outbox.findAll({ where: { dedupeKey: `chat.text:${a.key}:owner:nudge` } });
    expect((nudge.payload as { text: string }).text).toBe(
      `Reminder: the order confirmation for order ${orderNo} to customer ${customerName} still waits for you and has not reached them. Send it under Customer Contact → Group Message Assistant in WeCom.`,
    );
  });

  it("settles every notice a digest carried from one answer about its task, and reminds the owner once naming them all", async () => {
    const owner = await t.app.db.models.User.create({ platform: "wecom", platformUserId: `Dig${tag()}`, name: "孙店长", mobile: null, roles: ["sales"], managerId: null, department: null });
    const head = await awaiting({ sender: owner.platformUserId, ageMs: NUDGE_AFTER_MS + HOUR, kind: "confirmed" });
    // Carried in the head's task: its outbox row points to the head's (the dispatcher's digestOf).
    const headRow = (await t.app.db.models.Outbox.findOne({ where: { dedupeKey: head.key } }))!;
    const key = `customer.notify:test:${tag()}`;
    await t.app.db.models.Outbox.create({ topic: "customer.notify", dedupeKey: key, payload: { kind: "shipment", orderId, shipmentId: 0 }, status: "sent", platformRef: { digestOf: headRow.id } as Record<string, unknown>, nextAttemptAt: head.notice.acceptedAt!, createdAt: head.notice.acceptedAt! });
    const carried = await Notice().create({ orderId, kind: "shipment", shipmentId: null, dedupeKey: key, channel: "wecom_external", target: head.target, msgid: head.msgid, state: "awaiting_owner", acceptedAt: head.notice.acceptedAt });
    // Asked about once: a second question would find no answer here and count as an error.
    const once = results(head.msgid, head.sender, [[entry(head.target, 0, head.sender)]]);
    expect(await job()).toMatchObject({ checked: 2, nudged: 1, waiting: 1, errors: 0 });
    expect(once.isDone()).toBe(true);
    const nudges = await t.app.db.models.Outbox.findAll({ where: { dedupeKey: [`chat.text:${head.key}:owner:nudge`, `chat.text:${key}:owner:nudge`] } });
    expect(nudges.map((n) => n.dedupeKey)).toEqual([`chat.text:${head.key}:owner:nudge`]);
    expect((nudges[0].payload as { text: string }).text).toContain(`2 条通知（订单 ${orderNo} 订单确认通知、订单 ${orderNo} 发货通知）`);

    results(head.msgid, head.sender, [[entry(head.target, 1, head.sender)]]);
    expect(await job()).toMatchObject({ checked: 2, sent: 2, errors: 0 });
    for (const n of [head.notice, carried]) expect(await reload(n.id)).toMatchObject({ state: "sent", error: null });
  });

  it("gives up on a task never confirmed after a week and shows it as expired", async () => {
    const a = await awaiting({ ageMs: EXPIRE_AFTER_MS + HOUR });
    // A task WeCom no longer lists the customer in counts as unsent too.
    results(a.msgid, a.sender, [[]]);
    expect(await job()).toMatchObject({ expired: 1 });
    const row = await reload(a.notice.id);
    expect(row.state).toBe("expired");
    expect(row.error).toContain("did not confirm");
    // Not asked about again.
    const summary = await job();
    expect(summary.checked).toBe(0);
  });

  it("keeps a notice waiting when WeCom is busy, and goes on with the others", async () => {
    const busy = await awaiting({ ageMs: 2 * HOUR + 1 });
    const fine = await awaiting({ ageMs: 2 * HOUR });
    nock(API).post(GROUPMSG_RESULT_PATH, (b: Body) => b.msgid === busy.msgid).query(true).times(3).reply(200, { errcode: -1, errmsg: "system busy" });
    results(fine.msgid, fine.sender, [[entry(fine.target, 1)]]);
    const summary = await job();
    expect(summary).toMatchObject({ errors: 1, sent: 1 });
    expect((await reload(busy.notice.id)).state).toBe("awaiting_owner");
    expect((await reload(fine.notice.id)).state).toBe("sent");
  });

  it("is scheduled every 10 minutes unless WECOM_NOTICE_POLL_CRON says otherwise", () => {
    const env = { WECOM_CORP_ID: "ww1", WECOM_AGENT_ID: "1", WECOM_SECRET: "s", WECOM_TOKEN: "t", WECOM_AES_KEY: "a".repeat(43) };
    expect(loadConfig(env).wecom?.noticePollCron).toBe("*/10 * * * *");
    expect(loadConfig({ ...env, WECOM_NOTICE_POLL_CRON: "0 * * * *" }).wecom?.noticePollCron).toBe("0 * * * *");
    expect(loadConfig({ ...env, WECOM_NOTICE_POLL_CRON: "off" }).wecom?.noticePollCron).toBeNull();
    expect(() => loadConfig({ ...env, WECOM_NOTICE_POLL_CRON: "every ten minutes" })).toThrow(/WECOM_NOTICE_POLL_CRON/);
  });
});
