import crypto from "node:crypto";
import Koa from "koa";
import nock from "nock";
import pino from "pino";
import request from "supertest";
import { getJsApiSignature } from "@wecom/crypto";
import { createWecomClient } from "../../src/channels/wecom/client";
import { wecomJssdkRoutes } from "../../src/channels/wecom/jssdk";
import { oauthState } from "../../src/channels/wecom/links";
import { ownPath, wecomOAuthRoutes } from "../../src/channels/wecom/oauth";
import { refreshWecomUsers } from "../../src/channels/wecom/refresh";
import { createWecomDirectory, mapRoles, type WecomDirectory } from "../../src/channels/wecom/roles";
import { ConfigError, loadConfig, parseRoleMap, type WecomConfig } from "../../src/config";
import type { Role } from "../../src/domain/roles";
import { loadAssets } from "../../src/http/assets";
import { errorHandler } from "../../src/http/middleware/errors";
import { projectPath } from "../../src/paths";
import { createSessions, SESSION_COOKIE } from "../../src/http/session";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";

const API = "https://wecom.test";
const PUBLIC_URL = "https://order.example.com";
const ROLE_MAP = "tag:1=sales,tag:2=manager,dept:5=warehouse";
const ok = (body: Record<string, unknown> = {}) => ({ errcode: 0, errmsg: "ok", ...body });
const uid = (name: string) => `${name}-${crypto.randomBytes(3).toString("hex")}`;
let agent = 3000000 + Math.floor(Math.random() * 1000) * 1000;

/** A fresh WeCom app (own agentid, so its own token, tickets and tag cache) with both routers mounted. */
function h5(t: TestApp, env: Record<string, string> = {}, opts: { directory?: WecomDirectory; log?: pino.Logger } = {}) {
  const config = testWecomConfig({ WECOM_AGENT_ID: String(++agent), WECOM_SECRET: `secret-${agent}`, WECOM_ROLE_MAP: ROLE_MAP, ...env });
  const log = opts.log ?? pino({ level: "silent" });
  const { cache } = t.app;
  const client = createWecomClient(config, { cache, log, now: () => new Date(), tokenWaitMs: 2000 });
  const directory = opts.directory ?? createWecomDirectory(config, { client, cache, log });
  const sessions = createSessions(t.app.config);
  const koa = new Koa({ proxy: true });
  koa.use(errorHandler(log));
  const routers = [
    wecomOAuthRoutes({ config, publicUrl: PUBLIC_URL, client, directory, sessions, serviceDeps: t.app.deps, log, assets: loadAssets(projectPath("dist/assets")) }),
    wecomJssdkRoutes({ config, publicUrl: PUBLIC_URL, client, sessions, now: () => new Date(), log }),
  ];
  for (const r of routers) koa.use(r.routes()).use(r.allowedMethods());
  return { config, directory, server: koa.callback() };
}

/** gettoken for `config`, answering `token`; chain the calls that follow. */
const wecomApi = (config: WecomConfig, token = "T") =>
  nock(API).get("/cgi-bin/gettoken").query({ corpid: config.corpId, corpsecret: config.secret }).reply(200, ok({ access_token: token, expires_in: 7200 }));

const setCookie = (res: request.Response) => ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));

/** The nonce a browser got when it started its sign-in at /wecom/oauth (the co_oauth cookie). */
const NONCE = "0123456789abcdef0123456789abcdef";

