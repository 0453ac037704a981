import crypto from "node:crypto";
import nock from "nock";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { dingtalkEnv } from "../helpers/dingtalk-gateway";
import { DT_API, DT_OAPI } from "../helpers/dingtalk-api";

describe("DingTalk H5 sign-in and JSAPI", () => {
  let t: TestApp;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({ env: dingtalkEnv({ DINGTALK_API_BASE: DT_API, DINGTALK_OAPI_BASE: DT_OAPI, DINGTALK_ROLE_MAP: "dept:7=sales" }) });
    nock(DT_OAPI).persist().get("/gettoken").query(true).reply(200, { errcode: 0, access_token: "O1", expires_in: 7200 });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await t.close();
  });

  it("serves the sign-in page with the local jsapi bundle, never a CDN", async () => {
    const page = await request(t.callback).get("/dingtalk/h5").query({ next: "/m/orders/1" });
    expect(page.status).toBe(200);
    expect(page.text).toContain('src="/dingtalk/static/dingtalk-jsapi.js"');
    expect(page.text).toContain('"next":"/m/orders/1"');
    expect(page.text).not.toMatch(/https?:\/\/[^"]*\.js/);
    const js = await request(t.callback).get("/dingtalk/static/dingtalk-jsapi.js");
    expect(js.status).toBe(200);
    expect(js.text).toContain("window.dd=");
  });

  it("serves the sign-in page in Chinese, or in English to a browser that chose English", async () => {
    const zh = await request(t.callback).get("/dingtalk/h5").query({ next: "/m" });
    expect(zh.text).toContain('<html lang="zh-CN"');
    expect(zh.text).toContain("正在通过钉钉登录，请稍候。");
    const en = await request(t.callback).get("/dingtalk/h5").query({ next: "/m" }).set("Cookie", "co_lang=en");
    expect(en.text).toContain('<html lang="en"');
    expect(en.text).toContain("Signing you in through DingTalk, one moment.");
    expect(en.text).toContain('"outside":"Please open this page in the DingTalk app."');
  });

  it("trades a code for a session, creates the member with mapped roles, and only goes to own paths", async () => {
    const scope = nock(DT_OAPI)
      .post("/topapi/v2/user/getuserinfo", { code: "CODE1" }).query({ access_token: "O1" }).reply(200, { errcode: 0, result: { userid: "u-h5", name: "王小明" } })
      .post("/topapi/v2/user/get").query(true).reply(200, { errcode: 0, result: { userid: "u-h5", name: "王小明", dept_id_list: [7], manager_userid: "" } })
      .post("/topapi/v2/department/get").query(true).reply(200, { errcode: 0, result: { name: "销售部" } });
    const res = await request(t.callback).post("/dingtalk/h5/session").send({ code: "CODE1", next: "//evil.example/x" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ next: "/m" });
    expect(res.headers["set-cookie"]?.[0]).toMatch(/^co_session=/);
    expect(scope.isDone()).toBe(true);
    const user = await t.app.db.models.User.findOne({ where: { platform: "dingtalk", platformUserId: "u-h5" } });
    expect(user).toMatchObject({ name: "王小明", roles: ["sales"], department: "销售部" });
  });

  it("refuses a code DingTalk refuses, and signs JSAPI config only for signed-in members and own pages", async () => {
    nock(DT_OAPI).post("/topapi/v2/user/getuserinfo").query(true).reply(200, { errcode: 40078, errmsg: "不存在的临时授权码" });
    expect((await request(t.callback).post("/dingtalk/h5/session").send({ code: "BAD" })).status).toBe(401);
    expect((await request(t.callback).get("/dingtalk/jsapi-config").query({ url: "https://order.example.com/m" })).status).toBe(401);

    nock(DT_OAPI).post("/topapi/v2/user/getuserinfo").query(true).reply(200, { errcode: 0, result: { userid: "u-h5" } });
    const agent = request.agent(t.callback);
    await agent.post("/dingtalk/h5/session").send({ code: "CODE2" }).expect(200);
    nock(DT_OAPI).get("/get_jsapi_ticket").query({ access_token: "O1" }).reply(200, { errcode: 0, ticket: "TICKET", expires_in: 7200 });
    const url = "https://order.example.com/m/warehouse?x=1";
    const cfg = await agent.get("/dingtalk/jsapi-config").query({ url: `${url}#frag` });
    expect(cfg.status).toBe(200);
    const expected = crypto.createHash("sha1").update(`jsapi_ticket=TICKET&noncestr=${cfg.body.nonceStr}&timestamp=${cfg.body.timeStamp}&url=${url}`).digest("hex");
    expect(cfg.body).toMatchObject({ corpId: "dingcorp0123456789", agentId: "3000001", signature: expected, jsApiList: ["biz.util.scan"] });
    expect((await agent.get("/dingtalk/jsapi-config").query({ url: "https://evil.example/m" })).status).toBe(422);
  });
});
