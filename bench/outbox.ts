/**
 * Outbox throughput vs the configured platform rate limit (npm run bench:outbox).
 *
 * The real services queue the notices: BENCH_NOTICES orders placed by as many sales reps as it takes to
 * keep each rep within WeCom's per-member burst (5 each by default), each auto-approved, so each writes one
 * "order approved" chat.text row for its rep. Then the real dispatcher and the real WeCom channel deliver
 * them — token from gettoken, each message to message/send — to a local fake WeCom API (WECOM_API_BASE),
 * which records when each call arrived and answers like WeCom. The rate the platform saw is compared with
 * the rate the service is configured to keep (WECOM_RATE_PER_SEC): it should use the allowance (≥ 0.9 of
 * it) and never exceed it by more than the bucket's burst allows. Each notice must arrive once (its order
 * number seen once at the platform): sent twice = 0, lost = 0.
 *
 *   1. saturation: every notice queued first (dispatcher stopped), then the dispatcher is started; calls/s
 *      over the drain, the most calls ever above the rate line (token-bucket check), notices/s.
 *   2. steady: orders placed at half the rate for BENCH_STEADY_SECONDS with the dispatcher running;
 *      p99 queue-to-delivery latency (outbox row written → platform answered, from the row's own times).
 *   3. the same saturation run on the simulator channel (SIMULATOR_RATE_PER_SEC), whose "platform" is the
 *      sim_messages table.
 *
 * One process: the fake WeCom answers in microseconds and the work is paced by the rate limit, not the CPU.
 * SQLite and the memory cache unless BENCH_DATABASE_URL (an empty database) / BENCH_REDIS_URL are set;
 * OUTBOX_* and *_RATE_PER_SEC settings from the environment apply as they would to the service.
 *
 *   BENCH_NOTICES=2000 BENCH_PER_REP=5 BENCH_STEADY_SECONDS=20 WECOM_RATE_PER_SEC=40 npm run bench:outbox
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Op } from "sequelize";
import { createApp, type App } from "../src/app";
import { loadConfig } from "../src/config";
import { defineSimMessage } from "../src/channels/simulator/messages";
import { SYSTEM_ACTOR, type Actor } from "../src/domain/roles";
import { deleteRedisKeys, emitResult, fmt, log, percentile, positive, runWithCleanup, sleep, table, type BenchFigure } from "./support";

const NOTICES = Math.trunc(positive("BENCH_NOTICES", 2000));
// WeCom lets a member receive a burst of 10 (src/channels/wecom/pacing.ts): 5 each keeps the member cap out of it.
const PER_REP = Math.trunc(positive("BENCH_PER_REP", 5));
const STEADY_MS = positive("BENCH_STEADY_SECONDS", 20) * 1000;
const STEADY_SHARE = 0.5;
const DRAIN_DEADLINE_MS = 10 * 60_000;
const TARGET_SHARE = 0.9;
const TARGET_P99_MS = 1000;
const SKU = "BENCH-NOTICE";
// Members are new in every run, so a reused BENCH_DATABASE_URL never mixes runs.
const RUN_ID = crypto.randomBytes(3).toString("hex");
const CUSTOMER = "BENCH-NOTICE-CUST";

/** Matches an order number (SO-20261130-0001) inside a notice. */
const ORDER_NO = /[A-Z]+-\d{8}-\d+/g;

interface Arrival {
  at: number; // ms since the epoch
  text: string;
}