function expectPage(res: request.Response, status: number, text: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^text\/html/);
  expect(res.text).toContain(text);
  expect(res.text).not.toMatch(/Error|\n\s+at |node_modules|stack/);
  expect(setCookie(res)).toBeUndefined();
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("WeCom H5: sign-in and JS-SDK", () => {
  let t: TestApp;
  const makeUser = (platformUserId: string, fields: { name?: string; roles?: Role[]; active?: boolean } = {}) =>
    t.app.db.models.User.create({ platform: "wecom", platformUserId, name: fields.name ?? platformUserId, mobile: null, roles: fields.roles ?? [], managerId: null, department: null, active: fields.active ?? true });
  const callback = (server: ReturnType<Koa["callback"]>, config: WecomConfig, next: string, code = "CODE-1") =>
    request(server).get("/wecom/oauth").query({ next, code, state: oauthState(config, next, NONCE) }).set("Cookie", `co_oauth=${NONCE}`);

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe("GET /wecom/oauth without a code", () => {
    it("sends the browser to WeCom's silent authorize page, with a state for next", async () => {
      const { config, server } = h5(t);
      const res = await request(server).get("/wecom/oauth?next=%2Fm%2Forders%2F12%3Ftab%3Dlines");
      expect(res.status).toBe(302);
      const url = new URL(res.headers.location);
      // The sign-in is tied to this browser: a fresh nonce in a cookie only /wecom/oauth reads, and in the state.
      const nonce = /co_oauth=([a-f0-9]{32});/.exec(String(res.headers["set-cookie"]))?.[1] ?? "";
      expect(String(res.headers["set-cookie"])).toMatch(/co_oauth=[a-f0-9]{32}; path=\/wecom\/oauth; expires=[^;]+; samesite=lax; httponly/);
      expect(`${url.origin}${url.pathname}`).toBe("https://open.weixin.qq.com/connect/oauth2/authorize");
      expect(url.hash).toBe("#wechat_redirect");
      expect(Object.fromEntries(url.searchParams)).toEqual({
        appid: config.corpId,
        redirect_uri: `${PUBLIC_URL}/wecom/oauth?next=%2Fm%2Forders%2F12%3Ftab%3Dlines`,
        response_type: "code",
        scope: "snsapi_base",
        state: oauthState(config, "/m/orders/12?tab=lines", nonce),
        agentid: String(config.agentId),
      });
      expect(res.headers["cache-control"]).toBe("no-store");
    });

    it.each([
      ["a scheme-relative URL", "%2F%2Fevil.com"],
      ["an absolute URL", "https%3A%2F%2Fevil.com%2Fm"],
      ["a backslash", "%2F%5Cevil.com"],
      ["a raw backslash pair", "%5C%5Cevil.com"],
      ["a tab browsers would drop", "%2F%09%2Fevil.com"],
      ["a newline browsers would drop", "%2F%0A%2Fevil.com"],
      ["a double-encoded scheme-relative URL (a path of ours once decoded once)", "%252F%252Fevil.com"],
      ["javascript:", "javascript%3Aalert(1)"],
      ["nothing", ""],
    ])("goes to /m, never off-site, for %s", async (_what, raw) => {
      const { server } = h5(t);
      const res = await request(server).get(`/wecom/oauth?next=${raw}`);
      const url = new URL(res.headers.location);
      const landing = new URL(url.searchParams.get("redirect_uri") ?? "").searchParams.get("next");
      expect(landing).toBe("/m");
      expect(url.searchParams.get("state")).toMatch(/^[a-f0-9]{64}$/);
    });

    it("keeps only own paths (unit)", () => {
      expect(ownPath("/m/orders/1?x=1#top")).toBe("/m/orders/1?x=1#top");
      expect(ownPath("/%2F%2Fevil.com")).toBe("/%2F%2Fevil.com"); // a path on our host, not a redirect
      for (const bad of ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "/\t/evil.com", "/\n/evil.com", " /m", "m", undefined, ["/m"], "/".padEnd(2000, "a")]) {
        expect(ownPath(bad)).toBe("/m");
      }
    });
  });

  describe("GET /wecom/oauth?code&state (WeCom's redirect back)", () => {
    it("creates a new member from the directory with mapped roles, signs them in and goes on to next", async () => {
      const { config, server } = h5(t);
      const me = uid("ZhangSan");
      const boss = await makeUser(uid("lisi"));
      const scope = wecomApi(config)
        .get("/cgi-bin/auth/getuserinfo").query({ access_token: "T", code: "CODE-1" }).reply(200, ok({ userid: me, user_ticket: "UT" }))
        .get("/cgi-bin/user/get").query({ access_token: "T", userid: me })
        .reply(200, ok({ userid: me, name: "张三", department: [2, 7], main_department: 7, direct_leader: [boss.platformUserId], status: 1 }))
        .get("/cgi-bin/department/get").query({ access_token: "T", id: "7" }).reply(200, ok({ department: { id: 7, name: "华东销售", parentid: 3 } }))
        // tag 1 lists them by userid in another case; tag 2 holds department 3, which contains 7.
        .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "1" }).reply(200, ok({ tagname: "sales", userlist: [{ userid: me.toLowerCase(), name: "张三" }], partylist: [] }))
        .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "2" }).reply(200, ok({ tagname: "managers", userlist: [], partylist: [3] }))
        .get("/cgi-bin/department/simplelist").query({ access_token: "T", id: "5" }).reply(200, ok({ department_id: [{ id: 5, parentid: 1, order: 1 }, { id: 51, parentid: 5, order: 1 }] }))
        .get("/cgi-bin/department/simplelist").query({ access_token: "T", id: "3" }).reply(200, ok({ department_id: [{ id: 3, parentid: 1, order: 1 }, { id: 7, parentid: 3, order: 2 }] }));

      const res = await callback(server, config, "/m/orders/12");
      expect(scope.isDone()).toBe(true);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("/m/orders/12");
      const user = await t.app.db.models.User.findOne({ where: { platform: "wecom", platformUserId: me } });
      expect(user).toMatchObject({ name: "张三", department: "华东销售", managerId: boss.id, roles: ["sales", "manager"], active: true });
      expect(setCookie(res)).toMatch(new RegExp(`^co_session=${user!.id}\\.\\d+\\.[\\w-]{43}; path=/; expires=.*; samesite=lax; httponly$`));
      const audit = await t.app.db.models.AuditEvent.findOne({ where: { entity: "user", entityId: String(user!.id) } });
      expect(audit).toMatchObject({ action: "created", actor: "system:directory" });
    });

    it("signs a returning member in from the legacy UserId shape without asking the directory", async () => {
      const { config, server } = h5(t);
      const me = await makeUser(uid("wangwu"), { roles: ["finance"] });
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query({ access_token: "T", code: "CODE-1" }).reply(200, ok({ UserId: me.platformUserId, DeviceId: "D1" }));
      const res = await callback(server, config, "/m");
      expect(scope.isDone()).toBe(true);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("/m");
      expect(setCookie(res)).toMatch(new RegExp(`^co_session=${me.id}\\.`));
      expect((await me.reload()).roles).toEqual(["finance"]);
    });

    it("renews a token WeCom expired mid-sign-in and retries the exchange once", async () => {
      const { config, server } = h5(t);
      const me = await makeUser(uid("zhaoliu"));
      const scope = wecomApi(config, "OLD")
        .get("/cgi-bin/auth/getuserinfo").query({ access_token: "OLD", code: "CODE-1" }).reply(200, { errcode: 42001, errmsg: "access_token expired" })
        .get("/cgi-bin/gettoken").query(true).reply(200, ok({ access_token: "NEW", expires_in: 7200 }))
        .get("/cgi-bin/auth/getuserinfo").query({ access_token: "NEW", code: "CODE-1" }).reply(200, ok({ userid: me.platformUserId }));
      const res = await callback(server, config, "/m");
      expect(scope.isDone()).toBe(true);
      expect(res.status).toBe(302);
      expect(setCookie(res)).toMatch(new RegExp(`^co_session=${me.id}\\.`));
    });

    it.each([
      ["a customer (external contact)", { openid: "oAAAA", external_userid: "wmAAAA" }],
      ["a WeChat visitor", { openid: "oBBBB" }],
      ["a visitor in the legacy shape", { OpenId: "oCCCC", DeviceId: "D" }],
    ])("refuses %s with a 403 page and no session", async (_who, answer) => {
      const { config, server } = h5(t);
      const before = await t.app.db.models.User.count();
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok(answer));
      expectPage(await callback(server, config, "/m"), 403, "仅限企业成员");
      expect(scope.isDone()).toBe(true);
      expect(await t.app.db.models.User.count()).toBe(before);
    });

    it("refuses a member outside the app's visibility (60011) or one who has left, and creates nobody", async () => {
      const { config, server } = h5(t);
      const before = await t.app.db.models.User.count();
      const scope = wecomApi(config)
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok({ userid: "hidden" }))
        .get("/cgi-bin/user/get").query(true).reply(200, { errcode: 60011, errmsg: "no privilege to access/modify contact/party/agent" })
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok({ userid: "gone" }))
        .get("/cgi-bin/user/get").query(true).reply(200, ok({ userid: "gone", name: "离职", department: [], status: 5 }));
      expectPage(await callback(server, config, "/m"), 403, "不在本应用的可见范围内");
      expectPage(await callback(server, config, "/m", "CODE-2"), 403, "无法登录");
      expect(scope.isDone()).toBe(true);
      expect(await t.app.db.models.User.count()).toBe(before);
    });

    it("creates a member without roles when the role map cannot be read, rather than refusing them", async () => {
      const { config, server } = h5(t, { WECOM_ROLE_MAP: "tag:9=sales" });
      const me = uid("sunqi");
      const scope = wecomApi(config)
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok({ userid: me }))
        .get("/cgi-bin/user/get").query(true).reply(200, ok({ userid: me, name: "孙七", department: [1] }))
        .get("/cgi-bin/department/get").query(true).reply(200, ok({ department: { id: 1, name: "总部" } }))
        .get("/cgi-bin/tag/get").query(true).reply(200, { errcode: 60011, errmsg: "no privilege" });
      expect((await callback(server, config, "/m")).status).toBe(302);
      expect(scope.isDone()).toBe(true);
      expect(await t.app.db.models.User.findOne({ where: { platformUserId: me } })).toMatchObject({ roles: [], department: "总部" });
    });

    it("answers 400 with a short Chinese page, without calling WeCom, when code or state is missing or forged", async () => {
      const { config, server } = h5(t);
      const good = oauthState(config, "/m", NONCE);
      for (const query of [
        { next: "/m", code: "C" }, // no state
        { next: "/m", code: "C", state: "" },
        { next: "/m", code: "C", state: "not-alnum!" },
        { next: "/m", code: "C", state: good.replace(/^./, (c) => (c === "a" ? "b" : "a")) },
        { next: "/m/other", code: "C", state: good }, // next swapped after signing
        { code: "C", state: good }, // next dropped
        { next: "/m", state: good }, // no code
        { next: "/m", code: "", state: good },
        { next: "/m", code: "x".repeat(513), state: good },
        { next: "/m", code: "has space", state: good },
      ]) {
        expectPage(await request(server).get("/wecom/oauth").query(query).set("Cookie", `co_oauth=${NONCE}`), 400, "登录链接无效");
      }
    });

    it("signs nobody in with a code that comes back to a browser that did not start the sign-in (login CSRF)", async () => {
      const { config, server } = h5(t);
      // Someone's own valid code and state, handed to another member's browser: no cookie, or another sign-in's nonce.
      const state = oauthState(config, "/m", NONCE);
      for (const cookie of [null, `co_oauth=${"f".repeat(32)}`]) {
        const req = request(server).get("/wecom/oauth").query({ next: "/m", code: "ATTACKER-CODE", state });
        const res = await (cookie ? req.set("Cookie", cookie) : req);
        expectPage(res, 400, "请从企业微信里的链接重新进入");
        expect(res.text).toContain('href="/wecom/oauth?next=%2Fm"');
      }
      // WeCom was never asked who the code belongs to (nock would have thrown on an unexpected call).
    });

    it("starts a bound sign-in again for a link issued before sign-ins were bound to the browser", async () => {
      const { config, server } = h5(t);
      const oldState = crypto.createHmac("sha256", config.secret).update("oauth:/m/orders/3").digest("hex").slice(0, 32);
      const res = await request(server).get("/wecom/oauth").query({ next: "/m/orders/3", code: "OLD-CODE", state: oldState });
      expect(res.status).toBe(302);
      const url = new URL(res.headers.location);
      expect(`${url.origin}${url.pathname}`).toBe("https://open.weixin.qq.com/connect/oauth2/authorize");
      const nonce = /co_oauth=([a-f0-9]{32});/.exec(String(res.headers["set-cookie"]))?.[1] ?? "";
      expect(url.searchParams.get("state")).toBe(oauthState(config, "/m/orders/3", nonce));
    });

    it("goes all the way from a card link to the page: entry, WeCom, back with the code, signed in", async () => {
      const { config, server } = h5(t);
      const me = await makeUser(`card-${Date.now()}`, { roles: ["sales"] });
      const agent = request.agent(server);
      const start = await agent.get("/wecom/oauth").query({ next: "/m/orders" });
      const state = new URL(start.headers.location).searchParams.get("state")!;
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: 0, userid: me.platformUserId });
      const back = await agent.get("/wecom/oauth").query({ next: "/m/orders", code: "CODE-OK", state });
      expect(back.status).toBe(302);
      expect(back.headers.location).toBe("/m/orders");
      expect(String(back.headers["set-cookie"])).toMatch(/co_session=/);
      expect(String(back.headers["set-cookie"])).toMatch(/co_oauth=;/); // the nonce is spent
      expect(scope.isDone()).toBe(true);
    });

    it("answers 400 with a way back in when WeCom says the code was already used (40029)", async () => {
      const { config, server } = h5(t);
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: 40029, errmsg: "invalid code" });
      const res = await callback(server, config, "/m/orders/3");
      expectPage(res, 400, "登录链接已失效");
      expect(res.text).toContain('href="/wecom/oauth?next=%2Fm%2Forders%2F3"');
      expect(scope.isDone()).toBe(true);
    });

    it("answers 503 when WeCom is busy and 502 when it refuses, with no stack trace", async () => {
      const { config, server } = h5(t);
      const scope = wecomApi(config)
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: -1, errmsg: "system busy" })
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(502, "bad gateway")
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: 50001, errmsg: "redirect_url not authorised" });
      expectPage(await callback(server, config, "/m"), 503, "企业微信暂时繁忙");
      expectPage(await callback(server, config, "/m"), 503, "企业微信暂时繁忙");
      expectPage(await callback(server, config, "/m"), 502, "错误码 50001");
      expect(scope.isDone()).toBe(true);
    });

    it("speaks English on these pages to a browser that chose English in the mini-app", async () => {
      const { config, server } = h5(t);
      const scope = wecomApi(config)
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: 40029, errmsg: "invalid code" })
        .get("/cgi-bin/auth/getuserinfo").query(true).reply(200, { errcode: 50001, errmsg: "redirect_url not authorised" });
      const english = (next: string) =>
        request(server).get("/wecom/oauth").query({ next, code: "CODE-1", state: oauthState(config, next, NONCE) }).set("Cookie", `co_oauth=${NONCE}; co_lang=en`);
      const expired = await english("/m/orders/3");
      expectPage(expired, 400, "This sign-in link has expired");
      expect(expired.text).toContain('<html lang="en">');
      expect(expired.text).toContain(">Open it again</a>");
      expectPage(await english("/m"), 502, "WeCom refused the sign-in (error code 50001): please ask your admin.");
      expect(scope.isDone()).toBe(true);
    });

    it("answers an unexpected failure with a plain 500 page and logs it once", async () => {
      const logged: Array<{ msg: string; err?: { message: string } }> = [];
      const log = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
      const broken: WecomDirectory = { managedRoles: [], lookup: async () => Promise.reject(new Error("database went away")) };
      const { config, server } = h5(t, {}, { directory: broken, log });
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok({ userid: uid("new") }));
      const res = await callback(server, config, "/m");
      expectPage(res, 500, "服务器出错了");
      expect(res.text).not.toContain("database went away");
      expect(logged.filter((l) => l.msg === "wecom sign-in failed").map((l) => l.err?.message)).toEqual(["database went away"]);
      expect(scope.isDone()).toBe(true);
    });

    it("lands on /m, not off-site, even with a state signed for an unsafe next", async () => {
      const { config, server } = h5(t);
      const me = await makeUser(uid("qianba"));
      const scope = wecomApi(config).get("/cgi-bin/auth/getuserinfo").query(true).times(3).reply(200, ok({ userid: me.platformUserId }));
      for (const next of ["//evil.com", "https://evil.com", "/\t/evil.com"]) {
        const res = await callback(server, config, next);
        expect([res.status, res.headers.location]).toEqual([302, "/m"]);
      }
      expect(scope.isDone()).toBe(true);
    });
  });

  describe("GET /wecom/jssdk-config", () => {
    /** A signed-in member's cookie header, through the real sign-in. */
    async function signIn(server: ReturnType<Koa["callback"]>, config: WecomConfig): Promise<string> {
      const me = await makeUser(uid("member"));
      nock(API).get("/cgi-bin/auth/getuserinfo").query(true).reply(200, ok({ userid: me.platformUserId }));
      const res = await callback(server, config, "/m");
      return setCookie(res)!.split(";")[0];
    }
    const sha1 = (s: string) => crypto.createHash("sha1").update(s).digest("hex");

    it("signs the page for wx.config with the corp ticket and wx.agentConfig with the agent ticket, without the fragment", async () => {
      const { config, server } = h5(t);
      const scope = wecomApi(config)
        .get("/cgi-bin/get_jsapi_ticket").query({ access_token: "T" }).delay(50).reply(200, ok({ ticket: "CORP-TICKET", expires_in: 7200 }))
        .get("/cgi-bin/ticket/get").query({ access_token: "T", type: "agent_config" }).delay(50).reply(200, ok({ ticket: "AGENT-TICKET", expires_in: 7200 }));
      const cookie = await signIn(server, config);
      const page = `${PUBLIC_URL}/m/orders/12?tab=lines&from=card`;
      const ask = () => request(server).get("/wecom/jssdk-config").query({ url: `${page}#/detail` }).set("Cookie", cookie);
      // Three pages at once, then one more: each ticket is fetched once (single flight, then the cache).
      const answers = [...(await Promise.all([ask(), ask(), ask()])), await ask()];
      expect(scope.isDone()).toBe(true);
      for (const res of answers) {
        expect(res.status).toBe(200);
        const { config: c, agentConfig: a } = res.body;
        expect(Object.keys(c).sort()).toEqual(["appId", "nonceStr", "signature", "timestamp"]);
        expect(c.appId).toBe(config.corpId);
        expect(a).toMatchObject({ corpid: config.corpId, agentid: config.agentId });
        expect(Math.abs(c.timestamp - Date.now() / 1000)).toBeLessThan(10); // seconds (40093 otherwise)
        expect(c.signature).toBe(sha1(`jsapi_ticket=CORP-TICKET&noncestr=${c.nonceStr}&timestamp=${c.timestamp}&url=${page}`));
        expect(a.signature).toBe(sha1(`jsapi_ticket=AGENT-TICKET&noncestr=${a.nonceStr}&timestamp=${a.timestamp}&url=${page}`));
        expect(JSON.stringify(res.body)).not.toContain("TICKET");
      }
    });

    it("signs the official example like the documented algorithm (wecom.md 6.3)", () => {
      const ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";
      const got = getJsApiSignature({ ticket, nonceStr: "Wm3WZYTPz0wzccnW", timestamp: 1414587457, url: "http://mp.weixin.qq.com?params=value" });
      expect(got.signature).toBe("0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    });

    it("renews a token WeCom refuses while fetching a ticket, and retries once", async () => {
      const { config, server } = h5(t);
      const cookie = await (async () => {
        wecomApi(config, "OLD");
        return signIn(server, config);
      })();
      const scope = nock(API)
        .get("/cgi-bin/get_jsapi_ticket").query({ access_token: "OLD" }).reply(200, { errcode: 40014, errmsg: "invalid access_token" })
        .get("/cgi-bin/ticket/get").query({ access_token: "OLD", type: "agent_config" }).reply(200, { errcode: 40014, errmsg: "invalid access_token" })
        .get("/cgi-bin/gettoken").query(true).once().reply(200, ok({ access_token: "NEW", expires_in: 7200 }))
        .get("/cgi-bin/get_jsapi_ticket").query({ access_token: "NEW" }).reply(200, ok({ ticket: "C2", expires_in: 7200 }))
        .get("/cgi-bin/ticket/get").query({ access_token: "NEW", type: "agent_config" }).reply(200, ok({ ticket: "A2", expires_in: 7200 }));
      const res = await request(server).get("/wecom/jssdk-config").query({ url: `${PUBLIC_URL}/m` }).set("Cookie", cookie);
      expect(res.status).toBe(200);
      expect(res.body.config.signature).toBe(sha1(`jsapi_ticket=C2&noncestr=${res.body.config.nonceStr}&timestamp=${res.body.config.timestamp}&url=${PUBLIC_URL}/m`));
      expect(scope.isDone()).toBe(true);
    });

    it("answers 401 without a valid session, before anything reaches WeCom", async () => {
      const { server } = h5(t);
      const forged = `${SESSION_COOKIE}=1.${Math.floor(Date.now() / 1000) + 3600}.${"A".repeat(43)}`;
      for (const cookie of [undefined, forged]) {
        const req = request(server).get("/wecom/jssdk-config").query({ url: `${PUBLIC_URL}/m` });
        const res = await (cookie ? req.set("Cookie", cookie) : req);
        expect(res.status).toBe(401);
        expect(res.body.error).toMatchObject({ code: "unauthorized" });
      }
    });

    it.each([
      ["another site", "https://evil.com/m"],
      ["a look-alike host", "https://order.example.com.evil.com/m"],
      ["credentials before another host", "https://order.example.com@evil.com/m"],
      ["plain http", "http://order.example.com/m"],
      ["another port", "https://order.example.com:8443/m"],
      ["a relative URL", "/m"],
    ])("answers 422 naming query.url for %s, and fetches no ticket", async (_what, url) => {
      const { config, server } = h5(t);
      wecomApi(config);
      const cookie = await signIn(server, config);
      const res = await request(server).get("/wecom/jssdk-config").query({ url }).set("Cookie", cookie);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: "validation_failed", details: { path: "query.url" } });
      const missing = await request(server).get("/wecom/jssdk-config").set("Cookie", cookie);
      expect(missing.status).toBe(422);
      expect(missing.body.error.details).toEqual({ path: "query.url" });
    });

    it("answers 503 in our error shape when WeCom will not give a ticket", async () => {
      const { config, server } = h5(t);
      const scope = wecomApi(config)
        .get("/cgi-bin/get_jsapi_ticket").query(true).reply(200, { errcode: -1, errmsg: "system busy" })
        .get("/cgi-bin/ticket/get").query(true).reply(200, ok({ ticket: "A", expires_in: 7200 }));
      const cookie = await signIn(server, config);
      const res = await request(server).get("/wecom/jssdk-config").query({ url: `${PUBLIC_URL}/m` }).set("Cookie", cookie);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: "platform_unavailable" });
      expect(scope.isDone()).toBe(true);
    });
  });
});

