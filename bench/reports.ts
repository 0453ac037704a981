/**
 * Dashboard bench (npm run bench:reports).
 *
 * Seeds BENCH_ORDERS (default 1,000,000) orders with 1–3 lines each over the last BENCH_DAYS (730) days on a
 * fresh MariaDB database, straight into the tables with multi-row inserts, builds the daily rollups the
 * way the report-rollups job does on its first run, then asks for the dashboard in three shapes (30 days
 * by day, 90 by week, 365 by month) from the rollups and straight from the order tables, in the same run,
 * and checks that both give the same figures. The database is dropped at the end (or on Ctrl-C).
 *
 *   BENCH_ORDERS=1000000 BENCH_DAYS=730 BENCH_ROLLUP_RUNS=30 BENCH_DIRECT_RUNS=5 npm run bench:reports
 *   BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306
 */
import crypto from "node:crypto";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import mysql from "mysql2/promise";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { dashboardFigures, type Bucket } from "../src/services/reports/dashboard";
import { minusDays, shanghaiDay } from "../src/services/reports/days";
import { refreshRollups } from "../src/services/reports/refresh-rollups";
import { emitResult, fmt, log, percentile, positive, runWithCleanup, table } from "./support";

const ORDERS = Math.trunc(positive("BENCH_ORDERS", 1_000_000));
const DAYS = Math.trunc(positive("BENCH_DAYS", 730));
const ROLLUP_RUNS = Math.trunc(positive("BENCH_ROLLUP_RUNS", 30));
const DIRECT_RUNS = Math.trunc(positive("BENCH_DIRECT_RUNS", 5));
const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306").replace(/\/+$/, "");
const DB_NAME = `co_bench_reports_${crypto.randomBytes(4).toString("hex")}`;
const REPS = 20;
const CUSTOMERS = 400;
const PRODUCTS = 300;
const BATCH = 5000;
const DAY_MS = 86_400_000;
const TARGET_P95_MS = 100;

