import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct, reservedMatchesOpenLines } from "../helpers/factories";
import { noApprovals } from "../helpers/jobs";
import { inParallel, sendRaw } from "./support/http-client";

/**
 * The real server (dist/src/main.js, built with tsconfig.build.json) on MariaDB + Redis, killed with
 * SIGKILL in the middle of an order burst, then started again. Every order the API acknowledged (201)
 * must be there after the restart; a client retrying its unanswered requests with the same
 * Idempotency-Key must get exactly one order per key; and for every product, the stock reserved must
 * equal the unshipped quantity of its open orders.
 */
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, "../..");
const CLIENTS = 16;
const KILL_AFTER_ACKS = 120;
const d = onMysql ? describe : describe.skip;

d("faults: kill -9 under order load", () => {
  let t: TestApp;
  let port = 0;
  let child: ChildProcess | null = null;
  let output = "";
  const skus: string[] = [];
  let customer = "";

  beforeAll(async () => {
    // The same build `npm start` runs (incremental: quick when dist is current).
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
    t = await createTestApp();
    await noApprovals(t.app);
    customer = (await buildCustomer(t.app)).code;
    // Little stock on some products, so the burst also meets refusals and reservations near the limit.
    for (const onHand of [50, 200, 5_000, 100_000]) skus.push((await buildProduct(t.app, { onHand, listPriceFen: 1000 })).sku);
    port = await freePort();
  });
  afterAll(async () => {
    child?.kill("SIGKILL");
    await t?.close();
  });

  function startServer(): Promise<void> {
    const cfg = t.app.config;
    child = spawn(process.execPath, [path.join(ROOT, "dist/src/main.js")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        TZ: "UTC",
        NODE_ENV: "test",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        DATABASE_URL: cfg.database.url,
        DB_POOL_MAX: "20",
        REDIS_URL: cfg.redisUrl ?? "",
        CACHE_KEY_PREFIX: cfg.cacheKeyPrefix,
        SEED_DEMO_DATA: "false",
        API_RATE_LIMIT_PER_MIN: "1000000",
        SESSION_SECRET: "reliability-kill-test-secret-0123456789",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
    return waitHealthy();
  }

  async function waitHealthy(): Promise<void> {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const res = await sendRaw(port, false, { method: "GET", path: "/healthz" }, 1000);
      if (res.status === 200) return;
      if (child?.exitCode !== null) throw new Error(`server exited (${child?.exitCode}): ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not answer /healthz: ${output.slice(-2000)}`);
  }

  const order = (key: string, i: number) =>
    sendRaw(port, false, {
      method: "POST",
      path: "/api/v1/orders",
      headers: { ...t.apiKeyHeader, "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ customerCode: customer, submit: true, lines: [{ sku: skus[i % skus.length], qty: 1 + (i % 3) }, { sku: skus[(i + 1) % skus.length], qty: 1 }] }),
    });

  it("keeps every acknowledged order and the stock reservations right across a SIGKILL", async () => {
    await startServer();
    const started = Date.now();
    const acked = new Map<string, number>();
    const refused = new Map<string, number>();
    const unanswered: string[] = [];
    let killedAt = 0;
    let sentBeforeKill = 0;
    const keys = Array.from({ length: 2000 }, (_, i) => `kill-${i}`);

    // Clients keep placing orders until the server dies under them; nothing is sent after the kill.
    await inParallel(keys, CLIENTS, async (key, i) => {
      if (killedAt) return;
      sentBeforeKill += 1;
      const res = await order(key, i);
      if (res.status === 201) acked.set(key, JSON.parse(res.text).id as number);
      else if (res.status === 0) unanswered.push(key);
      else refused.set(key, res.status);
      if (!killedAt && acked.size >= KILL_AFTER_ACKS) {
        killedAt = Date.now();
        child!.kill("SIGKILL");
      }
    });
    await new Promise<void>((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve() : child!.once("exit", () => resolve())));
    expect(child!.signalCode).toBe("SIGKILL");

    const restartAt = Date.now();
    await startServer();
    const restartMs = Date.now() - restartAt;

    // Every acknowledged order is there, as acknowledged.
    const missing: string[] = [];
    for (const [key, id] of acked) {
      const res = await sendRaw(port, false, { method: "GET", path: `/api/v1/orders/${id}`, headers: t.apiKeyHeader });
      if (res.status !== 200) missing.push(`${key} → ${id}: ${res.status}`);
    }
    // A client retries what got no answer, and (to be sure) what did: one order per key.
    const retried = [...unanswered, ...acked.keys()];
    const retryAnswers = await inParallel(retried, 8, (key) => order(key, keys.indexOf(key)));
    const mismatched = retried.filter((key, i) => acked.has(key) && (retryAnswers[i].status >= 300 || JSON.parse(retryAnswers[i].text).id !== acked.get(key)));
    const retryFailures = retryAnswers.filter((r) => r.status >= 500 || r.status === 0).length;
    const recoveredAfterRetry = retried.filter((key, i) => !acked.has(key) && retryAnswers[i].status < 300).length;

    const [dupRows] = (await t.app.db.sequelize.query(
      "SELECT idempotency_key AS k, COUNT(*) AS n FROM orders WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key HAVING COUNT(*) > 1",
    )) as [Array<{ k: string; n: number }>, unknown];
    const stock = [];
    for (const sku of skus) {
      const product = await t.app.db.models.Product.findOne({ where: { sku } });
      stock.push({ sku, ...(await reservedMatchesOpenLines(t.app, product!.id)) });
    }
    const ordersInDb = await t.app.db.models.Order.count();
    const refusedCodes = [...refused.values()].reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

    console.log(
      [
        `faults (c): kill -9 after ${((killedAt - started) / 1000).toFixed(1)} s of orders from ${CLIENTS} clients; restarted and healthy in ${restartMs} ms`,
        `  requests sent ${sentBeforeKill}: acknowledged ${acked.size}, refused ${refused.size} ${JSON.stringify(refusedCodes)}, unanswered (cut by the kill) ${unanswered.length}`,
        `  after restart: acknowledged orders missing ${missing.length}; retried ${retried.length} keys: other order returned ${mismatched.length}, failures ${retryFailures}, unanswered ones now placed ${recoveredAfterRetry}`,
        `  orders in the database ${ordersInDb}; keys with more than one order ${dupRows.length}`,
        ...stock.map((s) => `  ${s.sku}: reserved ${s.reserved}, open order lines ${s.open}${s.reserved === s.open ? "" : "  ← differs"}`),
      ].join("\n"),
    );
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(missing).toEqual([]);
    expect(mismatched).toEqual([]);
    expect(retryFailures).toBe(0);
    expect(dupRows).toEqual([]);
    for (const s of stock) expect(s.reserved).toBe(s.open);
    child!.kill("SIGTERM");
    await new Promise<void>((resolve) => (child!.exitCode !== null ? resolve() : child!.once("exit", () => resolve())));
    child = null;
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