describe("WECOM_ROLE_MAP", () => {
  it("reads tag and department rules, ignoring spaces and repeats", () => {
    expect(parseRoleMap(" tag:1=sales, tag:2=manager,dept:5=warehouse,tag:1=sales,,")).toEqual([
      { kind: "tag", id: 1, role: "sales" },
      { kind: "tag", id: 2, role: "manager" },
      { kind: "dept", id: 5, role: "warehouse" },
    ]);
    expect(testWecomConfig({ WECOM_ROLE_MAP: "tag:3=finance" }).roleMap).toEqual([{ kind: "tag", id: 3, role: "finance" }]);
    expect(testWecomConfig().roleMap).toEqual([]);
  });

  it.each([
    ["tag:1=boss", /^WECOM_ROLE_MAP: unknown role "boss" in "tag:1=boss"/],
    ["tag:1=", /^WECOM_ROLE_MAP: unknown role "" in "tag:1="/],
    ["tag1=sales", /^WECOM_ROLE_MAP: "tag1=sales" is not tag:<id>=<role>/],
    ["group:1=sales", /^WECOM_ROLE_MAP: "group:1=sales" is not/],
    ["tag:x=sales", /^WECOM_ROLE_MAP: "tag:x=sales" is not/],
    ["tag:1=sales;dept:2=warehouse", /^WECOM_ROLE_MAP: unknown role "sales;dept:2=warehouse"/],
  ])("stops start-up naming WECOM_ROLE_MAP for %p", (map, message) => {
    expect(() => loadConfig({ WECOM_ROLE_MAP: map })).toThrow(ConfigError);
    expect(() => loadConfig({ WECOM_ROLE_MAP: map })).toThrow(message);
  });

  it("maps tags (members and their departments) and departments (with sub-departments) to roles", () => {
    const rules = parseRoleMap("tag:1=sales,tag:2=manager,dept:5=warehouse,dept:9=admin");
    const tags = new Map([
      [1, { userids: ["amy"], departments: [] }],
      [2, { userids: [], departments: [3] }],
    ]);
    const trees: Record<number, number[]> = { 3: [3, 31], 5: [5, 51, 511], 9: [9] };
    const roles = (userid: string, departments: number[]) => mapRoles(rules, { userid, departments }, tags, (id) => trees[id] ?? [id]);
    expect(roles("Amy", [])).toEqual(["sales"]);
    expect(roles("bob", [31])).toEqual(["manager"]);
    expect(roles("bob", [511, 3])).toEqual(["manager", "warehouse"]);
    expect(roles("amy", [9, 5])).toEqual(["sales", "warehouse", "admin"]);
    expect(roles("carl", [1, 50])).toEqual([]);
  });
});

