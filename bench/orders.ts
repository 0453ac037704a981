/**
 * Order throughput bench (npm run bench:orders).
 *
 * Starts the service as a child process on a fresh MariaDB database, places qty-1 orders for one hot sku
 * over HTTP with 32 concurrent clients, and in the same run measures a hand-written mysql2 transaction that
 * does the same writes (conditional stock update + order + line + outbox row) on the same server. Phases
 * alternate baseline/service twice and the medians are compared. A last phase orders a scarce sku until it
 * runs out and checks in SQL that nothing was oversold.
 *
 * Figures are reported, not asserted: the exit code is non-zero only for errors or overselling.
 *
 *   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_CLIENTS=32 npm run bench:orders
 *   BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306  BENCH_REDIS_URL=redis://127.0.0.1:6379
 *   BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   extra node flags for the service process
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { RESERVING_STATUSES } from "../src/domain/order-state";
import { cpuSeconds, emitResult, mergeCounts, runWithCleanup, deleteRedisKeys, findMysqldPid, fmt, freePort, log, median, message, percentile, positive, sleep, table } from "./support";

// A throwaway secret: production config requires one, and the bench signs no real sessions.
const BENCH_SESSION_SECRET = crypto.randomBytes(32).toString("hex");

// ── settings ────────────────────────────────────────────────────────────────────────────────────────


const MEASURE_MS = positive("BENCH_SECONDS", 10) * 1000;
const WARMUP_MS = positive("BENCH_WARMUP_SECONDS", 2) * 1000;
const CLIENTS = Math.max(1, Math.trunc(positive("BENCH_CLIENTS", 32)));
const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306").replace(/\/+$/, "");
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const ROUNDS = 2; // A B A B
const SCARCE_STOCK = 500;
const HOT_STOCK = 100_000_000; // never runs out during the throughput phases
const PRICE_FEN = 1_000; // ¥10 at list price: no discount, far below ¥5,000, so the order is approved automatically
const OVERSELL_DEADLINE_MS = 120_000;

const RUN_ID = crypto.randomBytes(4).toString("hex");
const DB_NAME = `co_bench_${RUN_ID}`;
const DATABASE_URL = `${MYSQL_URL}/${DB_NAME}`;
const CACHE_PREFIX = `co_bench_${RUN_ID}:`;
const CUSTOMER = "BENCH-CUST";
const RAW_CUSTOMER = "BENCH-RAW-CUST"; // the baseline's own customer, so its orders never weigh on the service's credit check
const HOT_SKU = "BENCH-HOT";
const SCARCE_SKU = "BENCH-SCARCE";
const RAW_SKU = "BENCH-RAW"; // the baseline's own product row, same table and server
const SERVICE_MAIN = path.resolve(__dirname, "../src/main.js");
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

// ── small helpers ───────────────────────────────────────────────────────────────────────────────────







// ── HTTP client ─────────────────────────────────────────────────────────────────────────────────────

interface HttpResult {
  status: number;
  body: string;
}

class Api {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  constructor(
    readonly port: number,
    public key = "",
  ) {}

  request(method: string, urlPath: string, body?: unknown): Promise<HttpResult> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: this.port, method, path: urlPath, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath} timed out after 30 s`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A setup call that must succeed. */
  async expect(status: number, method: string, urlPath: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, urlPath, body);
    if (res.status !== status) throw new Error(`${method} ${urlPath}: expected ${status}, got ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as unknown;
  }

  close() {
    this.agent.destroy();
  }
}

function errorCode(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : null;
  } catch {
    return null;
  }
}

// ── the service as a child process ──────────────────────────────────────────────────────────────────

class ServiceProcess {
  private output: string[] = [];
  private forwarded = 0;
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  private constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > 40) this.output.shift();
        if (this.forwarded < 20) process.stderr.write(`[service] ${line}\n`);
        else if (this.forwarded === 20) process.stderr.write("[service] … further output suppressed\n");
        this.forwarded++;
      }
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static start(env: NodeJS.ProcessEnv): ServiceProcess {
    const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, SERVICE_MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
    return new ServiceProcess(child);
  }

  get pid() {
    return this.child.pid;
  }

  get linesLogged() {
    return this.forwarded;
  }

  recentOutput() {
    return this.output.join("\n");
  }

  async waitReady(api: Api, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exitCode !== undefined) throw new Error(`the service exited with code ${this.exitCode}:\n${this.recentOutput()}`);
      try {
        const res = await api.request("GET", "/readyz");
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`the service was not ready within ${timeoutMs / 1000} s:\n${this.recentOutput()}`);
  }

  /** SIGTERM, then SIGKILL if it has not drained within the grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill("SIGTERM");
    const timer = sleep(graceMs).then(() => "timeout" as const);
    if ((await Promise.race([this.exited, timer])) === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

// ── measurement ─────────────────────────────────────────────────────────────────────────────────────

type Outcome = { kind: "ok" } | { kind: "out_of_stock" } | { kind: "error"; detail: string };

interface ServerSnapshot {
  at: number;
  questions: number;
  rowLockWaits: number;
  rowLockTimeMs: number;
  serviceCpu: number | null;
  mysqldCpu: number | null;
  benchCpu: number;
  loadAvg: number;
}

interface PhaseResult {
  label: string;
  kind: "baseline" | "service";
  ok: number;
  outOfStock: number;
  errors: number;
  errorKinds: Map<string, number>;
  ordersPerSec: number;
  latencyMs: number[]; // sorted
  /** Server-wide counters: other clients of the same MariaDB server inflate them. */
  statementsPerOrder: number;
  rowLockWaitMsPerOrder: number;
  /** CPU of whatever runs the order logic: the service process, or this process for the baseline. */
  appCpuPct: number | null;
  appCpuMsPerOrder: number | null;
  dbCpuMsPerOrder: number | null;
  /** The host's 1-minute load average at the end of the phase: above the core count, figures are noisy. */
  loadAvg: number;
}

class Monitor {
  constructor(
    private admin: Pool,
    private servicePid: () => number | undefined,
    private mysqldPid: number | undefined,
  ) {}

  async status(names: string[]): Promise<Map<string, number>> {
    const [rows] = await this.admin.query<RowDataPacket[]>(
      `SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map(() => "?").join(",")})`,
      names,
    );
    return new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
  }

  async snapshot(): Promise<ServerSnapshot> {
    const s = await this.status(["Questions", "Innodb_row_lock_waits", "Innodb_row_lock_time"]);
    return {
      at: performance.now(),
      questions: s.get("Questions") ?? 0,
      rowLockWaits: s.get("Innodb_row_lock_waits") ?? 0,
      rowLockTimeMs: s.get("Innodb_row_lock_time") ?? 0,
      serviceCpu: cpuSeconds(this.servicePid()),
      mysqldCpu: cpuSeconds(this.mysqldPid),
      benchCpu: (() => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      })(),
      loadAvg: os.loadavg()[0],
    };
  }
}

/**
 * `CLIENTS` loops call `attempt` back to back for warm-up + measure time. Orders completing inside the
 * measured window count toward throughput and latency; errors count whenever they happen.
 */
async function runPhase(
  label: string,
  kind: PhaseResult["kind"],
  monitor: Monitor,
  attempt: () => Promise<Outcome>,
): Promise<PhaseResult> {
  const t0 = performance.now();
  const from = t0 + WARMUP_MS;
  const to = from + MEASURE_MS;
  const latency: number[] = [];
  const errorKinds = new Map<string, number>();
  let ok = 0;
  let outOfStock = 0;
  let errors = 0;

  const snapshots = Promise.all([
    sleep(WARMUP_MS).then(() => monitor.snapshot()),
    sleep(WARMUP_MS + MEASURE_MS).then(() => monitor.snapshot()),
  ]);
  const client = async () => {
    while (performance.now() < to) {
      const start = performance.now();
      let outcome: Outcome;
      try {
        outcome = await attempt();
      } catch (err) {
        outcome = { kind: "error", detail: message(err) };
      }
      const end = performance.now();
      if (outcome.kind === "error") {
        errors++;
        errorKinds.set(outcome.detail, (errorKinds.get(outcome.detail) ?? 0) + 1);
        await sleep(10); // a failing target must not turn the loop into a busy spin
        continue;
      }
      if (end < from || end > to) continue;
      if (outcome.kind === "out_of_stock") outOfStock++;
      else {
        ok++;
        latency.push(end - start);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const [before, after] = await snapshots;
  const wall = (after.at - before.at) / 1000;
  const pct = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) / wall) * 100);
  const perOrderMs = (a: number | null, b: number | null) => (a === null || b === null || ok === 0 ? null : ((b - a) * 1000) / ok);
  const appBefore = kind === "service" ? before.serviceCpu : before.benchCpu;
  const appAfter = kind === "service" ? after.serviceCpu : after.benchCpu;
  latency.sort((a, b) => a - b);
  const result: PhaseResult = {
    label,
    kind,
    ok,
    outOfStock,
    errors,
    errorKinds,
    ordersPerSec: ok / (MEASURE_MS / 1000),
    latencyMs: latency,
    statementsPerOrder: ok ? (after.questions - before.questions) / ok : NaN,
    rowLockWaitMsPerOrder: ok ? (after.rowLockTimeMs - before.rowLockTimeMs) / ok : NaN,
    appCpuPct: pct(appBefore, appAfter),
    appCpuMsPerOrder: perOrderMs(appBefore, appAfter),
    dbCpuMsPerOrder: perOrderMs(before.mysqldCpu, after.mysqldCpu),
    loadAvg: after.loadAvg,
  };
  log(`${label}: ${result.ordersPerSec.toFixed(1)} orders/s, ${errors} errors`);
  return result;
}

// ── the hand-written baseline ───────────────────────────────────────────────────────────────────────

interface BaselineTarget {
  productId: number;
  sku: string;
  name: string;
  unit: string;
  category: string | null;
  listPriceFen: number;
  floorPriceFen: number | null;
  customerId: number;
  paymentTermsDays: number;
  contactName: string | null;
  phone: string | null;
  address: string | null;
}

const BASELINE_SQL = {
  reserve: "UPDATE stock_levels SET reserved = reserved + ?, updated_at = ? WHERE product_id = ? AND on_hand - reserved >= ?",
  order:
    "INSERT INTO orders (order_no, customer_id, sales_rep_id, status, total_fen, paid_fen, payment_terms_days, due_at, " +
    "ship_to_name, ship_to_phone, ship_to_address, note, source, idempotency_key, approval_round, auto_approved, " +
    "approval_reasons, version, created_by, submitted_at, approved_at, created_at, updated_at) " +
    "VALUES (?, ?, NULL, 'approved', ?, 0, ?, NULL, ?, ?, ?, NULL, 'api', NULL, 1, 1, '[]', 3, 'api:bench', ?, ?, ?, ?)",
  line:
    "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit, category, list_price_fen, floor_price_fen, " +
    "unit_price_fen, qty, line_total_fen, picked_qty, shipped_qty) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
  outbox:
    "INSERT INTO outbox (topic, payload, dedupe_key, status, attempts, next_attempt_at, created_at) " +
    "VALUES ('card.send', ?, ?, 'pending', 0, ?, ?)",
};

let baselineSeq = 0;

/**
 * What a careful hand-written service would do for one qty-1 order: one transaction, prepared statements,
 * the stock reservation first (it decides whether there is an order at all), then the rows, then COMMIT.
 */
function baselineAttempt(pool: Pool, t: BaselineTarget): () => Promise<Outcome> {
  const readCommitted = new WeakSet<object>();
  return async () => {
    const conn: PoolConnection = await pool.getConnection();
    try {
      // Same isolation as the service, set once per connection as a hand-written pool would.
      if (!readCommitted.has(conn.connection)) {
        await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
        readCommitted.add(conn.connection);
      }
      const qty = 1;
      const now = new Date();
      const orderNo = `BL-${RUN_ID}-${String(++baselineSeq).padStart(8, "0")}`;
      const total = t.listPriceFen * qty;
      await conn.beginTransaction();
      try {
        const [reserved] = await conn.execute<ResultSetHeader>(BASELINE_SQL.reserve, [qty, now, t.productId, qty]);
        if (reserved.affectedRows !== 1) {
          await conn.rollback();
          return { kind: "out_of_stock" };
        }
        const [order] = await conn.execute<ResultSetHeader>(BASELINE_SQL.order, [
          orderNo, t.customerId, total, t.paymentTermsDays, t.contactName, t.phone, t.address, now, now, now, now,
        ]);
        await conn.execute(BASELINE_SQL.line, [
          order.insertId, t.productId, t.sku, t.name, t.unit, t.category, t.listPriceFen, t.floorPriceFen, t.listPriceFen, qty, total,
        ]);
        const payload = JSON.stringify({ card: "warehouse_pick", orderId: order.insertId });
        await conn.execute(BASELINE_SQL.outbox, [payload, `card.send:warehouse:${order.insertId}:1`, now, now]);
        await conn.commit();
        return { kind: "ok" };
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      }
    } finally {
      conn.release();
    }
  };
}

// ── invariants ──────────────────────────────────────────────────────────────────────────────────────

interface StockCheck {
  sku: string;
  onHand: number;
  reserved: number;
  openQty: number;
  openOrders: number;
}

async function stockCheck(admin: Pool, sku: string): Promise<StockCheck> {
  const statuses = RESERVING_STATUSES.map(() => "?").join(",");
  const [rows] = await admin.query<RowDataPacket[]>(
    `SELECT s.on_hand, s.reserved,
        (SELECT COALESCE(SUM(l.qty - l.shipped_qty), 0) FROM \`${DB_NAME}\`.order_lines l
           JOIN \`${DB_NAME}\`.orders o ON o.id = l.order_id
          WHERE l.product_id = p.id AND o.status IN (${statuses})) AS open_qty,
        (SELECT COUNT(DISTINCT l.order_id) FROM \`${DB_NAME}\`.order_lines l
           JOIN \`${DB_NAME}\`.orders o ON o.id = l.order_id
          WHERE l.product_id = p.id AND o.status IN (${statuses})) AS open_orders
       FROM \`${DB_NAME}\`.products p JOIN \`${DB_NAME}\`.stock_levels s ON s.product_id = p.id
      WHERE p.sku = ?`,
    [...RESERVING_STATUSES, ...RESERVING_STATUSES, sku],
  );
  const r = rows[0];
  if (!r) throw new Error(`no stock row for ${sku}`);
  return { sku, onHand: Number(r.on_hand), reserved: Number(r.reserved), openQty: Number(r.open_qty), openOrders: Number(r.open_orders) };
}

