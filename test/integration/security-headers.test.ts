import request from "supertest";
import { loadConfig } from "../../src/config";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildUser } from "../helpers/factories";
import { dingtalkEnv } from "../helpers/dingtalk-gateway";

/** The policy as a map of directive → sources. */
function csp(header: string | undefined): Map<string, string[]> {
  expect(header).toBeDefined();
  return new Map(header!.split(";").map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map(([name, ...sources]) => [name, sources]));
}

describe("security headers", () => {
  describe("over plain http", () => {
    let t: TestApp;
    let warehouseUid: string;
    beforeAll(async () => {
      t = await createTestApp({ env: { PUBLIC_URL: "http://10.0.0.5:3000" } });
      warehouseUid = (await buildUser(t.app, ["warehouse"])).platformUserId;
    });
    afterAll(() => t.close());

    it.each([
      ["a mini-app page", "/m", 200],
      ["the API", "/api/v1/products", 200],
      ["an API refusal", "/api/v1/nowhere", 404],
      ["an asset-less 404", "/no/such/path", 404],
      ["the health check", "/healthz", 200],
      ["the simulator sign-in", "/dev/login?u=nobody", 404],
    ])("puts them on %s", async (_, path, status) => {
      const agent = request.agent(t.callback);
      await agent.get(`/dev/login?u=${warehouseUid}&next=/m`);
      const res = await agent.get(path).set(t.apiKeyHeader);
      expect(res.status).toBe(status);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["referrer-policy"]).toBe("same-origin");
      expect(res.headers["strict-transport-security"]).toBeUndefined();
      const policy = csp(res.headers["content-security-policy"]);
      expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
      expect(policy.has("upgrade-insecure-requests")).toBe(false);
    });

    it("allows scripts and styles only from the app itself: no inline code, no eval, no other origin", async () => {
      const agent = request.agent(t.callback);
      await agent.get(`/dev/login?u=${warehouseUid}&next=/m`);
      const page = await agent.get("/m/warehouse");
      const policy = csp(page.headers["content-security-policy"]);
      expect(policy.get("script-src")).toEqual(["'self'"]);
      expect(policy.get("style-src")).toEqual(["'self'"]);
      expect(policy.get("default-src")).toEqual(["'self'"]);
      expect(policy.get("object-src")).toEqual(["'none'"]);
      expect(policy.get("base-uri")).toEqual(["'none'"]);
      expect(page.headers["content-security-policy"]).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      // The pages keep their side of it: no inline script, handler or style attribute.
      expect(page.text).not.toMatch(INLINE);
    });
  });

  describe("over https", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { PUBLIC_URL: "https://order.example.com" } });
    });
    afterAll(() => t.close());

    it("adds HSTS and upgrade-insecure-requests", async () => {
      const res = await request(t.callback).get("/healthz");
      expect(res.headers["strict-transport-security"]).toBe("max-age=15552000");
      expect(csp(res.headers["content-security-policy"]).get("upgrade-insecure-requests")).toEqual([]);
    });
  });
});

/** Inline <script> or <style>, an on…= handler or a style attribute: what the policy would refuse. */
const INLINE = /<script>|<script(?![^>]*(src=|type="application\/json"))[^>]*>|\son[a-z]+=|style=|<style/;

describe("the pages outside the mini-app", () => {
  it("have no inline script or style either: DingTalk sign-in, WeCom sign-in refusals", async () => {
    const t = await createTestApp({
      env: dingtalkEnv({
        PUBLIC_URL: "http://10.0.0.5",
        WECOM_CORP_ID: "ww0123456789abcdef",
        WECOM_AGENT_ID: "1000002",
        WECOM_SECRET: "test-secret",
        WECOM_TOKEN: "TestToken123",
        WECOM_AES_KEY: "A".repeat(43),
      }),
    });
    try {
      const h5 = await request(t.callback).get("/dingtalk/h5?next=/m");
      expect(h5.status).toBe(200);
      expect(h5.text).toMatch(/<link rel="stylesheet" href="\/assets\/plain-pages-css-/);
      expect(h5.text).toMatch(/<script src="\/assets\/dingtalk-pages-[^"]+\.js">/);
      const refusal = await request(t.callback).get("/wecom/oauth").query({ code: "c", state: "forged", next: "/m" });
      expect(refusal.status).toBe(400);
      expect(refusal.text).toContain("登录链接无效");
      for (const page of [h5, refusal]) {
        expect(page.text).not.toMatch(INLINE);
        expect(csp(page.headers["content-security-policy"]).get("script-src")).toEqual(["'self'"]);
      }
    } finally {
      await t.close();
    }
  });
});

describe("the session cookie's Secure flag", () => {
  const base = { SESSION_SECRET: "s".repeat(40) };

  it("is on in production and whenever PUBLIC_URL is https, off for plain http outside production", () => {
    expect(loadConfig({ ...base, NODE_ENV: "production", PUBLIC_URL: "http://10.0.0.5" }).session.secure).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: "development", PUBLIC_URL: "https://order.example.com" }).session.secure).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: "development", PUBLIC_URL: "HTTPS://ORDER.EXAMPLE.COM" }).session.secure).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: "development", PUBLIC_URL: "http://10.0.0.5" }).session.secure).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: "development" }).session.secure).toBe(false);
  });

  it("follows SESSION_COOKIE_SECURE when it is set, and refuses a value that is not a boolean", () => {
    expect(loadConfig({ ...base, NODE_ENV: "production", SESSION_COOKIE_SECURE: "false" }).session.secure).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: "development", SESSION_COOKIE_SECURE: "true" }).session.secure).toBe(true);
    expect(() => loadConfig({ ...base, SESSION_COOKIE_SECURE: "maybe" })).toThrow(/SESSION_COOKIE_SECURE: must be true or false/);
  });

  it("is set on the cookie of a sign-in behind a TLS proxy that sends no X-Forwarded-Proto", async () => {
    const t = await createTestApp({ env: { PUBLIC_URL: "https://order.example.com", SESSION_COOKIE_SECURE: "" } });
    try {
      const uid = (await buildUser(t.app, ["sales"])).platformUserId;
      const res = await request(t.callback).get(`/dev/login?u=${uid}&next=/m`);
      expect(res.status).toBe(302);
      const cookie = res.headers["set-cookie"]?.[0] ?? "";
      expect(cookie).toMatch(/^co_session=/);
      expect(cookie.toLowerCase()).toEqual(expect.stringContaining("; secure"));
      expect(cookie.toLowerCase()).toEqual(expect.stringContaining("; httponly"));
      expect(cookie.toLowerCase()).toEqual(expect.stringContaining("samesite=lax"));
    } finally {
      await t.close();
    }
  });
});