describe("refreshWecomUsers", () => {
  let t: TestApp;
  const makeUser = (platformUserId: string, fields: { name?: string; roles?: Role[]; active?: boolean; department?: string } = {}) =>
    t.app.db.models.User.create({ platform: "wecom", platformUserId, name: fields.name ?? platformUserId, mobile: null, roles: fields.roles ?? [], managerId: null, department: fields.department ?? null, active: fields.active ?? true });

  beforeEach(async () => {
    t = await createTestApp(); // its own database: the refresh reads every active WeCom user
  });
  afterEach(() => t.close());

  it("updates names, departments, managers and mapped roles, keeps hand-set roles, and deactivates people who left", async () => {
    const { config, directory } = h5(t);
    const boss = await makeUser("boss", { name: "老板", roles: ["director"], department: "总部" });
    const amy = await makeUser("amy", { name: "Amy", roles: ["sales", "finance"] });
    const left = await makeUser("left", { roles: ["sales"] });
    const deleted = await makeUser("deleted");
    const hidden = await makeUser("hidden", { name: "Hidden" });
    const dormant = await makeUser("dormant", { active: false }); // not active: not asked about
    const get = (userid: string, answer: Record<string, unknown>) => scope.get("/cgi-bin/user/get").query({ access_token: "T", userid }).reply(200, answer);
    const scope = wecomApi(config)
      // Each tag and department tree once per run, however many members are checked.
      .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "1" }).once().reply(200, ok({ userlist: [{ userid: "left" }], partylist: [] }))
      .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "2" }).once().reply(200, ok({ userlist: [{ userid: "amy" }], partylist: [] }))
      .get("/cgi-bin/department/simplelist").query({ access_token: "T", id: "5" }).once().reply(200, ok({ department_id: [{ id: 5, parentid: 1 }] }))
      .get("/cgi-bin/department/get").query({ access_token: "T", id: "1" }).once().reply(200, ok({ department: { id: 1, name: "总部" } }))
      .get("/cgi-bin/department/get").query({ access_token: "T", id: "8" }).once().reply(200, ok({ department: { id: 8, name: "华南销售" } }));
    get("boss", ok({ userid: "boss", name: "老板", department: [1], main_department: 1, status: 1 }));
    get("amy", ok({ userid: "amy", name: "Amy Wang", department: [8], main_department: 8, direct_leader: ["boss"], status: 1 }));
    get("left", ok({ userid: "left", name: "left", department: [1], status: 5 }));
    get("deleted", { errcode: 60111, errmsg: "userid not found" });
    get("hidden", { errcode: 60011, errmsg: "no privilege" });

    const summary = await refreshWecomUsers({ serviceDeps: t.app.deps, directory, log: pino({ level: "silent" }) });
    expect(scope.isDone()).toBe(true);
    expect(summary).toEqual({ checked: 4, updated: 1, deactivated: 2, unchanged: 1, skipped: 1, interrupted: false });
    expect(await amy.reload()).toMatchObject({ name: "Amy Wang", department: "华南销售", managerId: boss.id, roles: ["manager", "finance"], active: true });
    expect(await boss.reload()).toMatchObject({ roles: ["director"], active: true });
    expect(await left.reload()).toMatchObject({ active: false, roles: ["sales"] });
    expect(await deleted.reload()).toMatchObject({ active: false });
    expect(await hidden.reload()).toMatchObject({ name: "Hidden", active: true });
    expect(await dormant.reload()).toMatchObject({ active: false });

    const audit = await t.app.db.models.AuditEvent.findOne({ where: { entity: "user", entityId: String(amy.id) } });
    expect(audit).toMatchObject({
      action: "refreshed",
      actor: "system:directory",
      before: { name: "Amy", department: null, managerId: null, roles: ["sales", "finance"] },
      after: { name: "Amy Wang", department: "华南销售", managerId: boss.id, roles: ["manager", "finance"] },
    });
    expect(await t.app.db.models.AuditEvent.count({ where: { entity: "user", action: "deactivated" } })).toBe(2);
  });

  it("creates a direct leader who is not yet a user and links them; a leader WeCom cannot tell about leaves the member as is", async () => {
    const { config, directory } = h5(t);
    const rep = await makeUser("rep", { roles: ["finance"] });
    const other = await makeUser("other");
    const get = (userid: string, answer: Record<string, unknown>) => scope.get("/cgi-bin/user/get").query({ access_token: "T", userid }).reply(200, answer);
    const scope = wecomApi(config)
      .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "1" }).once().reply(200, ok({ userlist: [{ userid: "rep" }], partylist: [] }))
      .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "2" }).once().reply(200, ok({ userlist: [{ userid: "newboss" }], partylist: [] }))
      .get("/cgi-bin/department/simplelist").query({ access_token: "T", id: "5" }).once().reply(200, ok({ department_id: [{ id: 5, parentid: 1 }] }));
    get("rep", ok({ userid: "rep", name: "王小明", department: [], direct_leader: ["newboss"], status: 1 }));
    // One level: the new leader's own leader is neither looked up nor created.
    get("newboss", ok({ userid: "newboss", name: "新经理", department: [], direct_leader: ["bigboss"], status: 1 }));
    get("other", ok({ userid: "other", name: "Other", department: [], direct_leader: ["ghost"], status: 1 }));
    get("ghost", { errcode: 60111, errmsg: "userid not found" });

    const summary = await refreshWecomUsers({ serviceDeps: t.app.deps, directory, log: pino({ level: "silent" }) });
    expect(scope.isDone()).toBe(true);
    expect(summary).toEqual({ checked: 2, updated: 2, deactivated: 0, unchanged: 0, skipped: 0, interrupted: false });
    const m = t.app.db.models;
    const leader = await m.User.findOne({ where: { platform: "wecom", platformUserId: "newboss" } });
    expect(leader).toMatchObject({ name: "新经理", roles: ["manager"], managerId: null, active: true });
    expect(await rep.reload()).toMatchObject({ name: "王小明", managerId: leader!.id, roles: ["sales", "finance"] });
    expect(await other.reload()).toMatchObject({ name: "Other", managerId: null, active: true });
    expect(await m.User.count({ where: { platform: "wecom", platformUserId: ["bigboss", "ghost"] } })).toBe(0);
  });

  it("leaves mapped roles alone when a tag cannot be read, and stops early when WeCom asks it to slow down", async () => {
    const { config, directory } = h5(t);
    const first = await makeUser("first", { roles: ["sales"] });
    const second = await makeUser("second", { roles: ["sales"] });
    const scope = wecomApi(config)
      .get("/cgi-bin/user/get").query({ access_token: "T", userid: "first" }).reply(200, ok({ userid: "first", name: "First", department: [] }))
      .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "1" }).reply(200, { errcode: 60011, errmsg: "no privilege" })
      .get("/cgi-bin/user/get").query({ access_token: "T", userid: "second" }).reply(200, { errcode: 45009, errmsg: "api freq out of limit" });
    const summary = await refreshWecomUsers({ serviceDeps: t.app.deps, directory, log: pino({ level: "silent" }) });
    expect(scope.isDone()).toBe(true);
    expect(summary).toMatchObject({ checked: 1, updated: 1, interrupted: true });
    expect(await first.reload()).toMatchObject({ name: "First", roles: ["sales"] });
    expect(await second.reload()).toMatchObject({ name: "second", roles: ["sales"], active: true });

    // The next run starts where this one stopped, then wraps around.
    const order: string[] = [];
    const answer = (uri: string) => {
      const userid = new URL(uri, API).searchParams.get("userid") ?? "";
      order.push(userid);
      return ok({ userid, name: userid.toUpperCase(), department: [] });
    };
    const again = nock(API).get("/cgi-bin/user/get").query(true).times(2).reply(200, answer);
    const next = await refreshWecomUsers({ serviceDeps: t.app.deps, directory, log: pino({ level: "silent" }) });
    expect(again.isDone()).toBe(true);
    expect(order).toEqual(["second", "first"]);
    expect(next).toMatchObject({ checked: 2, interrupted: false });
  });
});