/** The fake WeCom API: gettoken and message/send, answered as WeCom does (wecom.md 3.1, 4). */
async function startFakeWecom() {
  const arrivals: Arrival[] = [];
  let tokens = 0;
  const other: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = Date.now();
      const url = new URL(req.url ?? "/", "http://fake");
      res.setHeader("Content-Type", "application/json");
      if (url.pathname === "/cgi-bin/gettoken") {
        tokens += 1;
        res.end(JSON.stringify({ errcode: 0, errmsg: "ok", access_token: "BENCH-ACCESS-TOKEN", expires_in: 7200 }));
        return;
      }
      if (url.pathname === "/cgi-bin/message/send" && url.searchParams.get("access_token") === "BENCH-ACCESS-TOKEN") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { text?: { content?: string }; template_card?: unknown };
        arrivals.push({ at, text: body.text?.content ?? JSON.stringify(body.template_card ?? body) });
        res.end(JSON.stringify({ errcode: 0, errmsg: "ok", msgid: `bench-${arrivals.length}` }));
        return;
      }
      other.push(`${req.method} ${url.pathname}`);
      res.end(JSON.stringify({ errcode: 0, errmsg: "ok" }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    other,
    tokenCalls: () => tokens,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A WeCom app of our own making; nothing leaves the machine. */
function wecomEnv(apiBase: string): Record<string, string> {
  const alnum = (n: number) => crypto.randomBytes(n * 2).toString("base64").replace(/[^A-Za-z0-9]/g, "").padEnd(n, "A").slice(0, n);
  return {
    WECOM_CORP_ID: `ww${crypto.randomBytes(8).toString("hex")}`,
    WECOM_AGENT_ID: "1000002",
    WECOM_SECRET: alnum(43),
    WECOM_TOKEN: alnum(32),
    WECOM_AES_KEY: alnum(43),
    WECOM_API_BASE: apiBase,
  };
}

/** The outbox settings and rates of the environment, as the service would read them. */
function passedThrough(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^OUTBOX_|^(WECOM|SIMULATOR)_RATE_PER_SEC$/.test(e[0]) && e[1] !== undefined));
}

/**
 * The most calls ever above the rate line: max over windows [i, j] of (calls in it) − rate·(t_j − t_i).
 * A token bucket of `burst` keeps it ≤ burst (+1 for the call that opens the window).
 */
function excessOverRate(times: number[], ratePerSec: number): number {
  let best = 0;
  let bestStart = -Infinity; // max over i of (rate·t_i/1000 − i)
  times.forEach((t, j) => {
    bestStart = Math.max(bestStart, (ratePerSec * t) / 1000 - j);
    best = Math.max(best, j + 1 - (ratePerSec * t) / 1000 + bestStart);
  });
  return best;
}

