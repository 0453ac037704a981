import nock from "nock";
import pino from "pino";
import { createMemoryCache } from "../../src/cache/memory";
import { ChannelError } from "../../src/channels/channel";
import { createDingtalkChannel } from "../../src/channels/dingtalk";
import { createDingtalkClient } from "../../src/channels/dingtalk/client";
import { loadConfig, ConfigError } from "../../src/config";
import type { Card } from "../../src/domain/card";
import { dingtalkEnv } from "../helpers/dingtalk-gateway";
import { DT_API, DT_OAPI, expectedSign } from "../helpers/dingtalk-api";

const config = loadConfig(dingtalkEnv({ DINGTALK_API_BASE: DT_API, DINGTALK_OAPI_BASE: DT_OAPI })).dingtalk!;
const log = pino({ level: "silent" });
const setup = () => {
  const cache = createMemoryCache();
  const deps = { cache, log, now: () => new Date(), publicUrl: "https://order.example.com" };
  return { cache, client: createDingtalkClient(config, deps), channel: createDingtalkChannel(config, deps) };
};
const to = { platform: "dingtalk" as const, platformUserId: "rep1" };
const opts = { dedupeKey: "k1" };
const card: Card = { kind: "order_status", locale: "zh-CN", title: "订单 SO-1", fields: [{ label: "客户", value: "华东[贸易]" }], buttons: [], link: { label: "详情", path: "/m/orders/1" } };
const tokenOnce = (token = "T1") => nock(DT_API).post("/v1.0/oauth2/accessToken", { appKey: "dingclientid", appSecret: "client-secret" }).reply(200, { accessToken: token, expireIn: 7200 });

