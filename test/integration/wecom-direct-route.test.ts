import http from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import request from "supertest";
import { clientIp } from "../../src/http/direct-routes";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig, textXml, wecomEnv, wecomHandshake, wecomPost } from "../helpers/wecom";

/**
 * POST /wecom/callback is answered ahead of Koa (src/http/direct-routes.ts). Everything Koa's chain
 * gives a response must be on these answers too: security headers, request id and trace, the per-IP
 * limit, the error shape, the request metrics; and every other method on the path is still Koa's.
 */
describe("the WeCom callback answered ahead of Koa", () => {
  const config = testWecomConfig();
  const METRICS_TOKEN = "metrics-token-direct-0123";
  let t: TestApp;
  let seq = 0;
  const msgId = () => `${Date.now()}${String(seq++).padStart(6, "0")}`;
  const stored = () => t.app.db.models.InboundEvent.count({ where: { platform: "wecom" } });
  const post = (cb: { query: Record<string, string>; body: string }) =>
    request(t.callback).post("/wecom/callback").query(cb.query).set("Content-Type", "text/xml").send(cb.body);

  beforeAll(async () => {
    t = await createTestApp({ env: { ...wecomEnv(config, "http://127.0.0.1:9"), METRICS_TOKEN, RATE_LIMIT_CALLBACK_PER_MIN: "10" } });
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: "zhangsan", name: "张三", mobile: null, roles: [], managerId: null, department: null });
  });
  afterAll(async () => {
    await t.app.inbound.drain();
    await t.close();
  });

  it("answers an accepted callback with the same security headers as a Koa route, its request id, and stores it under that trace id", async () => {
    const koaAnswer = await request(t.callback).get("/healthz");
    const res = await post(wecomPost(config, textXml("zhangsan", "帮助", msgId()))).set("X-Request-Id", "wecom-direct-trace-1");
    expect(res.status).toBe(200);
    expect(res.text).toBe("success");
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.headers["x-request-id"]).toBe("wecom-direct-trace-1");
    for (const name of ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "cross-origin-opener-policy"]) {
      expect(res.headers[name]).toBeDefined();
      expect(res.headers[name]).toBe(koaAnswer.headers[name]);
    }
    expect(res.headers["x-ratelimit-limit"]).toBe("10");
    const row = await t.app.db.models.InboundEvent.findOne({ where: { platform: "wecom" }, order: [["id", "DESC"]] });
    expect((row!.payload as { traceId?: string }).traceId).toBe("wecom-direct-trace-1");
  });

  it("refuses a forged callback in the API's error shape, with the headers, and stores nothing", async () => {
    const before = await stored();
    const cb = wecomPost(config, textXml("zhangsan", "帮助", msgId()), { token: "not-the-token" });
    const res = await post(cb);
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.body).toEqual({ error: { code: "unauthorized", message: "callback signature does not match" } });
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await stored()).toBe(before);
  });

  it("refuses an oversized body (413) and a cut-off envelope (422) without storing anything", async () => {
    const before = await stored();
    const big = await request(t.callback).post("/wecom/callback").query({ msg_signature: "x", timestamp: "1", nonce: "1" }).set("Content-Type", "text/xml").send("<xml>" + "a".repeat(70 * 1024) + "</xml>");
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    const cb = wecomPost(config, textXml("zhangsan", "帮助", msgId()));
    const cut = await post({ query: cb.query, body: cb.body.slice(0, cb.body.length - 20) });
    expect(cut.status).toBe(422);
    expect(cut.body.error.code).toBe("validation_failed");
    expect(await stored()).toBe(before);
  });

  it("leaves other methods on the path to Koa, and the URL handshake still answers", async () => {
    const put = await request(t.callback).put("/wecom/callback").send("x");
    expect(put.status).toBe(405);
    expect(put.headers.allow).toContain("POST");
    expect(put.body.error.code).toBe("method_not_allowed");
    const hs = await request(t.callback).get("/wecom/callback").query(wecomHandshake(config, "echo-direct-1"));
    expect(hs.status).toBe(200);
    expect(hs.text).toBe("echo-direct-1");
  });

  it("counts the answers in the request metrics under the route, by status", async () => {
    const text = (await request(t.callback).get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`)).text;
    expect(text).toMatch(/chatorder_http_request_duration_seconds_count\{method="POST",route="\/wecom\/callback",status="200"\} [1-9]/);
    expect(text).toMatch(/chatorder_http_request_duration_seconds_count\{method="POST",route="\/wecom\/callback",status="401"\} [1-9]/);
  });

  it("applies the callbacks' per-IP limit: 429 with Retry-After once it is used up, nothing stored", async () => {
    let last = await post(wecomPost(config, textXml("zhangsan", "帮助", msgId())));
    for (let i = 0; i < 12 && last.status !== 429; i++) last = await post(wecomPost(config, textXml("zhangsan", "帮助", msgId())));
    expect(last.status).toBe(429);
    expect(last.body.error.code).toBe("rate_limited");
    expect(Number(last.headers["retry-after"])).toBeGreaterThan(0);
    expect(last.headers["x-ratelimit-remaining"]).toBe("0");
    const before = await stored();
    expect((await post(wecomPost(config, textXml("zhangsan", "帮助", msgId())))).status).toBe(429);
    expect(await stored()).toBe(before);
  });
});

describe("clientIp", () => {
  /** What Koa's ctx.ip says for the same request and settings. */
  async function both(proxy: boolean, hops: number, xff?: string): Promise<{ koa: string; ours: string }> {
    const koa = new Koa({ proxy, maxIpsCount: hops });
    let ours = "";
    koa.use((ctx) => {
      ours = clientIp(ctx.req, proxy, hops);
      ctx.body = ctx.ip;
    });
    const server = http.createServer(koa.callback()).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).get("/").set(xff === undefined ? {} : { "X-Forwarded-For": xff });
      return { koa: res.text, ours };
    } finally {
      server.close();
    }
  }

  it.each([
    [false, 0, "203.0.113.9"],
    [true, 0, "203.0.113.9, 10.0.0.2"],
    [true, 1, "198.51.100.7, 203.0.113.9"],
    [true, 2, "forged, 198.51.100.7, 203.0.113.9"],
    [true, 1, undefined],
    [true, 0, ""],
  ])("matches Koa's ctx.ip (proxy %s, hops %s, X-Forwarded-For %s)", async (proxy, hops, xff) => {
    const { koa, ours } = await both(proxy, hops, xff);
    expect(ours).toBe(koa);
  });
});
