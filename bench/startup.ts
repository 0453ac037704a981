/**
 * Cold start and idle memory (npm run bench:startup).
 *
 * Spawns `node dist/src/main.js` (production settings, SQLite in a temporary directory, jobs and the
 * outbox dispatcher on, as a deployed instance runs) and times spawn → first 200 from /readyz, twice per
 * round: the first start on an empty database (migrations, then the demo company) and a restart on that
 * database (the usual case: a deploy, a scale-out, a crash restart). The baseline in the same run is a
 * bare Koa process (bench/bare-koa.ts): spawn → first 200. After each restart and each baseline start, 20
 * warm requests, a second's rest, then the resident set size (VmRSS) is read from /proc. Also timed: the
 * service's SIGTERM → exit. Medians of BENCH_STARTS rounds; ratio = baseline / service (1.0 = as light).
 *
 *   BENCH_STARTS=5 npm run bench:startup       (BENCH_REDIS_URL: the service uses that Redis)
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { deleteRedisKeys, emitResult, fmt, freePort, log, median, positive, runWithCleanup, sleep, table } from "./support";

const STARTS = Math.trunc(positive("BENCH_STARTS", 5));
const SERVICE_MAIN = path.resolve(__dirname, "../src/main.js");
const BARE_KOA = path.resolve(__dirname, "bare-koa.js");
const WARM_REQUESTS = 20;
const READY_DEADLINE_MS = 60_000;
const TARGET_START_MS = 3000;
const TARGET_FIRST_START_MS = 5000;
const TARGET_RSS_MB = 150;

/** GET on 127.0.0.1; resolves with the status, rejects when nothing listens yet. */
function get(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function rssMb(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface Started {
  child: ChildProcess;
  port: number;
  ms: number;
  output: string[];
}

/** Spawns `script` and polls `probe` every 5 ms until it answers 200; the time is from just before the spawn. */
async function startTimed(script: string, env: NodeJS.ProcessEnv, probe: string): Promise<Started> {
  const port = await freePort();
  const output: string[] = [];
  const t0 = performance.now();
  const child = spawn(process.execPath, [script], { env: { ...env, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (b: Buffer) => output.push(...b.toString("utf8").split("\n").filter(Boolean).slice(0, 40));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  while (performance.now() - t0 < READY_DEADLINE_MS) {
    if (exited !== undefined) throw new Error(`${path.basename(script)} exited with ${exited}:\n${output.join("\n")}`);
    try {
      if ((await get(port, probe)) === 200) return { child, port, ms: performance.now() - t0, output };
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  child.kill("SIGKILL");
  throw new Error(`${path.basename(script)} did not answer ${probe} within ${READY_DEADLINE_MS / 1000} s:\n${output.join("\n")}`);
}

/** Spawn → exit of `node -e "require(module)"`: what loading the code costs, before any I/O of its own. */
async function requireMs(module: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["-e", `require(${JSON.stringify(module)})`], { stdio: ["ignore", "ignore", "pipe"] });
  const err: string[] = [];
  child.stderr?.on("data", (b: Buffer) => err.push(b.toString("utf8")));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`require(${module}) failed:\n${err.join("")}`);
  return performance.now() - t0;
}

/** SIGTERM and the time until the process has exited (SIGKILL after 15 s). */
async function stopTimed(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return 0;
  const t0 = performance.now();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
  return performance.now() - t0;
}

/** A few ordinary requests (the process is then as warm as one that has served), a rest, then its RSS. */
async function idleRss(s: Started, paths: string[]): Promise<number | null> {
  for (let i = 0; i < WARM_REQUESTS; i++) await get(s.port, paths[i % paths.length]);
  await sleep(1000);
  return rssMb(s.child.pid);
}

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  for (const f of [SERVICE_MAIN, BARE_KOA]) if (!fs.existsSync(f)) throw new Error(`${f} is missing; run npm run build first`);
  const running = new Set<ChildProcess>();
  onCleanup("stop what is still running", async () => {
    for (const c of running) await stopTimed(c);
  });
  const redisUrl = process.env.BENCH_REDIS_URL;
  const cachePrefix = `co_bench_start_${crypto.randomBytes(3).toString("hex")}:`;
  if (redisUrl) onCleanup(`delete redis keys ${cachePrefix}*`, () => deleteRedisKeys(redisUrl, cachePrefix));

  const samples = { loadKoa: [] as number[], loadApp: [] as number[], bare: [] as number[], first: [] as number[], restart: [] as number[], bareRss: [] as number[], rss: [] as number[], stop: [] as number[] };
  for (let round = 1; round <= STARTS; round++) {
    samples.loadKoa.push(await requireMs(require.resolve("koa")));
    samples.loadApp.push(await requireMs(path.resolve(__dirname, "../src/app.js")));
    const bare = await startTimed(BARE_KOA, { PATH: process.env.PATH }, "/");
    running.add(bare.child);
    samples.bare.push(bare.ms);
    const bareRss = await idleRss(bare, ["/"]);
    if (bareRss !== null) samples.bareRss.push(bareRss);
    await stopTimed(bare.child);
    running.delete(bare.child);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-bench-start-"));
    onCleanup(`remove ${dir}`, async () => fs.rmSync(dir, { recursive: true, force: true }));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        SESSION_SECRET: crypto.randomBytes(32).toString("hex"),
        HOST: "127.0.0.1",
        DATABASE_URL: `sqlite:${path.join(dir, "chatorder.sqlite")}`,
        SEED_DEMO_DATA: "true",
        LOG_LEVEL: "warn",
        ...(redisUrl ? { REDIS_URL: redisUrl, CACHE_KEY_PREFIX: cachePrefix } : {}),
      };
      const first = await startTimed(SERVICE_MAIN, env, "/readyz");
      running.add(first.child);
      samples.first.push(first.ms);
      await stopTimed(first.child);
      running.delete(first.child);

      const again = await startTimed(SERVICE_MAIN, env, "/readyz");
      running.add(again.child);
      samples.restart.push(again.ms);
      const rss = await idleRss(again, ["/healthz", "/readyz", "/m/login", "/api/v1/orders"]);
      if (rss !== null) samples.rss.push(rss);
      samples.stop.push(await stopTimed(again.child));
      running.delete(again.child);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    log(`round ${round}: bare ${fmt(bare.ms, 0)} ms / ${fmt(bareRss, 0)} MB; service first ${fmt(samples.first.at(-1)!, 0)} ms, restart ${fmt(samples.restart.at(-1)!, 0)} ms / ${fmt(samples.rss.at(-1) ?? null, 0)} MB`);
  }

  const med = {
    loadKoa: median(samples.loadKoa),
    loadApp: median(samples.loadApp),
    bare: median(samples.bare),
    first: median(samples.first),
    restart: median(samples.restart),
    bareRss: median(samples.bareRss),
    rss: median(samples.rss),
    stop: median(samples.stop),
  };
  const range = (a: number[]) => (a.length ? `${fmt(Math.min(...a), 0)}–${fmt(Math.max(...a), 0)}` : "-");
  const out = [
    "",
    `ChatOrder cold start and idle memory — ${STARTS} rounds, SQLite, production settings; node ${process.version}; load ${fmt(os.loadavg()[0])} on ${os.cpus().length} CPUs`,
    "",
    table(
      ["process", "median", "range", "baseline/this", "target"],
      [
        ["node -e require(koa): spawn → exit (ms)", fmt(med.loadKoa, 0), range(samples.loadKoa), "1.00", ""],
        ["node -e require(dist/src/app): spawn → exit, code loading only (ms)", fmt(med.loadApp, 0), range(samples.loadApp), fmt(med.loadKoa / med.loadApp, 2), ""],
        ["bare Koa: spawn → first 200 (ms)", fmt(med.bare, 0), range(samples.bare), "1.00", ""],
        ["ChatOrder first start: spawn → /readyz 200, migrations + demo data (ms)", fmt(med.first, 0), range(samples.first), fmt(med.bare / med.first, 2), `< ${TARGET_FIRST_START_MS}`],
        ["ChatOrder restart: spawn → /readyz 200 (ms)", fmt(med.restart, 0), range(samples.restart), fmt(med.bare / med.restart, 2), `< ${TARGET_START_MS}`],
        ["ChatOrder SIGTERM → exit (ms)", fmt(med.stop, 0), range(samples.stop), "", "< 10000"],
        [`bare Koa idle RSS after ${WARM_REQUESTS} requests (MB)`, fmt(med.bareRss, 1), range(samples.bareRss), "1.00", ""],
        [`ChatOrder idle RSS after ${WARM_REQUESTS} requests (MB)`, fmt(med.rss, 1), range(samples.rss), fmt(med.bareRss / med.rss, 2), `< ${TARGET_RSS_MB}`],
      ],
    ),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  emitResult("startup", [
    { what: "restart: spawn → /readyz 200 vs bare Koa spawn → listening", measured: med.restart, unit: "ms", baseline: med.bare, ratio: med.bare / med.restart, target: `< ${TARGET_START_MS} ms`, met: med.restart < TARGET_START_MS },
    { what: "first start (migrations + demo data) vs bare Koa", measured: med.first, unit: "ms", baseline: med.bare, ratio: med.bare / med.first, target: `< ${TARGET_FIRST_START_MS} ms`, met: med.first < TARGET_FIRST_START_MS },
    { what: "idle RSS after 20 requests vs bare Koa", measured: med.rss, unit: "MB", baseline: med.bareRss, ratio: med.bareRss / med.rss, target: `< ${TARGET_RSS_MB} MB`, met: med.rss < TARGET_RSS_MB },
  ]);
  return 0;
}

runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