/** Units sold beyond stock, plus any disagreement between the reservation counter and the open order lines. */
function oversoldUnits(c: StockCheck, clientSuccesses?: number): number {
  const beyond = Math.max(0, c.reserved - c.onHand, c.openQty - c.onHand, (clientSuccesses ?? 0) - c.onHand);
  return beyond + Math.abs(c.reserved - c.openQty);
}

// ── oversell phase ──────────────────────────────────────────────────────────────────────────────────

interface OversellResult {
  successes: number;
  soldOut: number;
  errors: number;
  errorKinds: Map<string, number>;
  seconds: number;
}

/** Every client orders the scarce sku until it is told insufficient_stock (or the deadline passes). */
async function oversellPhase(api: Api, body: string): Promise<OversellResult> {
  const t0 = performance.now();
  const errorKinds = new Map<string, number>();
  let successes = 0;
  let soldOut = 0;
  let errors = 0;
  const client = async () => {
    while (performance.now() - t0 < OVERSELL_DEADLINE_MS) {
      let detail: string;
      try {
        const res = await api.request("POST", "/api/v1/orders", body);
        if (res.status === 201) {
          successes++;
          continue;
        }
        const code = errorCode(res.body);
        if (res.status === 409 && code === "insufficient_stock") {
          soldOut++;
          return;
        }
        detail = `HTTP ${res.status} ${code ?? res.body.slice(0, 120)}`;
      } catch (err) {
        detail = message(err);
      }
      errors++;
      errorKinds.set(detail, (errorKinds.get(detail) ?? 0) + 1);
      await sleep(10);
    }
    const detail = "client never saw insufficient_stock before the deadline";
    errors++;
    errorKinds.set(detail, (errorKinds.get(detail) ?? 0) + 1);
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { successes, soldOut, errors, errorKinds, seconds: (performance.now() - t0) / 1000 };
}

// ── one-order statement probe ───────────────────────────────────────────────────────────────────────

const PROBE_COUNTERS = ["Questions", "Com_select", "Com_insert", "Com_update", "Com_commit", "Com_begin", "Com_set_option"];

/**
 * Statements one order costs, from the server's global counters. Other clients of the server can only add
 * to a reading, so the smallest of a few tries is the closest to the truth.
 */
async function probeStatements(monitor: Monitor, run: () => Promise<unknown>, tries = 5): Promise<Map<string, number>> {
  let best: Map<string, number> | null = null;
  for (let i = 0; i < tries; i++) {
    const before = await monitor.status(PROBE_COUNTERS);
    await run();
    const after = await monitor.status(PROBE_COUNTERS);
    // The first SHOW GLOBAL STATUS itself is counted as one question.
    const delta = new Map(PROBE_COUNTERS.map((n) => [n, (after.get(n) ?? 0) - (before.get(n) ?? 0) - (n === "Questions" ? 1 : 0)]));
    if (!best || (delta.get("Questions") ?? 0) < (best.get("Questions") ?? 0)) best = delta;
  }
  return best ?? new Map();
}

const describeProbe = (p: Map<string, number>) =>
  `${p.get("Questions")} statements (select ${p.get("Com_select")}, insert ${p.get("Com_insert")}, ` +
  `update ${p.get("Com_update")}, begin ${p.get("Com_begin")}, commit ${p.get("Com_commit")}, set ${p.get("Com_set_option")})`;

// ── report ──────────────────────────────────────────────────────────────────────────────────────────



// ── main ────────────────────────────────────────────────────────────────────────────────────────────

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  if (!fs.existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing; run npm run build first`);

  // The server, a fresh database, and the Redis keys this run will leave behind.
  const admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2, timezone: "Z", supportBigNumbers: true });
  onCleanup("close admin pool", () => admin.end());
  const [[version]] = await admin.query<RowDataPacket[]>("SELECT VERSION() AS v");
  await admin.query(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  onCleanup(`drop database ${DB_NAME}`, () => admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``));
  onCleanup(`delete redis keys ${CACHE_PREFIX}*`, () => deleteRedisKeys(REDIS_URL, CACHE_PREFIX));
  log(`database ${DB_NAME} on MariaDB ${String(version.v)}`);

  // Schema and an API key through a short-lived in-process app on the same database.
  const setup = createApp(loadConfig({ DATABASE_URL, SEED_DEMO_DATA: "false", LOG_LEVEL: "warn", NODE_ENV: "production", SIMULATOR_ENABLED: "false", SESSION_SECRET: BENCH_SESSION_SECRET }));
  let key: string;
  try {
    await setup.prepare();
    ({ key } = await setup.services.createApiKey("bench"));
  } finally {
    await setup.close();
  }

  // The service in its own process, so the load generator never shares its event loop.
  const port = await freePort();
  const service = ServiceProcess.start({
    ...process.env,
    NODE_ENV: "production",
    SESSION_SECRET: BENCH_SESSION_SECRET,
    DATABASE_URL,
    REDIS_URL,
    CACHE_KEY_PREFIX: CACHE_PREFIX,
    HOST: "127.0.0.1",
    PORT: String(port),
    SEED_DEMO_DATA: "false",
    LOG_LEVEL: "warn",
    API_RATE_LIMIT_PER_MIN: "100000000",
    // Every request comes from 127.0.0.1: the per-IP limit would measure itself.
    RATE_LIMIT_API_IP_PER_MIN: "100000000",
    OUTBOX_ENABLED: "false",
    SIMULATOR_ENABLED: "false",
    DB_POOL_MAX: "40",
    DB_LOG_SQL: "false",
  });
  onCleanup("stop the service", () => service.stop());
  const api = new Api(port);
  onCleanup("close the HTTP agent", async () => api.close());
  await service.waitReady(api);
  api.key = key;
  log(`service pid ${service.pid} listening on 127.0.0.1:${port}`);

  // Master data: a customer without a credit limit (and one for the baseline), the hot, scarce and baseline skus.
  await api.expect(
    200,
    "PUT",
    "/api/v1/customers",
    [CUSTOMER, RAW_CUSTOMER].map((code) => ({
      code,
      name: `Bench Trading Co. ${code}`,
      creditLimitFen: null,
      contactName: "Bench Buyer",
      phone: "13800000000",
      address: "1 Bench Road, Shanghai",
    })),
  );
  await api.expect(
    200,
    "PUT",
    "/api/v1/products",
    [HOT_SKU, SCARCE_SKU, RAW_SKU].map((sku) => ({ sku, name: `Bench item ${sku}`, unit: "件", category: "bench", listPriceFen: PRICE_FEN })),
  );
  await api.expect(200, "PUT", `/api/v1/stock/${HOT_SKU}`, { onHand: HOT_STOCK, reason: "bench" });
  await api.expect(200, "PUT", `/api/v1/stock/${RAW_SKU}`, { onHand: HOT_STOCK, reason: "bench" });
  await api.expect(200, "PUT", `/api/v1/stock/${SCARCE_SKU}`, { onHand: SCARCE_STOCK, reason: "bench" });

  const orderBody = (sku: string) => JSON.stringify({ customerCode: CUSTOMER, lines: [{ sku, qty: 1 }], submit: true });
  const hotBody = orderBody(HOT_SKU);

  // The orders must route like the common case: approved automatically, no approval steps.
  const first = (await api.expect(201, "POST", "/api/v1/orders", hotBody)) as { status?: string };
  if (first.status !== "approved") log(`warning: a bench order came back "${String(first.status)}", not "approved"; the service takes the approval path`);

  const [[target]] = await admin.query<RowDataPacket[]>(
    `SELECT p.id, p.sku, p.name, p.unit, p.category, p.list_price_fen, p.floor_price_fen,
            c.id AS customer_id, c.payment_terms_days, c.contact_name, c.phone, c.address
       FROM \`${DB_NAME}\`.products p, \`${DB_NAME}\`.customers c WHERE p.sku = ? AND c.code = ?`,
    [RAW_SKU, RAW_CUSTOMER],
  );
  const baselineTarget: BaselineTarget = {
    productId: Number(target.id),
    sku: String(target.sku),
    name: String(target.name),
    unit: String(target.unit),
    category: target.category === null ? null : String(target.category),
    listPriceFen: Number(target.list_price_fen),
    floorPriceFen: target.floor_price_fen === null ? null : Number(target.floor_price_fen),
    customerId: Number(target.customer_id),
    paymentTermsDays: Number(target.payment_terms_days),
    contactName: target.contact_name === null ? null : String(target.contact_name),
    phone: target.phone === null ? null : String(target.phone),
    address: target.address === null ? null : String(target.address),
  };

  const pool = mysql.createPool({
    uri: DATABASE_URL,
    connectionLimit: CLIENTS,
    timezone: "Z",
    supportBigNumbers: true,
    charset: "utf8mb4_unicode_ci",
  });
  onCleanup("close the baseline pool", () => pool.end());
  const baseline = baselineAttempt(pool, baselineTarget);

  const monitor = new Monitor(admin, () => service.pid, findMysqldPid());

  // What one order costs in statements, once connections and caches are warm.
  await api.request("POST", "/api/v1/orders", hotBody);
  const serviceProbe = await probeStatements(monitor, () => api.expect(201, "POST", "/api/v1/orders", hotBody));
  await baseline();
  const baselineProbe = await probeStatements(monitor, baseline);

  const serviceAttempt = async (): Promise<Outcome> => {
    const res = await api.request("POST", "/api/v1/orders", hotBody);
    if (res.status === 201) return { kind: "ok" };
    const code = errorCode(res.body);
    if (res.status === 409 && code === "insufficient_stock") return { kind: "out_of_stock" };
    return { kind: "error", detail: `HTTP ${res.status} ${code ?? res.body.slice(0, 120)}` };
  };

  log(`${ROUNDS}× (baseline, service): ${CLIENTS} clients, ${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s each`);
  const phases: PhaseResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    phases.push(await runPhase(`baseline #${round}`, "baseline", monitor, baseline));
    phases.push(await runPhase(`service #${round}`, "service", monitor, serviceAttempt));
  }

  log(`oversell check: ${CLIENTS} clients order ${SCARCE_SKU} (on hand ${SCARCE_STOCK}) until it runs out`);
  const oversell = await oversellPhase(api, orderBody(SCARCE_SKU));

  // Invariants, straight from the database.
  const scarce = await stockCheck(admin, SCARCE_SKU);
  const hot = await stockCheck(admin, HOT_SKU);
  const raw = await stockCheck(admin, RAW_SKU);
  const oversold = oversoldUnits(scarce, oversell.successes) + oversoldUnits(hot);
  const scarceMismatch = scarce.openOrders !== oversell.successes;
  const baselineBroken = raw.reserved !== raw.openQty;

  // ── the report ──
  const serviceRuns = phases.filter((p) => p.kind === "service");
  const baselineRuns = phases.filter((p) => p.kind === "baseline");
  const serviceRate = median(serviceRuns.map((p) => p.ordersPerSec));
  const baselineRate = median(baselineRuns.map((p) => p.ordersPerSec));
  const ratio = serviceRate / baselineRate;
  const cpuMs = (runs: PhaseResult[]) => median(runs.flatMap((p) => (p.appCpuMsPerOrder === null ? [] : [p.appCpuMsPerOrder])));
  const serviceCpuMs = cpuMs(serviceRuns);
  const baselineCpuMs = cpuMs(baselineRuns);
  const allServiceLatency = serviceRuns.flatMap((p) => p.latencyMs).sort((a, b) => a - b);

  const errorKinds = new Map<string, number>();
  for (const p of phases) mergeCounts(errorKinds, p.errorKinds);
  mergeCounts(errorKinds, oversell.errorKinds);
  if (scarceMismatch) errorKinds.set(`${SCARCE_SKU}: ${oversell.successes} orders answered 201 but ${scarce.openOrders} are open in the database`, 1);
  if (baselineBroken) errorKinds.set(`baseline ${RAW_SKU}: reserved ${raw.reserved} but open lines hold ${raw.openQty}`, 1);
  const errors = phases.reduce((n, p) => n + p.errors, 0) + oversell.errors + (scarceMismatch ? 1 : 0) + (baselineBroken ? 1 : 0);

  const out: string[] = [];
  out.push("");
  out.push(`ChatOrder orders bench — MariaDB ${String(version.v)}, ${CLIENTS} clients, one hot sku, qty 1, ` +
    `${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s measured per phase`);
  out.push("");
  out.push(
    table(
      ["phase", "orders", "orders/s", "p50 ms", "p95 ms", "p99 ms", "errors", "app CPU%", "app CPU ms/order", "db CPU ms/order", "lock wait ms/order*", "stmts/order*", "load"],
      phases.map((p) => [
        p.label,
        String(p.ok),
        fmt(p.ordersPerSec),
        fmt(percentile(p.latencyMs, 50)),
        fmt(percentile(p.latencyMs, 95)),
        fmt(percentile(p.latencyMs, 99)),
        String(p.errors),
        fmt(p.appCpuPct, 0),
        fmt(p.appCpuMsPerOrder, 2),
        fmt(p.dbCpuMsPerOrder, 2),
        fmt(p.rowLockWaitMsPerOrder, 1),
        fmt(p.statementsPerOrder),
        fmt(p.loadAvg),
      ]),
    ),
  );
  out.push(
    `app = the service process (service rows) or this process running the mysql2 transaction (baseline rows); ` +
      `* server-wide counters, inflated by other clients of the server; load = 1-min load average on ${os.cpus().length} CPUs`,
  );
  out.push("");
  out.push("statements for one order (fewest of 5 tries, from server-wide counters):");
  out.push(`  service   ${describeProbe(serviceProbe)}`);
  out.push(`  baseline  ${describeProbe(baselineProbe)}`);
  out.push("");
  out.push(
    table(
      ["summary (median of runs)", "value"],
      [
        ["service orders/s", fmt(serviceRate)],
        ["baseline orders/s (raw mysql2)", fmt(baselineRate)],
        ["ratio service/baseline", fmt(ratio, 2)],
        ["service latency p50 / p95 ms", `${fmt(percentile(allServiceLatency, 50))} / ${fmt(percentile(allServiceLatency, 95))}`],
        ["app CPU ms/order service / baseline", `${fmt(serviceCpuMs, 2)} / ${fmt(baselineCpuMs, 2)}`],
        ["service ceiling at one full core, orders/s", fmt(1000 / serviceCpuMs)],
        ["errors", String(errors)],
        [`oversell: ${SCARCE_SKU} orders accepted / on hand`, `${oversell.successes} / ${scarce.onHand}`],
        [`oversell: ${SCARCE_SKU} reserved / open-line qty`, `${scarce.reserved} / ${scarce.openQty}`],
        [`oversell: ${SCARCE_SKU} 409 insufficient_stock`, `${oversell.soldOut} (${fmt(oversell.seconds)} s)`],
        [`invariant: ${HOT_SKU} reserved / open-line qty`, `${hot.reserved} / ${hot.openQty}`],
        [`invariant: ${RAW_SKU} (baseline) reserved / lines`, `${raw.reserved} / ${raw.openQty}`],
        ["oversold", String(oversold)],
      ],
    ),
  );
  if (errorKinds.size > 0) {
    out.push("");
    out.push("errors by kind:");
    for (const [kind, n] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 10)) out.push(`  ${String(n).padStart(6)}  ${kind}`);
  }
  if (service.linesLogged > 0) out.push(`\nthe service logged ${service.linesLogged} lines at warn or above (first ones shown above)`);
  out.push("");
  out.push(`ratio=${fmt(ratio, 2)} oversold=${oversold}`);
  process.stdout.write(`${out.join("\n")}\n`);
  emitResult(
    "orders",
    [
      { what: "orders/s: API (32 clients, one hot sku) vs raw mysql2 transaction", measured: serviceRate, unit: "orders/s", baseline: baselineRate, ratio, target: "ratio ≥ 0.5", met: ratio >= 0.5 },
      { what: "units oversold of a scarce sku", measured: oversold, unit: "units", baseline: null, ratio: null, target: "= 0", met: oversold === 0 },
    ],
    oversold === 0 && errors === 0,
  );

  return oversold > 0 || errors > 0 ? 1 : 0;
}


runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
