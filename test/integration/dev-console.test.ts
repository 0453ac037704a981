import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Koa from "koa";
import request from "supertest";
import { createInboundPipeline, type InboundPipeline } from "../../src/bot/inbound";
import { ChannelError, type InboundEvent } from "../../src/channels/channel";
import { createSimulatorChannel, type SimulatorChannel } from "../../src/channels/simulator";
import { createSimulatorCardRenderer } from "../../src/channels/simulator/render";
import { helpCard } from "../../src/domain/cards";
import { errorHandler } from "../../src/http/middleware/errors";
import { devConsoleRoutes } from "../../src/http/routes/dev/routes";
import { API_ACTOR, buildUser } from "../helpers/factories";
import { createTestApp, type TestApp } from "../helpers/test-app";

const ROOT = path.join(__dirname, "../..");
const PUBLIC_URL = "http://chatorder.test";
const renderCard = createSimulatorCardRenderer(path.join(ROOT, "cards/simulator"));

interface Console {
  koa: Koa;
  simulator: SimulatorChannel;
  inbound: InboundPipeline;
  /** Every event the bot was handed, in order. */
  handled: InboundEvent[];
}

/**
 * src/app.ts does not build the simulator channel or the inbound pipeline yet, so the console is
 * assembled here the way app.ts should: the app's error middleware first, then the dev router.
 */
function buildConsole(t: TestApp, opts: { heartbeatMs?: number } = {}): Console {
  const { db, log } = t.app;
  const now = () => new Date();
  const simulator = createSimulatorChannel({
    sequelize: db.sequelize,
    publicUrl: PUBLIC_URL,
    now,
    async findUser(platformUserId) {
      const u = await db.models.User.findOne({ where: { platform: "simulator", platformUserId } });
      return u ? { platform: "simulator", platformUserId, found: true, name: u.name, mobile: u.mobile, managerPlatformUserId: null, department: u.department, active: u.active, roles: { granted: u.roles, managed: [] } } : null;
    },
  });
  const handled: InboundEvent[] = [];
  const inbound = createInboundPipeline({ db, log, now, handle: async (event) => void handled.push(event) });
  const koa = new Koa();
  koa.use(errorHandler(log));
  const router = devConsoleRoutes({
    simulator,
    inbound,
    db,
    renderCard,
    publicUrl: PUBLIC_URL,
    log,
    viewsDir: path.join(ROOT, "miniapp/views"),
    now,
    heartbeatMs: opts.heartbeatMs,
  });
  koa.use(router.routes()).use(router.allowedMethods());
  return { koa, simulator, inbound, handled };
}

