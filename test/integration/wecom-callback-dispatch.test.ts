import nock from "nock";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig, textXml, wecomHandshake, wecomPost } from "../helpers/wecom";

/**
 * /wecom/callback in the whole app, where it is dispatched by exact method and path ahead of the routers
 * (src/http/server.ts): the same answers, request id and error shape as through the router, and every
 * other method or spelling of the path still handled by the router.
 */
describe("/wecom/callback dispatch in the app", () => {
  const config = testWecomConfig({ WECOM_API_BASE: "http://127.0.0.1:9" });
  let t: TestApp;
  let seq = 0;
  const msgId = () => `72${String(process.pid).padStart(7, "0")}${String(seq++).padStart(10, "0")}`;
  const rows = () => t.app.db.models.InboundEvent.count({ where: { platform: "wecom" } });

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({
      env: {
        WECOM_CORP_ID: config.corpId,
        WECOM_AGENT_ID: String(config.agentId),
        WECOM_SECRET: config.secret,
        WECOM_TOKEN: config.token,
        WECOM_AES_KEY: config.aesKey,
        WECOM_API_BASE: config.apiBase,
      },
    });
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: "lisi", name: "李四", mobile: null, roles: [], managerId: null, department: null });
  });
  afterAll(async () => {
    await t.app.inbound.drain();
    await t.close();
    nock.enableNetConnect();
  });

  it("stores a message and answers success, with a request id", async () => {
    const id = msgId();
    const before = await rows();
    const cb = wecomPost(config, textXml("lisi", "帮助", id));
    const res = await request(t.callback).post("/wecom/callback").query(cb.query).set("Content-Type", "text/xml").set("X-Request-Id", "cb-request-1").send(cb.body);
    expect([res.status, res.text]).toEqual([200, "success"]);
    expect(res.headers["x-request-id"]).toBe("cb-request-1");
    expect(await rows()).toBe(before + 1);
  });

  it("answers the handshake, and refuses a forged callback in the API's error shape", async () => {
    const hs = await request(t.callback).get("/wecom/callback").query(wecomHandshake(config, "echo-42"));
    expect([hs.status, hs.text]).toEqual([200, "echo-42"]);
    const before = await rows();
    const cb = wecomPost(config, textXml("lisi", "hi", msgId()), { token: "Forged" });
    const res = await request(t.callback).post("/wecom/callback").query(cb.query).set("Content-Type", "text/xml").send(cb.body);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: "unauthorized", message: "callback signature does not match" } });
    expect(res.headers["x-request-id"]).toEqual(expect.any(String));
    expect(await rows()).toBe(before);
  });

  it("leaves other methods and spellings of the path to the router", async () => {
    const put = await request(t.callback).put("/wecom/callback").send("x");
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe("method_not_allowed");
    expect(put.headers.allow).toMatch(/GET/);
    expect(put.headers.allow).toMatch(/POST/);
    const head = await request(t.callback).head("/wecom/callback").query(wecomHandshake(config, "echo-43"));
    expect(head.status).toBe(200);
    // The router matches a trailing slash too; the exact lookup does not, so this proves the fall-through.
    const id = msgId();
    const cb = wecomPost(config, textXml("lisi", "帮助", id));
    const slash = await request(t.callback).post("/wecom/callback/").query(cb.query).set("Content-Type", "text/xml").send(cb.body);
    expect([slash.status, slash.text]).toEqual([200, "success"]);
  });
});
