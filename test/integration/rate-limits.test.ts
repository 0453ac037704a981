import crypto from "node:crypto";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildUser } from "../helpers/factories";
import { signInAs } from "../helpers/miniapp";
import { wecomHandshake } from "../helpers/wecom";

/** Counts live in one-minute windows: start a burst early enough in one that it ends in the same one. */
async function freshWindow() {
  if (Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
}

function expectLimited(res: request.Response) {
  expect(res.status).toBe(429);
  expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  expect(Number(res.headers["retry-after"])).toBeLessThanOrEqual(60);
}

const WECOM_ENV = {
  WECOM_CORP_ID: "ww0123456789abcdef",
  WECOM_AGENT_ID: "1000002",
  WECOM_SECRET: "test-secret",
  WECOM_TOKEN: "TestToken123",
  WECOM_AES_KEY: crypto.randomBytes(32).toString("base64").replace(/[^A-Za-z0-9]/g, "").padEnd(43, "A").slice(0, 43),
  WECOM_API_BASE: "https://wecom.test",
};

describe("per-IP and per-person rate limits", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        ...WECOM_ENV,
        SIMULATOR_ENABLED: "true",
        RATE_LIMIT_CALLBACK_PER_MIN: "4",
        RATE_LIMIT_SIGNIN_PER_MIN: "3",
        RATE_LIMIT_API_IP_PER_MIN: "5",
        RATE_LIMIT_MINIAPP_POST_PER_MIN: "3",
      },
    });
  });
  afterAll(() => t.close());
  beforeEach(freshWindow, 15_000);
  const http = () => request(t.callback);

  it("limits WeCom callbacks per address with a 429 WeCom retries later, in our error shape", async () => {
    const config = t.app.config.wecom!;
    for (let i = 0; i < 4; i++) {
      const res = await http().get("/wecom/callback").query(wecomHandshake(config, `echo${i}`)).set("X-Forwarded-For", "198.51.100.1");
      expect(res.status).toBe(200);
      expect(res.text).toBe(`echo${i}`);
    }
    const over = await http().get("/wecom/callback").query(wecomHandshake(config, "late")).set("X-Forwarded-For", "198.51.100.1");
    expectLimited(over);
    expect(over.body).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    // A POST from the same address is the same budget; another address is not.
    expectLimited(await http().post("/wecom/callback").set("X-Forwarded-For", "198.51.100.1").type("text/xml").send("<xml/>"));
    expect((await http().get("/wecom/callback").query(wecomHandshake(config, "other")).set("X-Forwarded-For", "198.51.100.2")).status).toBe(200);
  });

  it("limits sign-in per address, so the OAuth and dev login cannot be hammered", async () => {
    const user = await buildUser(t.app, ["sales"]);
    for (let i = 0; i < 3; i++) {
      expect((await http().get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", "198.51.100.10")).status).toBe(302);
    }
    expectLimited(await http().get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", "198.51.100.10"));
    // The same budget covers WeCom's OAuth return, before any call to WeCom.
    expectLimited(await http().get("/wecom/oauth").query({ code: "x", state: "y" }).set("X-Forwarded-For", "198.51.100.10"));
    expect((await http().get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", "198.51.100.11")).status).toBe(302);
  });

  it("limits the API per address before the key is checked, so floods of bad keys stop too", async () => {
    const ip = "198.51.100.20";
    for (let i = 0; i < 5; i++) {
      expect((await http().get("/api/v1/products").set({ Authorization: `Bearer nope${i}`, "X-Forwarded-For": ip })).status).toBe(401);
    }
    const over = await http().get("/api/v1/products").set({ ...t.apiKeyHeader, "X-Forwarded-For": ip });
    expectLimited(over);
    expect(over.body.error.code).toBe("rate_limited");
    expect((await http().get("/api/v1/products?limit=1").set({ ...t.apiKeyHeader, "X-Forwarded-For": "198.51.100.21" })).status).toBe(200);
  });

  it("limits mini-app POSTs per signed-in person: JSON under /m/api, a page for forms, and changes nothing", async () => {
    const a = await buildUser(t.app, ["sales"]);
    const b = await buildUser(t.app, ["sales"]);
    // Signed in from distinct addresses so the sign-in limit is not what is measured.
    const sa = await signInAs(t, a);
    const sb = await signInAs(t, b);
    for (let i = 0; i < 3; i++) {
      const res = await sa.agent.post("/m/api/quote").set("X-CSRF-Token", sa.csrf).set("X-Forwarded-For", `198.51.100.${30 + i}`).send({ lines: [] });
      expect(res.status).toBeLessThan(429);
    }
    const json = await sa.agent.post("/m/api/quote").set("X-CSRF-Token", sa.csrf).set("X-Forwarded-For", "198.51.100.39").send({ lines: [] });
    expectLimited(json);
    expect(json.body.error.code).toBe("rate_limited");
    const before = await t.app.db.models.Order.count();
    const form = await sa.agent.post("/m/orders/1/cancel").type("form").send({ _csrf: sa.csrf, reason: "x" });
    expectLimited(form);
    expect(form.text).toContain("操作太频繁");
    expect(await t.app.db.models.Order.count()).toBe(before);
    // Another person is not held back by the first one's budget.
    expect((await sb.agent.post("/m/api/quote").set("X-CSRF-Token", sb.csrf).send({ lines: [] })).status).toBeLessThan(429);
  });

  it("takes the client address from X-Forwarded-For as the proxy appended it: a forged left part changes nothing", async () => {
    const user = await buildUser(t.app, ["sales"]);
    for (let i = 0; i < 3; i++) {
      const res = await http().get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", `10.9.9.${i}, 198.51.100.50`);
      expect(res.status).toBe(302);
    }
    expectLimited(await http().get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", "10.9.9.99, 198.51.100.50"));
  });
});

describe("X-Forwarded-For without TRUST_PROXY", () => {
  it("is ignored: the connection's address is the client", async () => {
    const t = await createTestApp({ env: { TRUST_PROXY: "false", RATE_LIMIT_SIGNIN_PER_MIN: "2" } });
    try {
      await freshWindow();
      const user = await buildUser(t.app, ["sales"]);
      const login = (ip: string) => request(t.callback).get("/dev/login").query({ u: user.platformUserId }).set("X-Forwarded-For", ip);
      expect((await login("198.51.100.60")).status).toBe(302);
      expect((await login("198.51.100.61")).status).toBe(302);
      expectLimited(await login("198.51.100.62"));
    } finally {
      await t.close();
    }
  }, 30_000);
});

describe("with the cache down", () => {
  it("counts on this instance's own instead of failing requests", async () => {
    // Nothing listens on port 1: every Redis call fails, as when Redis is stopped. The app's cache falls
    // back to a local one (src/cache/fallback.ts), so limits still hold per instance and nothing is a 5xx.
    const t = await createTestApp({
      env: { REDIS_URL: "redis://127.0.0.1:1", API_RATE_LIMIT_PER_MIN: "1000", RATE_LIMIT_API_IP_PER_MIN: "3", RATE_LIMIT_SIGNIN_PER_MIN: "1000", RATE_LIMIT_MINIAPP_POST_PER_MIN: "2" },
    });
    try {
      await freshWindow();
      for (let i = 0; i < 2; i++) expect((await request(t.callback).get("/api/v1/products?limit=1").set(t.apiKeyHeader)).status).toBe(200);
      expect((await request(t.callback).get("/api/v1/products").set({ Authorization: "Bearer nope" })).status).toBe(401);
      expectLimited(await request(t.callback).get("/api/v1/products?limit=1").set(t.apiKeyHeader));
      const user = await buildUser(t.app, ["sales"]);
      const s = await signInAs(t, user);
      const quote = () => s.agent.post("/m/api/quote").set("X-CSRF-Token", s.csrf).send({ lines: [] });
      for (let i = 0; i < 2; i++) expect((await quote()).status).toBeLessThan(429);
      expectLimited(await quote());
    } finally {
      await t.close();
    }
  }, 60_000);
});