async function listen(koa: Koa): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: http.Server) {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

interface Subscription {
  res: { statusCode: number; headers: Record<string, string> };
  received(): string;
  /** Resolves with everything received once `pattern` has arrived; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  ended: Promise<void>;
  close(): void;
}

/**
 * A raw EventSource stand-in over a plain TCP socket: one GET, chunks collected as they arrive. Not
 * http.get, because HTTP interceptors installed by other test files in this worker (nock) buffer a
 * streamed response until it ends.
 */
function subscribe(base: string, conversation: string): Promise<Subscription> {
  const url = new URL(`${base}/dev/chat/stream?conversation=${encodeURIComponent(conversation)}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let raw = Buffer.alloc(0);
    let head: Subscription["res"] | null = null;
    let body = Buffer.alloc(0);
    let text = "";
    let wake: Array<() => void> = [];
    let ended!: () => void;
    const endedP = new Promise<void>((done) => (ended = done));
    const sub = (): Subscription => ({
      res: head!,
      received: () => text,
      ended: endedP,
      close: () => socket.destroy(),
      waitFor(pattern, ms = 3000) {
        return new Promise((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`no ${pattern} in ${JSON.stringify(text)}`)), ms);
          const check = () => {
            if (!pattern.test(text)) return void wake.push(check);
            clearTimeout(timer);
            ok(text);
          };
          check();
        });
      },
    });
    // Undo chunked transfer encoding: size line, data, CRLF; a zero-size chunk ends the stream.
    const dechunk = () => {
      for (;;) {
        const eol = body.indexOf("\r\n");
        if (eol < 0) return;
        const size = parseInt(body.subarray(0, eol).toString("ascii"), 16);
        if (size === 0) return void ended();
        if (body.length < eol + 2 + size + 2) return;
        text += body.subarray(eol + 2, eol + 2 + size).toString("utf8");
        body = body.subarray(eol + 2 + size + 2);
      }
    };
    socket.on("data", (chunk: Buffer) => {
      if (!head) {
        raw = Buffer.concat([raw, chunk]);
        const split = raw.indexOf("\r\n\r\n");
        if (split < 0) return;
        const [status, ...lines] = raw.subarray(0, split).toString("latin1").split("\r\n");
        const headers: Record<string, string> = {};
        for (const line of lines) headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
        head = { statusCode: Number(status.split(" ")[1]), headers };
        body = raw.subarray(split + 4);
        resolve(sub());
      } else {
        body = Buffer.concat([body, chunk]);
      }
      dechunk();
      const waiting = wake;
      wake = [];
      waiting.forEach((w) => w());
    });
    socket.on("end", () => ended());
    socket.on("close", () => ended());
    socket.on("error", reject);
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

/** The JSON of every `event: <name>` frame received so far. */
function frames(text: string, name: string): Array<Record<string, unknown>> {
  return text
    .split("\n\n")
    .filter((f) => f.startsWith(`event: ${name}\n`))
    .map((f) => JSON.parse(f.slice(f.indexOf("data: ") + 6)) as Record<string, unknown>);
}

async function until(condition: () => boolean, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const listeners = (s: SimulatorChannel) => ["message", "update", "removeListener"].map((e) => s.events.listenerCount(e));
const dedupeKey = () => `test:${crypto.randomUUID()}`;

describe("dev chat console (/dev)", () => {
  let t: TestApp;
  let c: Console;
  const api = () => request(c.koa.callback());

  beforeAll(async () => {
    t = await createTestApp();
    c = buildConsole(t);
  });
  afterAll(async () => {
    await c.inbound.drain();
    await c.simulator.close?.();
    await t.close();
  });

  async function simulatorCustomer() {
    const code = `SIM-${crypto.randomBytes(3).toString("hex").toUpperCase()}`;
    await t.app.services.upsertCustomers([{ code, name: `模拟客户${code}`, chatPlatform: "simulator", chatTarget: `customer:${code}` }], API_ACTOR);
    return code;
  }

  describe("GET /dev/chat", () => {
    it("renders the console page with the people grouped under Chinese role names", async () => {
      const rep = await buildUser(t.app, ["sales"], null, "王模拟");
      const res = await api().get("/dev/chat");
      expect(res.status).toBe(200);
      expect(res.type).toBe("text/html");
      expect(res.text).toContain("<title>ChatOrder 模拟器</title>");
      expect(res.text).toContain(`data-user="${rep.platformUserId}"`);
      expect(res.text).toContain("<h2>销售</h2>");
      expect(res.text).toContain('data-text="下单 华东医疗 N95口罩 20箱 单价30，丁腈手套x50"');
      expect(res.text).toContain('src="/dev/static/dev-chat.js?v=');
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
    });

    it("escapes names rather than letting them become markup", async () => {
      await buildUser(t.app, ["warehouse"], null, "<b>坏</b>");
      const res = await api().get("/dev/chat");
      expect(res.text).not.toContain("<b>坏</b>");
      expect(res.text).toContain("&lt;b&gt;坏&lt;/b&gt;");
    });

    it("serves its script and stylesheet with their content types, and nothing else", async () => {
      const js = await api().get("/dev/static/dev-chat.js");
      expect(js.status).toBe(200);
      expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
      expect(js.text).toContain("/dev/chat/stream");
      const css = await api().get("/dev/static/dev-chat.css");
      expect(css.status).toBe(200);
      expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
      for (const file of ["dev-chat.njk", "..%2F..%2Fpackage.json", "toString"]) {
        const res = await api().get(`/dev/static/${file}`);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
    });
  });

  describe("GET /dev/chat/people", () => {
    it("lists simulator users with their conversations, and only customers reached through the simulator", async () => {
      const manager = await buildUser(t.app, ["manager", "finance"], null, "钱经理");
      const code = await simulatorCustomer();
      await t.app.services.upsertCustomers([{ code: `${code}-WX`, name: "企业微信客户", chatPlatform: "wecom", chatTarget: "wm123" }], API_ACTOR);
      const res = await api().get("/dev/chat/people");
      expect(res.status).toBe(200);
      expect(res.body.users).toContainEqual({
        platformUserId: manager.platformUserId,
        name: "钱经理",
        roles: ["manager", "finance"],
        conversation: `user:${manager.platformUserId}`,
      });
      expect(res.body.customers).toContainEqual({ code, name: `模拟客户${code}`, conversation: `customer:customer:${code}` });
      expect(res.body.customers.map((x: { code: string }) => x.code)).not.toContain(`${code}-WX`);
    });
  });

  describe("POST /dev/chat/send", () => {
    it("records what was typed and hands a text event to the bot", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      const res = await api().post("/dev/chat/send").send({ user: rep.platformUserId, text: "我的订单" });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ accepted: true });
      const history = await c.simulator.history(`user:${rep.platformUserId}`);
      expect(history).toMatchObject([{ direction: "in", kind: "text", text: "我的订单" }]);
      await c.inbound.drain();
      const event = c.handled.find((e) => e.from === rep.platformUserId);
      expect(event).toMatchObject({ kind: "text", platform: "simulator", text: "我的订单" });
      expect(event?.key).toMatch(/^sim:[0-9a-f-]{36}$/);
    });

    it.each([
      ["an unknown user", { user: "nobody-here", text: "帮助" }, "body.user"],
      ["an empty text", { text: "   " }, "body.text"],
      ["a text over 2000 characters", { text: "多".repeat(2001) }, "body.text"],
      ["an unknown field", { text: "帮助", extra: 1 }, "body.extra"],
    ])("answers 422 naming the field for %s, and records nothing", async (_, body, field) => {
      const rep = await buildUser(t.app, ["sales"]);
      const before = c.handled.length;
      const res = await api().post("/dev/chat/send").send({ user: rep.platformUserId, ...body });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: "validation_failed", details: { path: field } });
      expect(await c.simulator.history(`user:${rep.platformUserId}`)).toEqual([]);
      expect(await c.simulator.history("user:nobody-here")).toEqual([]);
      await c.inbound.drain();
      expect(c.handled.length).toBe(before);
    });

    it("refuses a body that is not JSON with 415", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      const res = await api().post("/dev/chat/send").type("form").send(`user=${rep.platformUserId}&text=hi`);
      expect(res.status).toBe(415);
      expect(await c.simulator.history(`user:${rep.platformUserId}`)).toEqual([]);
    });
  });

  describe("POST /dev/chat/action and /dev/chat/open", () => {
    it("hands a card action with its values to the bot", async () => {
      const manager = await buildUser(t.app, ["manager"]);
      const values = { orderId: "12", stepId: "3", decision: "approve" };
      const res = await api().post("/dev/chat/action").send({ user: manager.platformUserId, action: "approval.decide", values });
      expect(res.status).toBe(202);
      await c.inbound.drain();
      expect(c.handled.find((e) => e.from === manager.platformUserId)).toMatchObject({
        kind: "card_action",
        platform: "simulator",
        action: "approval.decide",
        values,
      });
    });

    it.each([
      ["more than 20 values", Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"])), "body.values"],
      ["a value that is not a string", { orderId: 12 }, "body.values.orderId"],
    ])("answers 422 for %s and hands nothing on", async (_, values, field) => {
      const manager = await buildUser(t.app, ["manager"]);
      const before = c.handled.length;
      const res = await api().post("/dev/chat/action").send({ user: manager.platformUserId, action: "approval.decide", values });
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual({ path: field });
      await c.inbound.drain();
      expect(c.handled.length).toBe(before);
    });

    it("hands an open event to the bot, and refuses an unknown user", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      expect((await api().post("/dev/chat/open").send({ user: rep.platformUserId })).status).toBe(202);
      await c.inbound.drain();
      expect(c.handled.find((e) => e.from === rep.platformUserId)).toMatchObject({ kind: "open", platform: "simulator" });
      const bad = await api().post("/dev/chat/open").send({ user: "ghost" });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details).toEqual({ path: "body.user" });
    });
  });

  describe("GET /dev/chat/messages", () => {
    it("lists the conversation oldest first, with cards rendered as HTML linking to the public URL", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      const to = { platform: "simulator" as const, platformUserId: rep.platformUserId };
      await c.simulator.recordInbound(rep.platformUserId, "帮助");
      const card = { ...helpCard({ locale: "zh-CN", roles: ["sales"] }), link: { label: "打开", path: "/m/orders" } };
      await c.simulator.sendCard(to, card, { dedupeKey: dedupeKey() });
      const res = await api().get("/dev/chat/messages").query({ conversation: `user:${rep.platformUserId}` });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
      expect(res.body.items[0]).toMatchObject({ direction: "in", kind: "text", text: "帮助", html: null });
      expect(res.body.items[1]).toMatchObject({ direction: "out", kind: "card", text: null });
      expect(res.body.items[1].html).toContain(card.title);
      expect(res.body.items[1].html).toContain(`href="${PUBLIC_URL}/m/orders"`);
      const limited = await api().get("/dev/chat/messages").query({ conversation: `user:${rep.platformUserId}`, limit: 1 });
      expect(limited.body.items.map((i: { kind: string }) => i.kind)).toEqual(["card"]);
    });

    it("answers 422 naming the query field when the conversation is missing or malformed", async () => {
      const missing = await api().get("/dev/chat/messages");
      expect(missing.status).toBe(422);
      expect(missing.body.error.details).toEqual({ path: "query.conversation" });
      const bad = await api().get("/dev/chat/messages").query({ conversation: "group:1" });
      expect(bad.body.error.details).toEqual({ path: "query.conversation" });
      const limit = await api().get("/dev/chat/messages").query({ conversation: "user:x", limit: 0 });
      expect(limit.body.error.details).toEqual({ path: "query.limit" });
    });
  });

  describe("GET /dev/chat/stream", () => {
    let server: http.Server;
    let base: string;
    beforeAll(async () => ({ server, base } = await listen(c.koa)));
    afterAll(() => stop(server));

    it("streams new and redrawn messages of its conversation only, and unsubscribes when the client leaves", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      const other = await buildUser(t.app, ["sales"]);
      const to = { platform: "simulator" as const, platformUserId: rep.platformUserId };
      const before = listeners(c.simulator);

      const sub = await subscribe(base, `user:${rep.platformUserId}`);
      expect(sub.res.statusCode).toBe(200);
      expect(sub.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(sub.res.headers["cache-control"]).toContain("no-cache");
      expect(sub.res.headers["x-accel-buffering"]).toBe("no");
      await sub.waitFor(/: connected\n\n/);
      expect(listeners(c.simulator)).toEqual(before.map((n) => n + 1));

      await c.simulator.sendText({ platform: "simulator", platformUserId: other.platformUserId }, "不是你的", { dedupeKey: dedupeKey() });
      await c.simulator.sendText(to, "你好，王小明", { dedupeKey: dedupeKey() });
      const text = await sub.waitFor(/event: message\n/);
      expect(text).not.toContain("不是你的");
      const [hello] = frames(text, "message");
      expect(hello).toMatchObject({ direction: "out", kind: "text", text: "你好，王小明", html: null });
      expect(Object.keys(hello).sort()).toEqual(["at", "direction", "html", "id", "kind", "text"]);

      const sent = await c.simulator.sendCard(to, helpCard({ locale: "zh-CN", roles: ["sales"] }), { dedupeKey: dedupeKey() });
      const redrawn = { ...helpCard({ locale: "zh-CN", roles: ["sales"] }), title: "已更新的卡片" };
      await c.simulator.updateCard({ cardRef: sent.cardRef ?? {}, to }, redrawn, { dedupeKey: dedupeKey() });
      const [update] = frames(await sub.waitFor(/event: update\n/), "update");
      expect(update).toMatchObject({ id: Number(sent.messageId), kind: "card" });
      expect(update.html).toContain("已更新的卡片");

      sub.close();
      await until(() => listeners(c.simulator).every((n, i) => n === before[i]));
    });

    it("answers 422 without streaming when the conversation is missing", async () => {
      const before = listeners(c.simulator);
      const res = await api().get("/dev/chat/stream");
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual({ path: "query.conversation" });
      expect(listeners(c.simulator)).toEqual(before);
    });

    it("sends a heartbeat comment while nothing happens", async () => {
      const quiet = buildConsole(t, { heartbeatMs: 20 });
      const { server: s, base: b } = await listen(quiet.koa);
      try {
        const sub = await subscribe(b, "user:someone");
        await sub.waitFor(/: ping\n\n/);
        sub.close();
        await until(() => quiet.simulator.events.listenerCount("message") === 0);
      } finally {
        await stop(s);
        await quiet.simulator.close?.();
      }
    });

    it("ends open streams when the simulator closes, so a shutdown is not held open", async () => {
      const closing = buildConsole(t);
      const { server: s, base: b } = await listen(closing.koa);
      try {
        const sub = await subscribe(b, "user:someone");
        await sub.waitFor(/: connected/);
        await closing.simulator.close?.();
        await sub.ended;
        expect(closing.simulator.events.listenerCount("message")).toBe(0);
      } finally {
        await stop(s);
      }
    });
  });

  describe("POST /dev/chat/outage", () => {
    it("makes the next sends fail as a platform outage would, then recovers", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      const to = { platform: "simulator" as const, platformUserId: rep.platformUserId };
      const res = await api().post("/dev/chat/outage").send({ count: 2 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ failNext: 2 });
      for (let i = 0; i < 2; i++) {
        await expect(c.simulator.sendText(to, "重试我", { dedupeKey: dedupeKey() })).rejects.toMatchObject({ failure: "retry_later" });
      }
      await expect(c.simulator.sendText(to, "重试我", { dedupeKey: dedupeKey() })).resolves.toHaveProperty("messageId");
      expect(await c.simulator.history(`user:${rep.platformUserId}`)).toHaveLength(1);
    });

    it("answers 422 for a count outside 0..100 and leaves sending alone", async () => {
      const rep = await buildUser(t.app, ["sales"]);
      for (const count of [101, -1, 1.5, "3"]) {
        const res = await api().post("/dev/chat/outage").send({ count });
        expect(res.status).toBe(422);
        expect(res.body.error.details).toEqual({ path: "body.count" });
      }
      const sent = c.simulator.sendText({ platform: "simulator", platformUserId: rep.platformUserId }, "照常", { dedupeKey: dedupeKey() });
      await expect(sent).resolves.not.toBeInstanceOf(ChannelError);
    });
  });
});
