import nock from "nock";
import pino from "pino";
import { createMemoryCache } from "../../src/cache/memory";
import { ChannelError, type ChatChannel, type ChatUser } from "../../src/channels/channel";
import { createWecomChannel } from "../../src/channels/wecom";
import { createCardCodes } from "../../src/channels/wecom/card-codes";
import { WecomApiError, createWecomClient } from "../../src/channels/wecom/client";
import { decodeButtonKey } from "../../src/channels/wecom/keys";
import type { WecomConfig } from "../../src/config";
import { approvalCard, orderStatusCard } from "../../src/domain/cards";
import { buildOrderView, buildStep } from "../helpers/order-view-fixture";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";

const API = "https://wecom.test";
const zh = { locale: "zh-CN" as const };
const pending = buildOrderView({ status: "pending_approval", approval: { round: 1, autoApproved: false, reasons: [], steps: [buildStep()] } });
const opts = { dedupeKey: "k-1" };
const to = (platformUserId: string): ChatUser => ({ platform: "wecom", platformUserId });

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("WeCom channel over HTTP", () => {
  let t: TestApp;
  let agent = 2000000 + Math.floor(Math.random() * 1000) * 1000;
  let clock = Date.now();
  const logged: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void logged.push(line) });

  /** A fresh app (its own agentid, so its own token in the shared cache) and channel. */
  function channel(): { config: WecomConfig; ch: ChatChannel } {
    const config = testWecomConfig({ WECOM_AGENT_ID: String(++agent), WECOM_SECRET: `secret-${agent}` });
    const ch = createWecomChannel(config, { cache: t.app.cache, log, now: () => new Date(clock), publicUrl: "https://order.example.com", tokenWaitMs: 2000 });
    return { config, ch };
  }
  const token = (config: WecomConfig, value: string, expiresIn = 7200) =>
    nock(API).get("/cgi-bin/gettoken").query({ corpid: config.corpId, corpsecret: config.secret }).reply(200, { errcode: 0, errmsg: "ok", access_token: value, expires_in: expiresIn });
  const failure = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err as ChannelError);

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp();
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await t.close();
  });

  it("fetches one token for many concurrent sends, keeps it, and refreshes it before it expires", async () => {
    const { config, ch } = channel();
    const sends: Body[] = [];
    const scope = token(config, "TOKEN-A")
      .post("/cgi-bin/message/send", (b: Body) => sends.push(b) > 0).query({ access_token: "TOKEN-A" }).times(6)
      .reply(200, { errcode: 0, errmsg: "ok", msgid: "m1" });
    const sent = await Promise.all([1, 2, 3, 4, 5].map((i) => ch.sendText(to(`u${i}`), `hello ${i}`, opts)));
    expect(sent.map((s) => s.messageId)).toEqual(["m1", "m1", "m1", "m1", "m1"]);
    await ch.sendText(to("u6"), "again", opts);
    expect(scope.isDone()).toBe(true);
    expect(sends[0]).toEqual({ touser: "u1", agentid: config.agentId, msgtype: "text", text: { content: "hello 1" } });

    clock += (7200 - 200) * 1000; // within the last 5 minutes of the token's life
    const refresh = token(config, "TOKEN-B").post("/cgi-bin/message/send").query({ access_token: "TOKEN-B" }).reply(200, { errcode: 0, msgid: "m2" });
    await ch.sendText(to("u1"), "later", opts);
    expect(refresh.isDone()).toBe(true);
    expect(logged.join("\n")).not.toMatch(/TOKEN-A|TOKEN-B|secret-/);
  });

  it("lets two instances sharing the cache fetch one token between them", async () => {
    const { config, ch } = channel();
    const other = createWecomChannel(config, { cache: t.app.cache, log, now: () => new Date(clock), publicUrl: "https://order.example.com", tokenWaitMs: 2000 });
    // A slow gettoken, so the second instance finds the lock taken and waits for the first one's token.
    const scope = nock(API).get("/cgi-bin/gettoken").query(true).delay(150).reply(200, { errcode: 0, access_token: "TOKEN-S", expires_in: 7200 })
      .post("/cgi-bin/message/send").query({ access_token: "TOKEN-S" }).times(4).reply(200, { errcode: 0, msgid: "m" });
    await Promise.all([ch, other, ch, other].map((c, i) => c.sendText(to(`u${i}`), "hi", opts)));
    expect(scope.isDone()).toBe(true);
  });

  it("renews a token WeCom expired mid-flow and retries the call once", async () => {
    const { config, ch } = channel();
    const scope = token(config, "OLD")
      .post("/cgi-bin/message/send").query({ access_token: "OLD" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
      .get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, access_token: "NEW", expires_in: 7200 })
      .post("/cgi-bin/message/send").query({ access_token: "NEW" }).reply(200, { errcode: 0, msgid: "m-new" });
    expect(await ch.sendText(to("u1"), "hi", opts)).toEqual({ messageId: "m-new" });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ["system busy (-1)", "retry_later", { errcode: -1, errmsg: "system busy" }, 200, undefined],
    ["a frequency limit (45009)", "retry_later", { errcode: 45009, errmsg: "api freq out of limit" }, 200, 60_000],
    ["an HTTP 502", "retry_later", "bad gateway", 502, undefined],
    ["an invalid user (81013)", "rejected", { errcode: 81013, errmsg: "user & party & tag all invalid" }, 200, undefined],
  ])("turns %s into %s", async (_what, failure_, answer, status, retryAfterMs) => {
    const { config, ch } = channel();
    const scope = token(config, "T").post("/cgi-bin/message/send").query(true).reply(status, answer);
    const err = await failure(ch.sendText(to("nobody"), "hi", opts));
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ failure: failure_, retryAfterMs });
    expect(err?.message).toContain("/cgi-bin/message/send");
    if (typeof answer === "object") expect(err?.message).toContain(`errcode ${answer.errcode}`);
    expect(scope.isDone()).toBe(true);
  });

  it("treats a network error as retry_later and a user listed as invalid as rejected", async () => {
    const { config, ch } = channel();
    const scope = token(config, "T")
      .post("/cgi-bin/message/send").query(true).replyWithError("socket hang up")
      .post("/cgi-bin/message/send").query(true).reply(200, { errcode: 0, invaliduser: "ghost", msgid: "" });
    expect(await failure(ch.sendText(to("u1"), "hi", opts))).toMatchObject({ failure: "retry_later" });
    expect(await failure(ch.sendText(to("Ghost"), "hi", opts))).toMatchObject({ failure: "rejected" });
    expect(scope.isDone()).toBe(true);
  });

  it("stops asking for a token with a refused secret for a minute", async () => {
    const { ch } = channel();
    const scope = nock(API).get("/cgi-bin/gettoken").query(true).once().reply(200, { errcode: 40001, errmsg: "invalid credential" });
    expect(await failure(ch.sendText(to("u1"), "hi", opts))).toMatchObject({ failure: "rejected", message: expect.stringContaining("errcode 40001") });
    expect(await failure(ch.sendText(to("u1"), "hi", opts))).toMatchObject({ failure: "rejected" });
    expect(scope.isDone()).toBe(true);
  });

  it("sends an approval card as button_interaction and keeps what updating it needs", async () => {
    const { config, ch } = channel();
    let body: Body = {};
    const scope = token(config, "T")
      .post("/cgi-bin/message/send", (b: Body) => ((body = b), true)).query({ access_token: "T" })
      .reply(200, { errcode: 0, errmsg: "ok", msgid: "msg-1", response_code: "RC-send" });
    const sent = await ch.sendCard(to("lisi"), approvalCard(pending, 3, zh), opts);
    expect(scope.isDone()).toBe(true);
    expect(body).toMatchObject({ touser: "lisi", msgtype: "template_card", agentid: config.agentId, template_card: { card_type: "button_interaction" } });
    const card = body.template_card;
    expect(card.task_id).toMatch(/^co-[0-9a-f-]{36}$/);
    expect(decodeButtonKey(card.button_list[0].key)).toEqual({ action: "approval.approve", values: { orderId: "12", stepId: "3" } });
    expect(card.card_action.url).toBe("https://order.example.com/wecom/oauth?next=%2Fm%2Forders%2F12");
    expect(sent).toEqual({
      messageId: "msg-1",
      cardRef: { task_id: card.task_id, response_code: "RC-send", userid: "lisi", card_type: "button_interaction", sent_at: new Date(clock).toISOString() },
      taskId: card.task_id,
    });
  });

  it("updates a card once per response code: the send's, then a click's, then gone", async () => {
    const { config, ch } = channel();
    const ref = { task_id: `co-up-${agent}`, response_code: "RC-send", userid: "lisi", card_type: "button_interaction", sent_at: new Date(clock).toISOString() };
    const bodies: Body[] = [];
    const scope = token(config, "T")
      .post("/cgi-bin/message/update_template_card", (b: Body) => bodies.push(b) > 0).query({ access_token: "T" }).times(2)
      .reply(200, { errcode: 0, errmsg: "ok", invaliduser: [] });
    const decided = approvalCard(buildOrderView({ ...pending, status: "cancelled" }), 3, zh);
    await ch.updateCard({ cardRef: ref, to: to("lisi") }, decided, opts);
    expect(bodies[0]).toMatchObject({ userids: ["lisi"], agentid: config.agentId, response_code: "RC-send" });
    expect(bodies[0].template_card).toMatchObject({ card_type: "button_interaction", task_id: ref.task_id, replace_text: "订单已取消" });
    // Spent: without a new click there is no code left, and no call is made.
    expect(await failure(ch.updateCard({ cardRef: ref, to: to("lisi") }, decided, opts))).toMatchObject({ failure: "gone" });
    await createCardCodes(config, t.app.cache).remember({ taskId: ref.task_id, userId: "lisi", code: "RC-click" }, new Date(clock));
    await ch.updateCard({ cardRef: ref, to: to("lisi") }, approvalCard(pending, 3, zh), opts);
    expect(bodies[1]).toMatchObject({ response_code: "RC-click", template_card: { task_id: ref.task_id, button_list: expect.any(Array) } });
    expect(bodies[1].template_card).not.toHaveProperty("replace_text");
    expect(scope.isDone()).toBe(true);
  });

  it("retires cards WeCom cannot update: text_notice, an expired code, an unknown task", async () => {
    const { config, ch } = channel();
    const card = orderStatusCard(pending, zh);
    const old = new Date(clock - 25 * 3600 * 1000).toISOString();
    expect(await failure(ch.updateCard({ cardRef: { task_id: "co-n", userid: "a", card_type: "text_notice", sent_at: old }, to: to("a") }, card, opts))).toMatchObject({ failure: "gone" });
    expect(await failure(ch.updateCard({ cardRef: { task_id: "co-o", userid: "a", card_type: "button_interaction", response_code: "RC-old", sent_at: old }, to: to("a") }, card, opts))).toMatchObject({ failure: "gone" });
    const scope = token(config, "T").post("/cgi-bin/message/update_template_card").query(true).reply(200, { errcode: 42016, errmsg: "task_id not found" });
    const fresh = { task_id: "co-u", userid: "a", card_type: "button_interaction", response_code: `RC-${agent}`, sent_at: new Date(clock).toISOString() };
    expect(await failure(ch.updateCard({ cardRef: fresh, to: to("a") }, card, opts))).toMatchObject({ failure: "gone" });
    expect(scope.isDone()).toBe(true);
  });

  it("resolves a member with name, mobile, department name, direct leader and status, through the directory", async () => {
    const { config, ch } = channel();
    const scope = token(config, "T")
      .get("/cgi-bin/user/get").query({ access_token: "T", userid: "zhangsan" })
      .reply(200, { errcode: 0, errmsg: "ok", userid: "zhangsan", name: "张三", department: [1, 2], main_department: 2, direct_leader: ["lisi"], mobile: "13800000000", status: 1 })
      .get("/cgi-bin/department/get").query({ access_token: "T", id: "2" })
      .reply(200, { errcode: 0, department: { id: 2, name: "华东销售部", parentid: 1 } })
      .get("/cgi-bin/user/get").query({ access_token: "T", userid: "newbie" })
      .reply(200, { errcode: 0, userid: "newbie", name: "新人", department: [2] })
      .get("/cgi-bin/user/get").query({ access_token: "T", userid: "ghost" })
      .reply(200, { errcode: 60111, errmsg: "userid not found" });
    // No WECOM_ROLE_MAP here: the directory grants and manages no roles.
    const member = { platform: "wecom", found: true, active: true, roles: { granted: [], managed: [] } };
    expect(await ch.resolveUser("zhangsan")).toEqual({ ...member, platformUserId: "zhangsan", name: "张三", mobile: "13800000000", managerPlatformUserId: "lisi", department: "华东销售部" });
    // Newer apps get no mobile (wecom.md 8.1); the department name comes from the cache.
    expect(await ch.resolveUser("newbie")).toEqual({ ...member, platformUserId: "newbie", name: "新人", mobile: null, managerPlatformUserId: null, department: "华东销售部" });
    expect(await failure(ch.resolveUser("ghost"))).toMatchObject({ failure: "rejected", message: "wecom user ghost is not in the directory" });
    expect(scope.isDone()).toBe(true);
  });

  it("notifies a customer through a group robot, and refuses other targets", async () => {
    const { ch } = channel();
    let body: Body = {};
    const scope = nock(API).post("/cgi-bin/webhook/send", (b: Body) => ((body = b), true)).query({ key: "robot-key-1" }).reply(200, { errcode: 0, errmsg: "ok" });
    const card = orderStatusCard(pending, zh);
    const contact = { platform: "wecom", name: "华东医疗", target: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key-1" };
    expect(await ch.notifyCustomer(contact, card, { dedupeKey: "ship:1" })).toEqual({ messageId: "robot:ship:1" });
    expect(body).toEqual({ msgtype: "markdown", markdown: { content: expect.stringContaining("SO-20261123-0001") } });
    expect(scope.isDone()).toBe(true);
    const external = await failure(ch.notifyCustomer({ ...contact, target: "wmAbCdEf" }, card, opts));
    expect(external).toMatchObject({ failure: "rejected", message: expect.stringContaining("external contact with its owner") });
    expect(await failure(ch.notifyCustomer({ ...contact, target: "https://evil.example/cgi-bin/webhook/send?key=x" }, card, opts))).toMatchObject({ failure: "rejected" });
  });

  it("links into the mini-app through our sign-in entry, only to own paths, and cannot confirm past sends", async () => {
    const { ch } = channel();
    // /wecom/oauth starts a silent OAuth sign-in bound to the browser that opens the link (wecom-h5 tests).
    expect(ch.miniAppLink(to("a"), "/m/orders/12")).toBe("https://order.example.com/wecom/oauth?next=%2Fm%2Forders%2F12");
    expect(ch.miniAppLink(to("a"), "//evil.example/x")).toBe("https://order.example.com/wecom/oauth?next=%2Fm");
    expect(await ch.lookupSent?.("k-1")).toBeUndefined();
  });
});

