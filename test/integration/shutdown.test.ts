import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Op } from "sequelize";
import { startJobs, type Job } from "../../src/jobs/runner";
import { buildMain } from "../helpers/build-main";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct } from "../helpers/factories";

jest.setTimeout(90_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What a connection attempt to the port gets: "connected" or the error code (ECONNREFUSED once closed). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
      res.resume();
      resolve("connected");
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/**
 * The real process (src/main.ts) on the test's database: a slow request in flight and outbox rows leased
 * by its dispatcher when SIGTERM arrives.
 */
describe("SIGTERM", () => {
  let t: TestApp;
  let child: ChildProcess | null = null;
  let erp: http.Server;
  const webhookCalls: number[] = [];

  beforeAll(async () => {
    // An ERP endpoint that takes 300 ms per webhook: the dispatcher is mid-batch when the signal comes.
    erp = http.createServer((req, res) => {
      req.resume();
      webhookCalls.push(Date.now());
      setTimeout(() => res.writeHead(200).end("ok"), 300);
    });
    await new Promise<void>((resolve) => erp.listen(0, "127.0.0.1", resolve));
    t = await createTestApp();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await t.close();
    await new Promise((resolve) => erp.close(resolve));
  });

  it("finishes the request in flight, refuses new connections, hands back its outbox leases and exits 0 within 10 s", async () => {
    const main = buildMain();
    const m = t.app.db.models;
    const product = await buildProduct(t.app, { onHand: 100 });
    const customer = await buildCustomer(t.app);
    const order = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, { kind: "api", userId: null, roles: [], label: "api:test" });
    const hook = await m.WebhookSubscription.create({ url: `http://127.0.0.1:${(erp.address() as AddressInfo).port}/hook`, secret: "s".repeat(32), events: "*" });
    const at = new Date();
    await m.Outbox.bulkCreate(
      Array.from({ length: 40 }, (_, i) => ({
        topic: "webhook.deliver",
        dedupeKey: `shutdown:${i}`,
        payload: { subscriptionId: hook.id, event: "order.created", orderId: order.id, at: at.toISOString() },
        nextAttemptAt: at,
        createdAt: at,
      })),
    );

    const port = await freePort();
    const { config } = t.app;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      SESSION_SECRET: "x".repeat(40),
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: config.database.url,
      SEED_DEMO_DATA: "false",
      LOG_LEVEL: "info",
      OUTBOX_POLL_MS: "50",
      OUTBOX_BATCH_SIZE: "50",
      ...(config.redisUrl ? { REDIS_URL: config.redisUrl, CACHE_KEY_PREFIX: config.cacheKeyPrefix } : {}),
    };
    const lines: Array<Record<string, unknown>> = [];
    let stderr = "";
    child = spawn(process.execPath, [main], { env, stdio: ["ignore", "pipe", "pipe"] });
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));

    await waitUntil(() => lines.some((l) => l.msg === "chatorder is listening") || child!.exitCode !== null, "the service to listen");
    expect(stderr).toBe("");
    await waitUntil(() => webhookCalls.length >= 2, "the dispatcher to be mid-batch");
    expect(await m.Outbox.count({ where: { status: "leased", leasedBy: { [Op.ne]: null } } })).toBeGreaterThan(10);

    // A request still uploading its body when the signal arrives.
    const body = JSON.stringify({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 2 }] });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method: "POST", path: "/api/v1/orders", agent: false, headers: { ...t.apiKeyHeader, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString("utf8")));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 1_500);
    });
    await new Promise((r) => setTimeout(r, 200));

    const signalled = Date.now();
    child.kill("SIGTERM");
    await waitUntil(() => lines.some((l) => l.msg === "shutting down"), "the signal to be handled", 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(await tryConnect(port)).toBe("ECONNREFUSED");

    const done = await answer;
    expect(done.status).toBe(201);
    expect(JSON.parse(done.body)).toMatchObject({ status: "draft", lines: [expect.objectContaining({ sku: product.sku, qty: 2 })] });

    const code = await exited;
    const elapsed = Date.now() - signalled;
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(elapsed).toBeLessThan(10_000);
    expect(lines.find((l) => l.msg === "stopped")).toBeDefined();

    // Nothing is left leased by the stopped process: rows not yet tried are pending for anyone to take.
    const held = await m.Outbox.count({ where: { status: { [Op.in]: ["leased", "sending"] } } });
    expect(held).toBe(0);
    const ours = { [Op.like]: "shutdown:%" }; // the order placed during shutdown queued a webhook of its own
    const sent = await m.Outbox.count({ where: { dedupeKey: ours, status: "sent" } });
    const pending = await m.Outbox.count({ where: { dedupeKey: ours, status: "pending", leasedBy: null } });
    expect(sent).toBeGreaterThan(0);
    expect(sent + pending).toBe(40);
    expect(pending).toBeGreaterThan(0);
    expect(lines.find((l) => l.msg === "outbox leases released")).toMatchObject({ released: pending });
    if (onMysql) expect(t.app.cache.kind).toBe("redis");
  });
});

describe("stopping the job runner", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it("waits for a run in progress, and hands back the lock of one still running after the wait", async () => {
    const releases: Array<() => void> = [];
    const stuck: Job<null> = { name: "stuck", schedule: null, run: () => new Promise((resolve) => releases.push(() => resolve({}))) };
    const quick: Job<null> = { name: "quick", schedule: null, run: () => new Promise((resolve) => setTimeout(() => resolve({}), 100)) };
    const a = startJobs([stuck, quick], { ctx: null, cache: t.app.cache, log: t.app.log, schedule: false, instance: "a" });
    const running = a.runNow("stuck");
    const finishing = a.runNow("quick");
    await new Promise((r) => setTimeout(r, 20));
    const b = startJobs([stuck, quick], { ctx: null, cache: t.app.cache, log: t.app.log, schedule: false, instance: "b" });
    expect(await b.runNow("stuck")).toBeNull(); // a holds it

    const started = Date.now();
    await a.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await expect(finishing).resolves.toEqual({}); // finished within the wait
    // a is going away: its lock on the stuck run is released, so b need not wait for it to expire.
    const next = b.runNow("stuck");
    await new Promise((r) => setTimeout(r, 20));
    expect(releases).toHaveLength(2); // b's run started while a's is still going
    releases.forEach((r) => r());
    await expect(next).resolves.toEqual({});
    await running;
  });
});
