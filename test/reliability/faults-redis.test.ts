import crypto from "node:crypto";
import { Op } from "sequelize";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct } from "../helpers/factories";
import { testWecomConfig, textXml, wecomEnv, wecomPost } from "../helpers/wecom";
import { FakeWecomServer } from "./support/fake-platforms";
import { listen, type RawResponse } from "./support/http-client";
import { TcpProxy } from "./support/tcp-proxy";

/**
 * Redis taken away mid-run (through a proxy in front of the shared server, which keeps running for
 * everyone else) and given back. While it is gone: orders placed through the API are still accepted
 * and a repeated Idempotency-Key still returns the first order (the orders table's unique key does the
 * de-duplication), WeCom callbacks are still accepted and a re-sent one is still handled once (the
 * inbound_events unique key), no request fails with a 5xx or waits on Redis, /readyz says the cache is
 * down, and a job skips its run rather than run unlocked. After it returns, the same work goes
 * through Redis again.
 */
jest.setTimeout(180_000);

const REDIS_PORT = Number(new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379").port || 6379);
const d = onMysql ? describe : describe.skip;

d("faults: Redis stops mid-run", () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  const proxy = new TcpProxy(REDIS_PORT);
  const wecom = new FakeWecomServer();
  const cfg = testWecomConfig();
  let customer = "";
  let sku = "";
  let member = "";
  const acked = new Map<string, number>();
  const figures: Record<string, { requests: number; ok: number; fiveXx: number; maxMs: number; replays: number; replayMismatch: number }> = {};

  beforeAll(async () => {
    await proxy.start();
    await wecom.start();
    t = await createTestApp({
      env: {
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        ...wecomEnv(cfg, wecom.base),
      },
    });
    customer = (await buildCustomer(t.app)).code;
    sku = (await buildProduct(t.app, { onHand: 100_000, listPriceFen: 100 })).sku;
    member = `member-${crypto.randomBytes(3).toString("hex")}`;
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: member, name: "成员", mobile: null, roles: ["sales"], managerId: null, department: null });
    server = await listen(t.app);
  });
  afterAll(async () => {
    await proxy.restore();
    await server?.close();
    await t?.close();
    await proxy.close();
    await wecom.close();
  });

  function tally(phase: string, started: number, res: RawResponse) {
    const f = (figures[phase] ??= { requests: 0, ok: 0, fiveXx: 0, maxMs: 0, replays: 0, replayMismatch: 0 });
    f.requests += 1;
    if (res.status >= 200 && res.status < 300) f.ok += 1;
    if (res.status >= 500 || res.status === 0) f.fiveXx += 1;
    f.maxMs = Math.max(f.maxMs, Date.now() - started);
  }

  /** `n` orders, each with its own key, then every other one sent again with the same key. */
  async function placeOrders(phase: string, n: number) {
    const keys = Array.from({ length: n }, (_, i) => `${phase}-${i}-${crypto.randomBytes(4).toString("hex")}`);
    const send = async (key: string) => {
      const started = Date.now();
      const res = await server.send({
        method: "POST",
        path: "/api/v1/orders",
        headers: { ...t.apiKeyHeader, "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify({ customerCode: customer, lines: [{ sku, qty: 1 }] }),
      });
      tally(phase, started, res);
      return res;
    };
    await Promise.all(
      keys.map(async (key) => {
        const res = await send(key);
        if (res.status === 201) acked.set(key, JSON.parse(res.text).id as number);
      }),
    );
    await Promise.all(
      keys.filter((_, i) => i % 2 === 0).map(async (key) => {
        const res = await send(key);
        figures[phase].replays += 1;
        if (res.status < 200 || res.status >= 300 || JSON.parse(res.text).id !== acked.get(key)) figures[phase].replayMismatch += 1;
      }),
    );
  }

  let msgSeq = 0;
  /** `n` WeCom texts, each posted twice (WeCom's retry of an unanswered callback). */
  async function callbacks(phase: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => `88${String(process.pid).padStart(7, "0")}${String(++msgSeq).padStart(9, "0")}`);
    await Promise.all(
      ids.flatMap((id) => {
        const signed = wecomPost(cfg, textXml(member, "你好", id));
        return [0, 1].map(async () => {
          const started = Date.now();
          const res = await server.send({ method: "POST", path: `/wecom/callback?${new URLSearchParams(signed.query).toString()}`, headers: { "Content-Type": "text/xml" }, body: signed.body });
          tally(`${phase} callbacks`, started, res);
          return res;
        });
      }),
    );
    return ids;
  }

  const eventsFor = (ids: string[]) => t.app.db.models.InboundEvent.count({ where: { platform: "wecom", eventKey: { [Op.in]: ids.map((id) => `msg:${id}`) } } });
  const readyz = async () => (await server.send({ method: "GET", path: "/readyz" })).status;

  it("keeps taking orders and callbacks while Redis is gone, and uses it again when it is back", async () => {
    const jobs = t.app.jobRunner({ schedule: false });
    // Before: everything through Redis.
    await placeOrders("before", 20);
    const before = await callbacks("before", 5);
    expect(await readyz()).toBe(200);
    expect(await jobs.runNow("housekeeping")).not.toBeNull();

    // Redis gone.
    await proxy.cut();
    const cutAt = Date.now();
    await placeOrders("down", 40);
    const down = await callbacks("down", 10);
    // Callbacks received before the outage, re-sent now: Redis cannot say "seen", the database must.
    const resent = before.map((id) => wecomPost(cfg, textXml(member, "你好", id)));
    for (const signed of resent) {
      const res = await server.send({ method: "POST", path: `/wecom/callback?${new URLSearchParams(signed.query).toString()}`, headers: { "Content-Type": "text/xml" }, body: signed.body });
      expect([res.status, res.text]).toEqual([200, "success"]);
    }
    const healthDown = (await server.send({ method: "GET", path: "/healthz" })).status;
    const readyDown = await readyz();
    const jobDown = await jobs.runNow("housekeeping");
    await t.app.inbound.drain();
    const dispatchedDown = await t.app.dispatcher.runOnce();
    // Another instance starting while Redis is gone comes up and takes orders too.
    const bootAt = Date.now();
    const second = createApp(
      loadConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        SEED_DEMO_DATA: "false",
        OUTBOX_ENABLED: "false",
        API_RATE_LIMIT_PER_MIN: "1000000",
        DATABASE_URL: t.app.config.database.url,
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        CACHE_KEY_PREFIX: t.app.config.cacheKeyPrefix,
      }),
    );
    await second.prepare();
    const secondServer = await listen(second);
    const secondKey = `second-${crypto.randomBytes(4).toString("hex")}`;
    const secondOrder = await secondServer.send({
      method: "POST",
      path: "/api/v1/orders",
      headers: { ...t.apiKeyHeader, "Content-Type": "application/json", "Idempotency-Key": secondKey },
      body: JSON.stringify({ customerCode: customer, lines: [{ sku, qty: 1 }] }),
    });
    const secondBootMs = Date.now() - bootAt;
    await secondServer.close();
    await second.close();
    if (secondOrder.status === 201) acked.set(secondKey, JSON.parse(secondOrder.text).id as number);
    const downMs = Date.now() - cutAt;

    // Redis back.
    await proxy.restore();
    const restoredAt = Date.now();
    while ((await readyz()) !== 200 && Date.now() - restoredAt < 15_000) await new Promise((r) => setTimeout(r, 100));
    const recoveredMs = Date.now() - restoredAt;
    await placeOrders("after", 20);
    const after = await callbacks("after", 5);
    // Re-sent once more, now that Redis is back: it never saw these, the database still has them.
    for (const id of down.slice(0, 3)) {
      const signed = wecomPost(cfg, textXml(member, "你好", id));
      const res = await server.send({ method: "POST", path: `/wecom/callback?${new URLSearchParams(signed.query).toString()}`, headers: { "Content-Type": "text/xml" }, body: signed.body });
      expect(res.status).toBe(200);
    }
    const jobAfter = await jobs.runNow("housekeeping");
    await t.app.inbound.drain();
    jobs.stop();

    const orders = await t.app.db.models.Order.findAll({ attributes: ["id"] });
    const orderIds = new Set(orders.map((o) => o.id));
    const missing = [...acked.values()].filter((id) => !orderIds.has(id));
    const unhandled = await t.app.db.models.InboundEvent.count({ where: { status: { [Op.ne]: "processed" } } });
    const lines = [`faults (b): Redis cut for ${(downMs / 1000).toFixed(1)} s through a proxy; /readyz green again ${recoveredMs} ms after it returned`];
    for (const [phase, f] of Object.entries(figures)) {
      lines.push(`  ${phase.padEnd(34)} requests ${String(f.requests).padStart(3)}, 2xx ${String(f.ok).padStart(3)}, 5xx ${f.fiveXx}, slowest ${f.maxMs} ms${f.replays ? `, key replays ${f.replays} (other order returned: ${f.replayMismatch})` : ""}`);
    }
    lines.push(`  while down: /healthz ${healthDown}, /readyz ${readyDown}, housekeeping job ${jobDown === null ? "skipped (no lock)" : "ran"}, outbox batch delivered ${dispatchedDown.sent}`);
    lines.push(`  a second instance started while Redis was down: order ${secondOrder.status} ${secondBootMs} ms after boot began`);
    lines.push(`  after: housekeeping job ${jobAfter === null ? "skipped" : "ran"}`);
    lines.push(`  orders acknowledged ${acked.size}, in the database ${orders.length}, missing ${missing.length}; inbound events (before/down/after) ${await eventsFor(before)}/${await eventsFor(down)}/${await eventsFor(after)} for ${before.length}/${down.length}/${after.length} messages each posted 2-4×; unhandled ${unhandled}`);
    console.log(lines.join("\n"));

    for (const f of Object.values(figures)) {
      expect(f.fiveXx).toBe(0);
      expect(f.ok).toBe(f.requests);
      expect(f.replayMismatch).toBe(0);
      // Failing fast: no request waits on a Redis that is not there.
      expect(f.maxMs).toBeLessThan(5_000);
    }
    expect(secondOrder.status).toBe(201);
    expect(secondBootMs).toBeLessThan(15_000);
    expect(acked.size).toBe(81);
    expect(orders.length).toBe(81);
    expect(missing).toEqual([]);
    expect(await eventsFor(before)).toBe(before.length);
    expect(await eventsFor(down)).toBe(down.length);
    expect(await eventsFor(after)).toBe(after.length);
    expect(unhandled).toBe(0);
    expect(healthDown).toBe(200);
    expect(readyDown).toBe(503);
    expect(jobDown).toBeNull();
    expect(jobAfter).not.toBeNull();
    expect(recoveredMs).toBeLessThan(10_000);
  });
});