interface Drain {
  channel: string;
  ratePerSec: number;
  notices: number;
  calls: number;
  seconds: number;
  callsPerSec: number;
  noticesPerSec: number;
  ceiling: number;
  excess: number;
  twice: number;
  lost: number;
  dead: number;
  latency: number[]; // sorted, ms
  /** CPU this process spent per delivered message, and its share of one core over the drain. */
  cpuMsPerCall: number;
  cpuShare: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  const fake = await startFakeWecom();
  onCleanup("stop the fake WeCom", () => fake.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-bench-outbox-"));
  onCleanup("remove the temporary directory", async () => fs.rmSync(dir, { recursive: true, force: true }));
  const redisUrl = process.env.BENCH_REDIS_URL;
  const cachePrefix = `co_bench_ob_${crypto.randomBytes(3).toString("hex")}:`;
  if (redisUrl) onCleanup(`delete redis keys ${cachePrefix}*`, () => deleteRedisKeys(redisUrl, cachePrefix));

  const app: App = createApp(
    loadConfig({
      NODE_ENV: "development", // the simulator channel stays on next to WeCom
      LOG_LEVEL: "warn",
      SEED_DEMO_DATA: "false",
      JOBS_ENABLED: "false",
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, "bench.sqlite")}`,
      ...(redisUrl ? { REDIS_URL: redisUrl, CACHE_KEY_PREFIX: cachePrefix } : {}),
      ...wecomEnv(fake.base),
      ...passedThrough(),
    }),
  );
  onCleanup("close the app", () => app.close());
  await app.prepare();
  const m = app.db.models;
  const wecomRate = app.config.wecom!.ratePerSec;
  const simRate = app.config.simulator.ratePerSec;
  log(`rates: wecom ${wecomRate}/s, simulator ${simRate}/s; outbox batch ${app.config.outbox.batchSize}, poll ${app.config.outbox.pollMs} ms`);

  await app.services.upsertProducts([{ sku: SKU, name: "压测通知商品", unit: "件", category: "bench", listPriceFen: 1000 }], SYSTEM_ACTOR);
  await app.services.setStock({ sku: SKU, onHand: 100_000_000, reason: "bench" }, SYSTEM_ACTOR);
  await app.services.upsertCustomers([{ code: CUSTOMER, name: "压测客户", creditLimitFen: null }], SYSTEM_ACTOR);

  async function makeReps(platform: "wecom" | "simulator", n: number, tag: string): Promise<Actor[]> {
    const rows = await m.User.bulkCreate(
      Array.from({ length: n }, (_, i) => ({
        platform,
        platformUserId: `bench-${RUN_ID}-${tag}-${String(i).padStart(4, "0")}`,
        name: `压测销售${i}`,
        mobile: null,
        roles: ["sales" as const],
        managerId: null,
        department: null,
      })),
    );
    return rows.map((u) => ({ kind: "user", userId: u.id, roles: u.roles, label: `user:${u.id}` }));
  }

  const orderNos = new Set<string>(); // the orders placed in the current run
  let autoApproved = 0;
  async function place(rep: Actor): Promise<void> {
    const view = await app.services.placeOrder({ customerCode: CUSTOMER, lines: [{ sku: SKU, qty: 1 }], submit: true, source: "api" }, rep);
    if (view.status === "approved") autoApproved += 1;
    orderNos.add(view.orderNo);
  }

  /** Queues `n` notices (round robin over the reps, 16 placements in flight) with the dispatcher stopped. */
  async function queueAll(reps: Actor[], n: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) await place(reps[next++ % reps.length]);
      }),
    );
  }

  const textRows = async (sinceId: number) =>
    m.Outbox.findAll({ where: { id: { [Op.gt]: sinceId }, topic: "chat.text" }, order: [["id", "ASC"]] });
  const lastOutboxId = async () => ((await m.Outbox.max("id")) as number | null) ?? 0;

  async function waitDrained(sinceId: number, expected: number): Promise<void> {
    const until = Date.now() + DRAIN_DEADLINE_MS;
    while (Date.now() < until) {
      const open = await m.Outbox.count({ where: { id: { [Op.gt]: sinceId }, status: { [Op.notIn]: ["sent", "dead"] } } });
      const all = await m.Outbox.count({ where: { id: { [Op.gt]: sinceId } } });
      if (open === 0 && all >= expected) return;
      await sleep(50);
    }
    throw new Error(`the outbox did not drain within ${DRAIN_DEADLINE_MS / 1000} s`);
  }

  /** Counts each queued order number at the platform: once is right, twice is a duplicate, never is lost. */
  function tally(arrivals: Arrival[], expected: Set<string>) {
    const seen = new Map<string, number>();
    for (const a of arrivals) for (const no of a.text.match(ORDER_NO) ?? []) if (expected.has(no)) seen.set(no, (seen.get(no) ?? 0) + 1);
    return { twice: [...seen.values()].filter((n) => n > 1).length, lost: [...expected].filter((no) => !seen.has(no)).length };
  }

  async function saturation(channel: "wecom" | "simulator", ratePerSec: number, arrivalsSince: () => Promise<Arrival[]>): Promise<Drain> {
    const reps = await makeReps(channel, Math.ceil(NOTICES / PER_REP), `${channel}-sat`);
    const since = await lastOutboxId();
    orderNos.clear();
    log(`${channel}: queueing ${NOTICES} notices for ${reps.length} reps through placeOrder`);
    await queueAll(reps, NOTICES);
    const queued = await textRows(since);
    if (queued.length !== NOTICES) throw new Error(`expected ${NOTICES} notices queued, found ${queued.length}`);
    // Let the bucket fill as it would after a quiet spell, so every run starts alike.
    await sleep(1100);
    const t0 = Date.now();
    const cpu0 = cpuMs();
    app.dispatcher.start();
    await waitDrained(since, NOTICES);
    await app.dispatcher.stop();
    const cpu = cpuMs() - cpu0;
    const rows = await textRows(since);
    const arrivals = (await arrivalsSince()).filter((a) => a.at >= t0);
    const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
    const seconds = (times[times.length - 1] - t0) / 1000;
    const { twice, lost } = tally(arrivals, new Set(orderNos));
    const latency = rows.filter((r) => r.sentAt).map((r) => r.sentAt!.getTime() - r.createdAt.getTime()).sort((a, b) => a - b);
    const drain: Drain = {
      channel,
      ratePerSec,
      notices: NOTICES,
      calls: arrivals.length,
      seconds,
      callsPerSec: arrivals.length / seconds,
      noticesPerSec: NOTICES / seconds,
      // A bucket of `burst` = rate tokens, full at the start: at most burst + rate·T calls in T seconds.
      ceiling: (ratePerSec + Math.max(1, ratePerSec) / seconds) / ratePerSec,
      excess: excessOverRate(times, ratePerSec),
      twice,
      lost,
      dead: rows.filter((r) => r.status === "dead").length,
      latency,
      cpuMsPerCall: cpu / Math.max(1, arrivals.length),
      cpuShare: cpu / (seconds * 1000),
    };
    log(`${channel}: ${drain.calls} calls in ${fmt(seconds)} s = ${fmt(drain.callsPerSec)}/s (rate ${ratePerSec}/s); twice ${twice}, lost ${lost}`);
    return drain;
  }

  // 1. WeCom, saturation.
  const fakeSince = () => Promise.resolve([...fake.arrivals]);
  const wecom = await saturation("wecom", wecomRate, fakeSince);

  // 2. WeCom, steady load at half the rate: what a notice waits when nothing is queued ahead of it.
  const steadyRate = wecomRate * STEADY_SHARE;
  const steadyReps = await makeReps("wecom", Math.ceil((steadyRate * STEADY_MS) / 1000 / PER_REP) + 1, "wecom-steady");
  const steadySince = await lastOutboxId();
  orderNos.clear();
  log(`wecom: steady ${steadyRate}/s for ${STEADY_MS / 1000} s with the dispatcher running`);
  app.dispatcher.start();
  const steadyStart = Date.now();
  const steadyCpu0 = cpuMs();
  const placing: Array<Promise<void>> = [];
  for (let i = 0; Date.now() - steadyStart < STEADY_MS; i++) {
    const due = steadyStart + (i * 1000) / steadyRate;
    if (due > Date.now()) await sleep(due - Date.now());
    placing.push(place(steadyReps[i % steadyReps.length]));
  }
  await Promise.all(placing);
  const steadyCount = orderNos.size;
  await waitDrained(steadySince, steadyCount);
  await app.dispatcher.stop();
  const steadyCpuShare = (cpuMs() - steadyCpu0) / (Date.now() - steadyStart);
  const steadyRows = await textRows(steadySince);
  const steadyLatency = steadyRows.filter((r) => r.sentAt).map((r) => r.sentAt!.getTime() - r.createdAt.getTime()).sort((a, b) => a - b);
  const steadyCheck = tally(fake.arrivals.filter((a) => a.at >= steadyStart), new Set(orderNos));
  const steadyP99 = percentile(steadyLatency, 99);
  log(`wecom steady: ${steadyCount} notices, p50 ${fmt(percentile(steadyLatency, 50))} ms, p99 ${fmt(steadyP99)} ms`);

  // 3. The simulator channel, saturation; its platform side is the sim_messages table.
  const SimMessage = defineSimMessage(app.db.sequelize);
  const simStartId = ((await SimMessage.max("id")) as number | null) ?? 0;
  const simArrivals = async (): Promise<Arrival[]> =>
    (await SimMessage.findAll({ where: { id: { [Op.gt]: simStartId }, dedupeKey: { [Op.ne]: null } } })).map((r) => ({ at: r.createdAt.getTime(), text: r.text ?? "" }));
  const sim = await saturation("simulator", simRate, simArrivals);

  const placed = NOTICES * 2 + steadyCount;
  const errors = wecom.twice + wecom.lost + wecom.dead + sim.twice + sim.lost + sim.dead + steadyCheck.twice + steadyCheck.lost;

  // ── the report ──
  const tolerance = (rate: number) => Math.max(1, rate) + 1 + rate * 0.05; // burst, the opening call, 50 ms of timer jitter
  const row = (d: Drain) => [
    d.channel,
    String(d.notices),
    String(d.calls),
    fmt(d.seconds),
    fmt(d.ratePerSec, 0),
    fmt(d.callsPerSec),
    fmt(d.callsPerSec / d.ratePerSec, 3),
    fmt(d.ceiling, 3),
    fmt(d.excess, 1),
    fmt(d.noticesPerSec),
    String(d.twice),
    String(d.lost),
    String(d.dead),
    fmt(percentile(d.latency, 50), 0),
    fmt(percentile(d.latency, 99), 0),
    fmt(d.cpuMsPerCall, 1),
    `${fmt(d.cpuShare * 100, 0)}%`,
  ];
  const out = [
    "",
    `ChatOrder outbox bench — ${app.db.dialect}, cache ${app.cache.kind}; ${NOTICES} notices per run (${PER_REP} per rep), batch ${app.config.outbox.batchSize}, poll ${app.config.outbox.pollMs} ms`,
    "",
    table(
      ["saturation", "notices", "calls", "drain s", "rate/s", "calls/s", "ratio", "ceiling", "most above rate", "notices/s", "sent twice", "lost", "dead", "queue→sent p50 ms", "p99 ms", "CPU ms/msg", "CPU"],
      [row(wecom), row(sim)],
    ),
    "ratio = calls/s ÷ configured rate; ceiling = what a full bucket (burst = rate) allows over the drain; " +
      "most above rate = most calls in any window beyond rate × its length (a token bucket keeps it ≤ burst); " +
      "queue→sent during saturation is mostly waiting behind the backlog; CPU = this process (services, dispatcher, " +
      `fake WeCom) per delivered message and its share of one core (load ${fmt(os.loadavg()[0])} on ${os.cpus().length} CPUs)`,
    "",
    `steady load, WeCom at ${steadyRate}/s (half the rate) for ${STEADY_MS / 1000} s: ${steadyCount} notices, ` +
      `queue→sent p50 ${fmt(percentile(steadyLatency, 50), 0)} / p95 ${fmt(percentile(steadyLatency, 95), 0)} / p99 ${fmt(steadyP99, 0)} ms ` +
      `(target ≤ ${TARGET_P99_MS} ms; idle poll every ${app.config.outbox.pollMs} ms, this process's own rows wake the dispatcher at once), sent twice ${steadyCheck.twice}, lost ${steadyCheck.lost}; ` +
      `this process used ${fmt(steadyCpuShare * 100, 0)}% of a core placing and delivering`,
    `orders placed ${placed}, auto-approved ${autoApproved}; gettoken calls ${fake.tokenCalls()}; other WeCom calls ${fake.other.length}`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);

  const figures = (d: Drain, label: string): BenchFigure[] => {
    const ratio = d.callsPerSec / d.ratePerSec;
    return [
      {
        what: `${label} deliveries/s vs configured rate (${NOTICES} notices, ≤ ceiling ${fmt(d.ceiling, 3)})`,
        measured: d.callsPerSec,
        unit: "msg/s",
        baseline: d.ratePerSec,
        ratio,
        target: `ratio ≥ ${TARGET_SHARE}, ≤ ceiling`,
        met: ratio >= TARGET_SHARE && ratio <= d.ceiling + 0.01 && d.excess <= tolerance(d.ratePerSec),
      },
      { what: `${label} notices sent twice + lost + dead`, measured: d.twice + d.lost + d.dead, unit: "msgs", baseline: null, ratio: null, target: "= 0", met: d.twice + d.lost + d.dead === 0 },
    ];
  };
  emitResult(
    "outbox",
    [
      ...figures(wecom, "WeCom"),
      { what: `WeCom queue→delivery p99 at half the rate`, measured: steadyP99, unit: "ms", baseline: null, ratio: null, target: `≤ ${TARGET_P99_MS} ms`, met: steadyP99 <= TARGET_P99_MS },
      ...figures(sim, "simulator"),
    ],
    errors === 0,
  );
  return errors === 0 ? 0 : 1;
}

runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