describe("DingTalk OpenAPI client and channel", () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it("fetches the token once, caches it, and sends it as x-acs-dingtalk-access-token", async () => {
    const { channel } = setup();
    const scope = tokenOnce();
    const sends = nock(DT_API, { reqheaders: { "x-acs-dingtalk-access-token": "T1" } })
      .post("/v1.0/robot/oToMessages/batchSend", (b) => b.robotCode === "dingrobot0123" && b.msgKey === "sampleText" && JSON.parse(b.msgParam).content === "你好" && b.userIds[0] === "rep1")
      .times(2)
      .reply(200, { processQueryKey: "pq1", invalidStaffIdList: [], flowControlledStaffIdList: [] });
    expect(await channel.sendText(to, "你好", opts)).toEqual({ messageId: "pq1" });
    await channel.sendText(to, "你好", opts);
    expect(scope.isDone() && sends.isDone()).toBe(true);
  });

  it("renews an expired token mid-flow and retries once", async () => {
    const { channel } = setup();
    tokenOnce("OLD");
    tokenOnce("NEW");
    const scope = nock(DT_API)
      .post("/v1.0/robot/oToMessages/batchSend").matchHeader("x-acs-dingtalk-access-token", "OLD").reply(401, { code: "InvalidAuthentication", message: "token is expired" })
      .post("/v1.0/robot/oToMessages/batchSend").matchHeader("x-acs-dingtalk-access-token", "NEW").reply(200, { processQueryKey: "pq2" });
    expect((await channel.sendText(to, "x", opts)).messageId).toBe("pq2");
    expect(scope.isDone()).toBe(true);
  });

  it("renews an old-API token refused with 42001 and retries once", async () => {
    const { client } = setup();
    nock(DT_OAPI).get("/gettoken").query({ appkey: "dingclientid", appsecret: "client-secret" }).reply(200, { errcode: 0, access_token: "O1", expires_in: 7200 });
    nock(DT_OAPI).get("/gettoken").query(true).reply(200, { errcode: 0, access_token: "O2", expires_in: 7200 });
    const scope = nock(DT_OAPI)
      .post("/topapi/v2/user/get").query({ access_token: "O1" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
      .post("/topapi/v2/user/get", { userid: "rep1", language: "zh_CN" }).query({ access_token: "O2" }).reply(200, { errcode: 0, result: { userid: "rep1", name: "王小明", manager_userid: "boss", dept_id_list: [] } });
    const user = await createDingtalkChannel(config, { cache: createMemoryCache(), log, now: () => new Date(), publicUrl: "https://x", client }).resolveUser("rep1");
    expect(user).toEqual({ platform: "dingtalk", platformUserId: "rep1", found: true, name: "王小明", mobile: null, managerPlatformUserId: "boss", department: null, active: true, roles: { granted: [], managed: [] } });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [429, { code: "Throttling", message: "too many" }],
    [403, { code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", message: "qps" }],
    [503, {}],
  ])("turns HTTP %s into retry_later", async (status, body) => {
    const { channel } = setup();
    tokenOnce();
    nock(DT_API).post("/v1.0/robot/oToMessages/batchSend").reply(status, body, { "Retry-After": "2" });
    await expect(channel.sendText(to, "x", opts)).rejects.toMatchObject({ failure: "retry_later", retryAfterMs: 2000 });
  });

  it("reports flow-controlled users as retry_later and invalid staff ids as gone", async () => {
    const { channel } = setup();
    tokenOnce();
    nock(DT_API)
      .post("/v1.0/robot/oToMessages/batchSend").reply(200, { processQueryKey: "p", flowControlledStaffIdList: ["rep1"], invalidStaffIdList: [] })
      .post("/v1.0/robot/oToMessages/batchSend").reply(200, { processQueryKey: "p", flowControlledStaffIdList: [], invalidStaffIdList: ["rep1"] });
    await expect(channel.sendText(to, "x", opts)).rejects.toMatchObject({ failure: "retry_later" });
    await expect(channel.sendText(to, "x", opts)).rejects.toMatchObject({ failure: "gone" });
  });

  it("rejects a 400 without retrying", async () => {
    const { channel } = setup();
    tokenOnce();
    const scope = nock(DT_API).post("/v1.0/robot/oToMessages/batchSend").once().reply(400, { code: "InvalidParameter", message: "bad" });
    await expect(channel.sendText(to, "x", opts)).rejects.toBeInstanceOf(ChannelError);
    expect(scope.isDone()).toBe(true);
  });

  it("without a template sends an action card whose buttons open signed links, and cannot update it", async () => {
    const { channel } = setup();
    tokenOnce();
    let sent: Record<string, string> = {};
    nock(DT_API).post("/v1.0/robot/oToMessages/batchSend", (b) => b.msgKey === "sampleActionCard3" && !!(sent = JSON.parse(b.msgParam))).reply(200, { processQueryKey: "p" });
    const withButtons: Card = { ...card, kind: "approval", buttons: [{ action: "approval.approve", label: "同意", style: "primary", values: { orderId: "1", stepId: "2" } }, { action: "approval.reject", label: "驳回", style: "danger", values: { orderId: "1", stepId: "2" } }] };
    const ref = await channel.sendCard(to, withButtons, opts);
    expect(sent).toMatchObject({ actionTitle1: "同意", actionTitle2: "驳回", actionTitle3: "详情" });
    expect(sent.actionURL1).toMatch(/^https:\/\/order\.example\.com\/dingtalk\/h5\?next=%2Fdingtalk%2Fact%3Fk%3D/);
    expect(sent.text).toContain("华东［贸易］"); // markdown control characters cannot add links
    await expect(channel.updateCard({ cardRef: ref.cardRef!, to }, card, opts)).rejects.toMatchObject({ failure: "gone" });
  });

  it("signs a customer's custom robot webhook, and refuses targets elsewhere", async () => {
    const { channel } = setup();
    const secret = "SEC0123456789abcdef";
    let query: URLSearchParams | null = null;
    nock(DT_OAPI).post("/robot/send").query((q) => !!(query = new URLSearchParams(q as Record<string, string>))).reply(200, { errcode: 0 });
    await channel.notifyCustomer({ platform: "dingtalk", target: `${DT_OAPI}/robot/send?access_token=abc`, name: "c", secret }, card, opts);
    expect(query!.get("access_token")).toBe("abc");
    expect(query!.get("sign")).toBe(expectedSign(secret, query!.get("timestamp")!));
    await expect(channel.notifyCustomer({ platform: "dingtalk", target: "https://evil.example/robot/send?access_token=abc", name: "c" }, card, opts)).rejects.toMatchObject({ failure: "rejected" });
  });

  it("sends a group message to a customer's openConversationId", async () => {
    const { channel } = setup();
    tokenOnce();
    const scope = nock(DT_API).post("/v1.0/robot/groupMessages/send", (b) => b.openConversationId === "cidABC==" && b.msgKey === "sampleMarkdown" && JSON.parse(b.msgParam).title === "订单 SO-1").reply(200, { processQueryKey: "g1" });
    expect((await channel.notifyCustomer({ platform: "dingtalk", target: "cidABC==", name: "c" }, card, opts)).messageId).toBe("g1");
    expect(scope.isDone()).toBe(true);
  });
});

describe("loadConfig: DingTalk", () => {
  it("is off with nothing set, and on with the core five", () => {
    expect(loadConfig({}).dingtalk).toBeNull();
    expect(loadConfig(dingtalkEnv()).dingtalk).toMatchObject({ apiBase: "https://api.dingtalk.com", oapiBase: "https://oapi.dingtalk.com", templates: { approval: null, action: null } });
  });

  it("stops start-up naming every missing core setting", () => {
    const partial = { DINGTALK_CLIENT_ID: "id", DINGTALK_CLIENT_SECRET: "s" };
    expect(() => loadConfig(partial)).toThrow(ConfigError);
    expect(() => loadConfig(partial)).toThrow("DINGTALK_ROBOT_CODE, DINGTALK_CORP_ID, DINGTALK_AGENT_ID: required when DINGTALK_CLIENT_ID is set");
  });

  it("refuses a bad role map or base URL", () => {
    expect(() => loadConfig(dingtalkEnv({ DINGTALK_ROLE_MAP: "dept:1=boss" }))).toThrow(/DINGTALK_ROLE_MAP: unknown role "boss"/);
    expect(() => loadConfig(dingtalkEnv({ DINGTALK_API_BASE: "nope" }))).toThrow(/^DINGTALK_API_BASE: /);
  });
});
