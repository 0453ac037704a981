/**
 * Mini-app page render bench (npm run bench:miniapp).
 *
 * The demo company plus BENCH_ORDERS orders in every state, then each mini-app page requested
 * BENCH_REQUESTS times over HTTP as the person who uses it (session cookie from /dev/login), one at a
 * time. Baseline in the same run: a bare Koa handler rendering the same template with static data (the
 * same order, captured once), so the ratio is what sessions, role checks and the database cost.
 * Target: every page p95 < 50 ms. SQLite + memory cache unless BENCH_DATABASE_URL is set.
 *
 *   BENCH_ORDERS=300 BENCH_REQUESTS=200 npm run bench:miniapp
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import Koa from "koa";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { SYSTEM_ACTOR, type Actor } from "../src/domain/roles";
import { loadAssets } from "../src/http/assets";
import { createRender } from "../src/miniapp/render";
import { projectPath } from "../src/paths";
import { deleteRedisKeys, emitResult, fmt, log, percentile, positive, runWithCleanup, table } from "./support";

const ORDERS = Math.trunc(positive("BENCH_ORDERS", 300));
const REQUESTS = Math.trunc(positive("BENCH_REQUESTS", 200));
const TARGET_MS = 50;

async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function timeGets(url: string, cookie: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS + 10; i++) {
    const start = performance.now();
    const res = await fetch(url, { headers: { cookie }, redirect: "manual" });
    await res.text();
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
    if (i >= 10) times.push(performance.now() - start); // the first few warm caches and the JIT
  }
  return times.sort((a, b) => a - b);
}

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-bench-miniapp-"));
  onCleanup("remove the temporary directory", async () => fs.rmSync(dir, { recursive: true, force: true }));
  const redisUrl = process.env.BENCH_REDIS_URL;
  const cachePrefix = `co_bench_m_${crypto.randomBytes(3).toString("hex")}:`;
  if (redisUrl) onCleanup(`delete redis keys ${cachePrefix}*`, () => deleteRedisKeys(redisUrl, cachePrefix));
  const app = createApp(
    loadConfig({
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      SEED_DEMO_DATA: "true",
      OUTBOX_ENABLED: "false",
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, "bench.sqlite")}`,
      ...(redisUrl ? { REDIS_URL: redisUrl, CACHE_KEY_PREFIX: cachePrefix } : {}),
    }),
  );
  onCleanup("close the app", () => app.close());
  await app.prepare();
  const m = app.db.models;
  const users = Object.fromEntries((await m.User.findAll({ where: { platform: "simulator" } })).map((u) => [u.platformUserId, u]));
  const actor = (uid: string): Actor => ({ kind: "user", userId: users[uid].id, roles: users[uid].roles, label: `user:${users[uid].id}` });
  const customers = await m.Customer.findAll();
  const products = await m.Product.findAll();
  for (const p of products) await app.services.setStock({ sku: p.sku, onHand: 1_000_000, reason: "bench" }, SYSTEM_ACTOR);
  log(`placing ${ORDERS} orders`);
  let detailId = 0;
  let pickId = 0;
  for (let i = 0; i < ORDERS; i++) {
    const rep = i % 2 ? "sales" : "sales2";
    const lines = [0, 1, 2].map((k) => ({ sku: products[(i + k * 7) % products.length].sku, qty: 1 + (i % 3), unitPriceFen: i % 4 === 0 ? products[(i + k * 7) % products.length].floorPriceFen : undefined }));
    const view = await app.services.placeOrder({ customerCode: customers[i % customers.length].code, lines, submit: i % 5 !== 0, source: "miniapp" }, actor(rep));
    if (view.status === "pending_approval" && i % 3 === 0) await app.services.decideApproval({ orderId: view.id, decision: "approve", comment: "ok" }, actor("manager"));
    if (view.status === "approved" && i % 2 === 0) await app.services.startPicking({ orderId: view.id }, actor("warehouse"));
    if (rep === "sales" && view.status !== "draft") detailId = view.id;
    if (view.status === "approved") pickId = view.id;
  }
  const appServer = await serve(app.http.callback());
  onCleanup("stop the app's HTTP server", () => appServer.close());
  const cookieOf = async (uid: string) => {
    const res = await fetch(`${appServer.base}/dev/login?u=${uid}&next=/m`, { redirect: "manual" });
    return (res.headers.get("set-cookie") ?? "").split(";")[0];
  };
  const pages: Array<[string, string, string]> = [
    ["home (sales)", "sales", "/m"],
    ["my orders", "sales", "/m/orders"],
    ["team orders", "manager", "/m/orders?scope=team"],
    ["order detail", "sales", `/m/orders/${detailId}`],
    ["new order form", "sales", "/m/orders/new"],
    ["approvals inbox", "manager", "/m/approvals"],
    ["warehouse queue", "warehouse", "/m/warehouse"],
    ["pick screen", "warehouse", `/m/warehouse/orders/${pickId}`],
    ["dashboard (by day)", "manager", "/m/dashboard"],
    ["dashboard (by month)", "manager", "/m/dashboard?period=month"],
    ["admin: users", "admin", "/m/admin/users"],
    ["admin: approval rules", "admin", "/m/admin/rules"],
  ];
  const rows: string[][] = [];
  const results = new Map<string, number[]>();
  for (const [name, uid, url] of pages) {
    const times = await timeGets(`${appServer.base}${url}`, await cookieOf(uid));
    results.set(name, times);
    rows.push([name, fmt(percentile(times, 50), 2), fmt(percentile(times, 95), 2), percentile(times, 95) < TARGET_MS ? "ok" : "SLOW"]);
  }

  // Baseline: the same detail template and data, rendered by a bare Koa handler.
  const view = await app.services.loadOrderView(detailId);
  const viewer = await app.services.loadViewer(users.sales.id);
  const render = createRender(projectPath("miniapp/views"), loadAssets(projectPath("dist/assets")), app.config.session.secret);
  const bare = new Koa();
  bare.use(async (ctx) => {
    ctx.state.viewer = viewer;
    ctx.state.locale = "zh-CN";
    render(ctx, "m/order-detail.njk", { title: view.orderNo, order: view, actions: { edit: false, submit: false, cancel: true, decideStepId: null, fulfil: false }, timeline: [] });
  });
  const bareServer = await serve(bare.callback());
  onCleanup("stop the baseline server", () => bareServer.close());
  const base = await timeGets(`${bareServer.base}/`, "");
  rows.push(["baseline: bare Koa, detail template, static data", fmt(percentile(base, 50), 2), fmt(percentile(base, 95), 2), ""]);
  const detail = results.get("order detail")!;
  console.log(table(["page", "p50 ms", "p95 ms", `< ${TARGET_MS} ms`], rows));
  console.log(`\norder detail p95 / baseline p95 = ${fmt(percentile(detail, 95) / percentile(base, 95), 2)}x  (${ORDERS} orders, ${REQUESTS} requests per page)`);
  const worst = Math.max(...[...results.values()].map((t) => percentile(t, 95)));
  console.log(`worst page p95 ${fmt(worst, 2)} ms: ${worst < TARGET_MS ? "within" : "OVER"} the ${TARGET_MS} ms target`);
  const detailP95 = percentile(detail, 95);
  const baseP95 = percentile(base, 95);
  emitResult("miniapp", [
    { what: "order detail page p95 vs bare Koa render of the same template", measured: detailP95, unit: "ms", baseline: baseP95, ratio: baseP95 / detailP95, target: `< ${TARGET_MS} ms`, met: detailP95 < TARGET_MS },
    { what: `worst of ${pages.length} mini-app pages, p95`, measured: worst, unit: "ms", baseline: baseP95, ratio: baseP95 / worst, target: `< ${TARGET_MS} ms`, met: worst < TARGET_MS },
  ]);
  return 0;
}

runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