/** A small deterministic generator, so two runs seed the same company. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace("T", " ");

async function seed(pool: mysql.Pool) {
  const at = iso(Date.now());
  const users = Array.from({ length: REPS + 2 }, (_, i) => [i + 1, "simulator", `bench-${i + 1}`, i < 2 ? `经理${i + 1}` : `销售${i - 1}`, i < 2 ? "manager" : "sales", i < 2 ? null : 1 + (i % 2), at, at]);
  await pool.query("INSERT INTO users (id, platform, platform_user_id, name, roles, manager_id, created_at, updated_at) VALUES ?", [users]);
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => [i + 1, `BC-${i + 1}`, `客户${i + 1}`, 3 + (i % REPS), 30, at, at]);
  await pool.query("INSERT INTO customers (id, code, name, owner_user_id, payment_terms_days, created_at, updated_at) VALUES ?", [customers]);
  const products = Array.from({ length: PRODUCTS }, (_, i) => [i + 1, `BS-${i + 1}`, `BB-${i + 1}`, `商品${i + 1}`, 500 + (i % 50) * 100, at, at]);
  await pool.query("INSERT INTO products (id, sku, barcode, name, list_price_fen, created_at, updated_at) VALUES ?", [products]);
  const stock = Array.from({ length: PRODUCTS }, (_, i) => [i + 1, i % 10 === 0 ? 5 : 1000, 0, 20, at]);
  await pool.query("INSERT INTO stock_levels (product_id, on_hand, reserved, safety_stock, updated_at) VALUES ?", [stock]);

  const random = rng(7);
  const end = Date.now();
  const start = end - DAYS * DAY_MS;
  let lineId = 1;
  for (let first = 1; first <= ORDERS; first += BATCH) {
    const orders: unknown[][] = [];
    const lines: unknown[][] = [];
    for (let id = first; id < Math.min(first + BATCH, ORDERS + 1); id += 1) {
      const created = start + Math.floor(((id - 1) / ORDERS) * (end - start)) + Math.floor(random() * 60_000);
      const customer = 1 + Math.floor(random() * CUSTOMERS);
      const rep = 3 + ((customer - 1) % REPS);
      let total = 0;
      const count = 1 + Math.floor(random() * 3);
      for (let n = 1; n <= count; n += 1) {
        const product = 1 + Math.floor(random() * PRODUCTS);
        const price = 500 + ((product - 1) % 50) * 100;
        const qty = 1 + Math.floor(random() * 20);
        total += price * qty;
        lines.push([lineId++, id, n, product, `BS-${product}`, `商品${product}`, "件", price, price, qty, price * qty]);
      }
      const age = (end - created) / DAY_MS;
      const roll = random();
      const status = age > 45 ? (roll < 0.85 ? "completed" : roll < 0.9 ? "delivered" : roll < 0.95 ? "cancelled" : "rejected") : ["pending_approval", "approved", "picking", "shipped", "delivered", "completed", "cancelled"][Math.floor(roll * 7)];
      const auto = random() < 0.5;
      const approved = ["approved", "picking", "shipped", "delivered", "completed"].includes(status) ? created + (auto ? 0 : Math.floor(random() * 8 * 3_600_000)) : null;
      const shipped = ["shipped", "delivered", "completed"].includes(status) ? created + 2 * DAY_MS : null;
      const delivered = ["delivered", "completed"].includes(status) ? created + 4 * DAY_MS : null;
      const due = delivered ? delivered + 30 * DAY_MS : shipped ? shipped + 30 * DAY_MS : null;
      const paid = status === "completed" ? total : status === "delivered" && random() < 0.3 ? Math.floor(total / 2) : 0;
      orders.push([
        id, `BR-${id}`, customer, rep, status, total, paid, 30, due ? iso(due) : null, "api", 1, auto && approved !== null ? 1 : 0, 1, "bench",
        iso(created), approved ? iso(approved) : null, shipped ? iso(shipped) : null, delivered ? iso(delivered) : null, iso(created), iso(created),
      ]);
    }
    await pool.query(
      `INSERT INTO orders (id, order_no, customer_id, sales_rep_id, status, total_fen, paid_fen, payment_terms_days, due_at, source, approval_round,
         auto_approved, version, created_by, submitted_at, approved_at, shipped_at, delivered_at, created_at, updated_at) VALUES ?`,
      [orders],
    );
    await pool.query(
      "INSERT INTO order_lines (id, order_id, line_no, product_id, sku, name, unit, list_price_fen, unit_price_fen, qty, line_total_fen) VALUES ?",
      [lines],
    );
    lines.length = 0;
    if ((first - 1) % (BATCH * 40) === 0) log(`seeded ${first - 1 + orders.length} orders`);
  }
}

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  const admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
  onCleanup("close admin pool", () => admin.end());
  await admin.query(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  onCleanup(`drop database ${DB_NAME}`, () => admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``));
  log(`database ${DB_NAME}`);

  // Both paths are compared at one instant: "overdue" moves with the clock, and the direct path takes
  // seconds, so with a running clock an order falling due between the two reads made them differ.
  let clock = new Date();
  const app = createApp(loadConfig({ DATABASE_URL: `${MYSQL_URL}/${DB_NAME}`, SEED_DEMO_DATA: "false", LOG_LEVEL: "warn", OUTBOX_ENABLED: "false", JOBS_ENABLED: "false" }), {
    now: () => clock,
  });
  onCleanup("close the app", () => app.close());
  await app.prepare();

  const pool = mysql.createPool({ uri: `${MYSQL_URL}/${DB_NAME}`, connectionLimit: 2, timezone: "Z" });
  onCleanup("close the seeding pool", () => pool.end());
  let t0 = performance.now();
  await seed(pool);
  log(`seeded ${ORDERS} orders in ${fmt((performance.now() - t0) / 1000)} s`);
  clock = new Date(); // after the last seeded order, and still for every read below
  t0 = performance.now();
  const built = await refreshRollups(app.deps);
  const buildSeconds = (performance.now() - t0) / 1000;
  log(`rollups built for ${built.days} days in ${fmt(buildSeconds)} s`);

  const today = shanghaiDay(clock);
  const shapes: Array<{ name: string; from: string; bucket: Bucket }> = [
    { name: "30 days by day", from: minusDays(today, 29), bucket: "day" },
    { name: "90 days by week", from: minusDays(today, 89), bucket: "week" },
    { name: "365 days by month", from: minusDays(today, 364), bucket: "month" },
  ];
  const timings = { rollups: [] as number[], orders: [] as number[] };
  const rows: string[][] = [];
  let equal = true;
  for (const shape of shapes) {
    const q = { from: shape.from, to: today, bucket: shape.bucket };
    const per: Record<"rollups" | "orders", number[]> = { rollups: [], orders: [] };
    const last: Record<string, unknown> = {};
    for (const [source, runs] of [["rollups", ROLLUP_RUNS], ["orders", DIRECT_RUNS]] as const) {
      for (let i = 0; i < runs + 1; i += 1) {
        const s = performance.now();
        const figures = await dashboardFigures(app.deps, q, source);
        if (i > 0) per[source].push(performance.now() - s); // the first call warms the buffer pool
        last[source] = figures;
      }
      timings[source].push(...per[source]);
    }
    const same = isDeepStrictEqual(last.rollups, last.orders);
    equal &&= same;
    if (!same) log(`figures differ for ${shape.name}:\n${JSON.stringify(last.rollups)}\n${JSON.stringify(last.orders)}`);
    const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
    rows.push([shape.name, fmt(percentile(sorted(per.rollups), 50)), fmt(percentile(sorted(per.rollups), 95)), fmt(percentile(sorted(per.orders), 50)), fmt(percentile(sorted(per.orders), 95)), same ? "yes" : "NO"]);
  }
  const p95 = (a: number[]) => percentile([...a].sort((x, y) => x - y), 95);
  const out = [
    `dashboard on ${ORDERS.toLocaleString("en")} orders over ${DAYS} days (rollups built in ${fmt(buildSeconds)} s)`,
    "",
    table(["dashboard", "rollups p50 ms", "rollups p95 ms", "orders p50 ms", "orders p95 ms", "equal"], rows),
    "",
    `rollups p95 ${fmt(p95(timings.rollups))} ms (target ≤ ${TARGET_P95_MS}) · straight from orders p95 ${fmt(p95(timings.orders))} ms · speed-up ${fmt(p95(timings.orders) / p95(timings.rollups), 0)}×`,
    `rollups_p95_ms=${fmt(p95(timings.rollups))} orders_p95_ms=${fmt(p95(timings.orders))} equal=${equal}`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  const rollupP95 = p95(timings.rollups);
  const directP95 = p95(timings.orders);
  emitResult(
    "reports",
    [
      { what: `dashboard p95 from rollups vs straight from ${ORDERS.toLocaleString("en")} orders`, measured: rollupP95, unit: "ms", baseline: directP95, ratio: directP95 / rollupP95, target: `≤ ${TARGET_P95_MS} ms`, met: rollupP95 <= TARGET_P95_MS },
      { what: "dashboard figures equal on both paths (3 shapes)", measured: equal ? 1 : 0, unit: "bool", baseline: null, ratio: null, target: "= 1", met: equal },
    ],
    equal,
  );
  return equal ? 0 : 1;
}

runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