describe("WeCom client: refused tokens and the 客户联系 secret", () => {
  const logged: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void logged.push(line) });
  const deps = (cache = createMemoryCache()) => ({ cache, log, now: () => new Date(), tokenWaitMs: 100 });
  const failure = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => err as WecomApiError);
  const message = { touser: "u1", agentid: 1000002, msgtype: "text", text: { content: "你好" } };

  /** gettoken for `secret`, answering `tokens` in turn, counted. */
  function gettoken(config: WecomConfig, secret: string, tokens: string[]) {
    const asked = { n: 0 };
    nock(API).get("/cgi-bin/gettoken").query({ corpid: config.corpId, corpsecret: secret }).times(tokens.length)
      .reply(200, () => ({ errcode: 0, errmsg: "ok", access_token: tokens[asked.n++], expires_in: 7200 }));
    return asked;
  }

  beforeAll(() => nock.disableNetConnect());
  beforeEach(() => (logged.length = 0));
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it.each([40014, 41001, 42001])("answers errcode %i on message/send by fetching a new token once and retrying with it", async (errcode) => {
    const config = testWecomConfig({ WECOM_SECRET: "app-secret" });
    const asked = gettoken(config, "app-secret", ["OLD", "NEW"]);
    const bodies: Body[] = [];
    const scope = nock(API)
      .post("/cgi-bin/message/send", (b: Body) => bodies.push(b) > 0).query({ access_token: "OLD" }).reply(200, { errcode, errmsg: "token refused" })
      .post("/cgi-bin/message/send", (b: Body) => bodies.push(b) > 0).query({ access_token: "NEW" }).times(2).reply(200, { errcode: 0, errmsg: "ok", msgid: "m-new" });
    const client = createWecomClient(config, deps());
    expect(await client.post("/cgi-bin/message/send", message)).toMatchObject({ errcode: 0, msgid: "m-new" });
    expect(asked.n).toBe(2);
    expect(bodies).toEqual([message, message]);
    // The new token is kept: the next call asks for none.
    await client.post("/cgi-bin/message/send", message);
    expect(asked.n).toBe(2);
    expect(scope.isDone()).toBe(true);
    expect(logged.join("\n")).not.toMatch(/OLD|NEW|app-secret/);
  });

  it.each([40014, 41001, 42001])("does not renew again when the fresh token gets %i too: the call fails retry_later for the outbox", async (errcode) => {
    const config = testWecomConfig({ WECOM_SECRET: "app-secret" });
    const asked = gettoken(config, "app-secret", ["T1", "T2", "T3"]);
    const sent: string[] = [];
    nock(API).persist().post("/cgi-bin/message/send").query(true)
      .reply(200, (uri) => (sent.push(new URL(uri, API).searchParams.get("access_token") ?? ""), { errcode, errmsg: "token refused" }));
    const err = await failure(createWecomClient(config, deps()).post("/cgi-bin/message/send", message));
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ failure: "retry_later", errcode, path: "/cgi-bin/message/send" });
    expect(sent).toEqual(["T1", "T2"]);
    expect(asked.n).toBe(2);
  });

  it("takes WECOM_EXTERNAL_SECRET's own token for every externalcontact call, kept apart from the app's and renewed the same way", async () => {
    const config = testWecomConfig({ WECOM_SECRET: "app-secret", WECOM_EXTERNAL_SECRET: "external-secret" });
    const app = gettoken(config, "app-secret", ["APP"]);
    const external = gettoken(config, "external-secret", ["EXT", "EXT2"]);
    const scope = nock(API)
      .post("/cgi-bin/externalcontact/add_msg_template").query({ access_token: "EXT" }).reply(200, { errcode: 0, msgid: "msg-1" })
      .post("/cgi-bin/externalcontact/get_groupmsg_send_result").query({ access_token: "EXT" }).reply(200, { errcode: 0, send_list: [] })
      .get("/cgi-bin/externalcontact/get").query({ access_token: "EXT", external_userid: "wmA" }).reply(200, { errcode: 0, external_contact: {} })
      .post("/cgi-bin/message/send").query({ access_token: "APP" }).reply(200, { errcode: 0, msgid: "m" });
    const cache = createMemoryCache();
    const client = createWecomClient(config, deps(cache));
    // Concurrent calls share one gettoken per secret.
    await Promise.all([
      client.post("/cgi-bin/externalcontact/add_msg_template", { chat_type: "single", external_userid: ["wmA"], sender: "zhangsan", text: { content: "x" } }),
      client.post("/cgi-bin/externalcontact/get_groupmsg_send_result", { msgid: "msg-1", userid: "zhangsan" }),
      client.get("/cgi-bin/externalcontact/get", { external_userid: "wmA" }),
      client.post("/cgi-bin/message/send", message),
    ]);
    expect(scope.isDone()).toBe(true);
    expect([app.n, external.n]).toEqual([1, 1]);

    // Another instance on the same cache finds both tokens; a refused external token is renewed with its own secret.
    const other = createWecomClient(config, deps(cache));
    const renewal = nock(API)
      .get("/cgi-bin/externalcontact/get").query({ access_token: "EXT", external_userid: "wmA" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
      .get("/cgi-bin/externalcontact/get").query({ access_token: "EXT2", external_userid: "wmA" }).reply(200, { errcode: 0, external_contact: {} })
      .post("/cgi-bin/message/send").query({ access_token: "APP" }).reply(200, { errcode: 0, msgid: "m" });
    await other.get("/cgi-bin/externalcontact/get", { external_userid: "wmA" });
    await other.post("/cgi-bin/message/send", message);
    expect(renewal.isDone()).toBe(true);
    expect([app.n, external.n]).toEqual([1, 2]);
    expect(logged.join("\n")).not.toMatch(/APP|EXT|app-secret|external-secret/);
  });

  it("takes the app's token for externalcontact calls when no 客户联系 secret is set", async () => {
    const config = testWecomConfig({ WECOM_SECRET: "app-secret" });
    const app = gettoken(config, "app-secret", ["APP"]);
    const scope = nock(API)
      .post("/cgi-bin/externalcontact/add_msg_template").query({ access_token: "APP" }).reply(200, { errcode: 0, msgid: "msg-1" })
      .get("/cgi-bin/externalcontact/get").query({ access_token: "APP", external_userid: "wmA" }).reply(200, { errcode: 0, external_contact: {} });
    const client = createWecomClient(config, deps());
    await client.post("/cgi-bin/externalcontact/add_msg_template", { chat_type: "single", external_userid: ["wmA"], sender: "zhangsan", text: { content: "x" } });
    await client.get("/cgi-bin/externalcontact/get", { external_userid: "wmA" });
    expect(scope.isDone()).toBe(true);
    expect(app.n).toBe(1);
  });
});
