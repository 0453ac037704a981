import crypto from "node:crypto";
import Koa from "koa";
import request from "supertest";
import { ConfigError, loadConfig } from "../../src/config";
import { createSessions, SESSION_COOKIE } from "../../src/http/session";

const SECRET = "s".repeat(32);

/** A tiny app: /start?id= signs in, /me reads the session, /end signs out. */
function sessionApp(env: Record<string, string> = {}, clock = { ms: Date.UTC(2026, 0, 5, 8) }) {
  const sessions = createSessions(loadConfig({ SESSION_SECRET: SECRET, ...env }), { now: () => new Date(clock.ms) });
  const koa = new Koa();
  koa.use(async (ctx) => {
    if (ctx.path === "/start") sessions.start(ctx, Number(ctx.query.id));
    if (ctx.path === "/end") sessions.end(ctx);
    ctx.body = { session: sessions.read(ctx) };
  });
  return { server: koa.callback(), clock };
}

/** The co_session value from a response's Set-Cookie. */
function cookieOf(res: request.Response): string {
  const header = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!header) throw new Error("no session cookie set");
  return header.split(";")[0].slice(SESSION_COOKIE.length + 1);
}

const me = (server: ReturnType<Koa["callback"]>, value: string) =>
  request(server).get("/me").set("Cookie", `${SESSION_COOKIE}=${value}`).then((r) => r.body.session);

describe("sessions", () => {
  it("signs a user in with an httpOnly, SameSite=Lax cookie and reads them back", async () => {
    const { server } = sessionApp();
    const res = await request(server).get("/start?id=42");
    const header = String(res.headers["set-cookie"]);
    expect(header).toMatch(/co_session=42\.\d+\.[A-Za-z0-9_-]{43}; path=\/; expires=.*; samesite=lax; httponly/i);
    expect(header).not.toMatch(/secure/i);
    expect(await me(server, cookieOf(res))).toEqual({ userId: 42 });
  });

  it("lasts SESSION_TTL_HOURS (12 by default) and not a second longer", async () => {
    const { server, clock } = sessionApp();
    const value = cookieOf(await request(server).get("/start?id=7"));
    expect(Number(value.split(".")[1]) * 1000).toBe(clock.ms + 12 * 3600_000);
    clock.ms += 12 * 3600_000 - 1000;
    expect(await me(server, value)).toEqual({ userId: 7 });
    clock.ms += 1000;
    expect(await me(server, value)).toBeNull();

    const short = sessionApp({ SESSION_TTL_HOURS: "1" });
    const v2 = cookieOf(await request(short.server).get("/start?id=7"));
    short.clock.ms += 3600_000;
    expect(await me(short.server, v2)).toBeNull();
  });

  it("refuses a cookie whose user, expiry or signature was changed", async () => {
    const { server } = sessionApp();
    const value = cookieOf(await request(server).get("/start?id=42"));
    const [id, exp, mac] = value.split(".");
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    for (const forged of [
      `43.${exp}.${mac}`,
      `${id}.${Number(exp) + 3600}.${mac}`,
      `${id}.${exp}.${flip(mac, 0)}`,
      `${id}.${exp}.${flip(mac, mac.length - 1)}`, // the last character's spare bits are not a second spelling
      `${id}.${exp}.${mac.slice(1)}`,
      `${id}.${exp}`,
      "garbage",
      "",
    ]) {
      expect(await me(server, forged)).toBeNull();
    }
  });

  it("refuses a cookie signed with another secret, such as another process's random default", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const mac = crypto.createHmac("sha256", "x".repeat(32)).update(`${SESSION_COOKIE}:v1:42.${exp}`).digest("base64url");
    expect(await me(sessionApp().server, `42.${exp}.${mac}`)).toBeNull();
  });

  it("signs out by expiring the cookie", async () => {
    const { server } = sessionApp();
    const res = await request(server).get("/end").set("Cookie", `${SESSION_COOKIE}=${cookieOf(await request(server).get("/start?id=1"))}`);
    expect(String(res.headers["set-cookie"])).toMatch(/co_session=; path=\/; expires=Thu, 01 Jan 1970/i);
  });

  it("marks the cookie Secure in production, even when the proxy did not say the request was HTTPS", async () => {
    const { server } = sessionApp({ NODE_ENV: "production" });
    const res = await request(server).get("/start?id=5");
    expect(res.status).toBe(200);
    expect(String(res.headers["set-cookie"])).toMatch(/; secure; httponly/i);
  });
});

describe("session settings", () => {
  it("requires SESSION_SECRET in production, naming it", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production", SESSION_SECRET: "" })).toThrow(/^SESSION_SECRET: required when NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: "production", SESSION_SECRET: SECRET }).session).toEqual({ secret: SECRET, generated: false, ttlHours: 12, secure: true });
  });

  it("refuses a secret shorter than 32 characters and a TTL that is not a positive number", () => {
    expect(() => loadConfig({ SESSION_SECRET: "short" })).toThrow(/^SESSION_SECRET: must be at least 32 characters/);
    expect(() => loadConfig({ SESSION_TTL_HOURS: "0" })).toThrow(/^SESSION_TTL_HOURS: /);
    expect(() => loadConfig({ SESSION_TTL_HOURS: "soon" })).toThrow(/^SESSION_TTL_HOURS: /);
  });

  it("outside production makes up one random secret per process when none is set", () => {
    const a = loadConfig({}).session;
    const b = loadConfig({ NODE_ENV: "test" }).session;
    expect(a).toMatchObject({ generated: true, ttlHours: 12, secure: false });
    expect(a.secret.length).toBeGreaterThanOrEqual(32);
    expect(b.secret).toBe(a.secret);
  });
});
