/**
 * WeCom callback bench (npm run bench:wecom).
 *
 * Encrypted text-message callbacks from 64 keep-alive connections against the real /wecom/callback route
 * (verify the signature, decrypt, parse, de-duplicate, persist, answer `success`), versus a bare Koa handler
 * that reads the body and answers `success`, in the same run. Both run as child processes; the service is
 * `node dist/src/main.js` on a fresh MariaDB database and Redis key prefix, with a generated WeCom app
 * (random 43-character EncodingAESKey) and OUTBOX_ENABLED=false, so the bot's replies stay outbox rows and
 * nothing is sent anywhere (WECOM_API_BASE points at a closed local port besides). Every callback is a
 * distinct message (unique MsgId) from one of 64 known members, encrypted and signed before its phase
 * starts, so the load generator spends no crypto during a measured phase. Phases alternate
 * baseline/service BENCH_ROUNDS times (2 by default) and the medians are compared; after each service
 * phase the bench waits until the bot has handled every persisted event, so no backlog spills into the
 * next phase.
 *
 * Figures are reported, not asserted: the exit code is non-zero only for errors (an answer other than
 * 200 `success`, a request that got no answer, or a callback answered 200 but not persisted).
 *
 *   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_CONNECTIONS=64 BENCH_ROUNDS=2 BENCH_TEXT=帮助 npm run bench:wecom
 *   BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306  BENCH_REDIS_URL=redis://127.0.0.1:6379
 *   BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   extra node flags for the service process
 *   BENCH_SQLITE=1   the service on a fresh SQLite file and the in-memory cache instead of MariaDB + Redis
 *                    (db CPU and statements per event are then not measured: SQLite runs inside the service)
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { encrypt, getSignature } from "@wecom/crypto";
import Koa from "koa";
import mysql, { type Pool, type RowDataPacket } from "mysql2/promise";
import sqlite3 from "sqlite3";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { cpuSeconds, emitResult, mergeCounts, runWithCleanup, deleteRedisKeys, findMysqldPid, fmt, freePort, log, median, message, percentile, positive, sleep, table } from "./support";

// ── settings ────────────────────────────────────────────────────────────────────────────────────────


const MEASURE_MS = positive("BENCH_SECONDS", 10) * 1000;
const WARMUP_MS = positive("BENCH_WARMUP_SECONDS", 2) * 1000;
const CONNECTIONS = Math.max(1, Math.trunc(positive("BENCH_CONNECTIONS", 64)));
const TEXT = process.env.BENCH_TEXT ?? "帮助";
const MYSQL_URL = (process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306").replace(/\/+$/, "");
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
// A B A B …: more rounds make the medians steadier on a machine whose speed swings within minutes.
const ROUNDS = Math.max(1, Math.trunc(positive("BENCH_ROUNDS", 2)));
const CALIBRATE_MS = 3_000;
const CALIBRATION_POOL = 20_000;
const DUPLICATES = 256;
const WITHIN_MS = 1_000; // what we aim for; WeCom gives up (and re-sends) after 5 s (wecom.md 2.3)
const WECOM_LIMIT_MS = 5_000;
const BACKLOG_DEADLINE_MS = 180_000;

const RUN_ID = crypto.randomBytes(4).toString("hex");
const DB_NAME = `co_bench_wecom_${RUN_ID}`;
const SQLITE = process.env.BENCH_SQLITE === "1";
const SQLITE_DIR = SQLITE ? fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-bench-wecom-")) : "";
const DATABASE_URL = SQLITE ? `sqlite:${path.join(SQLITE_DIR, "bench.sqlite")}` : `${MYSQL_URL}/${DB_NAME}`;
const CACHE_PREFIX = `co_bench_wecom_${RUN_ID}:`;
const CALLBACK_PATH = "/wecom/callback";
const SERVICE_MAIN = path.resolve(__dirname, "../src/main.js");
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
const BASELINE_FLAG = "--baseline-server";

// ── small helpers ───────────────────────────────────────────────────────────────────────────────────






function benchCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}


const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** `n` random letters and digits (rejection sampling, so every character is equally likely). */
function randomAlnum(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const b of crypto.randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += ALNUM[b % 62];
    }
  }
  return out;
}

// ── the generated WeCom app and its callbacks ───────────────────────────────────────────────────────

interface WecomApp {
  corpId: string;
  agentId: number;
  secret: string;
  token: string;
  aesKey: string;
}

function generateApp(): WecomApp {
  return {
    corpId: `ww${crypto.randomBytes(8).toString("hex")}`,
    agentId: 1_000_002,
    secret: randomAlnum(43),
    token: randomAlnum(32), // ≤ 32 letters and digits
    aesKey: randomAlnum(43), // EncodingAESKey: exactly 43 letters and digits (wecom.md conventions)
  };
}

/** One callback as it goes on the wire: the signed query and the encrypted envelope (wecom.md 1.5). */
interface Callback {
  path: string;
  body: Buffer;
}

const memberId = (i: number) => `bench-${String(i).padStart(3, "0")}`;

/**
 * Encrypts and signs text messages ahead of their phase. MsgIds are 64-bit decimal strings (wecom.md 2.1)
 * unique across the run; senders rotate over the `members` known members.
 */
class CallbackFactory {
  private seq = 0n;
  private readonly base = 7_000_000_000_000_000_000n + BigInt(`0x${crypto.randomBytes(5).toString("hex")}`) * 1_000_000n;
  readonly all: Callback[] = [];

  constructor(
    readonly app: WecomApp,
    readonly members: number,
  ) {}

  make(n: number): Callback[] {
    const out: Callback[] = [];
    const timestamp = String(Math.floor(Date.now() / 1000));
    for (let i = 0; i < n; i++) {
      const seq = this.seq++;
      const from = memberId(Number(seq % BigInt(this.members)));
      const inner =
        `<xml><ToUserName><![CDATA[${this.app.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName>` +
        `<CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${TEXT}]]></Content>` +
        `<MsgId>${this.base + seq}</MsgId><AgentID>${this.app.agentId}</AgentID></xml>`;
      const nonce = String(crypto.randomInt(1e9));
      const enc = encrypt(this.app.aesKey, inner, this.app.corpId);
      const sig = getSignature(this.app.token, timestamp, nonce, enc);
      const query = new URLSearchParams({ msg_signature: sig, timestamp, nonce }).toString();
      const body = Buffer.from(
        `<xml><ToUserName><![CDATA[${this.app.corpId}]]></ToUserName><AgentID><![CDATA[${this.app.agentId}]]></AgentID>` +
          `<Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
      );
      out.push({ path: `${CALLBACK_PATH}?${query}`, body });
    }
    for (const cb of out) this.all.push(cb); // not push(...out): a phase can prepare more callbacks than a call takes arguments
    return out;
  }
}

// ── HTTP client ─────────────────────────────────────────────────────────────────────────────────────

interface Answer {
  status: number;
  body: string;
}

class Client {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  constructor(readonly port: number) {}

  request(method: string, urlPath: string, body?: Buffer): Promise<Answer> {
    const headers: http.OutgoingHttpHeaders = body ? { "content-type": "text/xml", "content-length": body.length } : {};
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: this.port, method, path: urlPath, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath.split("?")[0]} timed out after 30 s`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  post(cb: Callback): Promise<Answer> {
    return this.request("POST", cb.path, cb.body);
  }

  close() {
    this.agent.destroy();
  }
}

/** null when the answer is what WeCom expects of an accepted callback; else what was wrong with it. */
function problemWith(a: Answer): string | null {
  if (a.status !== 200) return `HTTP ${a.status} ${a.body.slice(0, 120)}`;
  if (a.body !== "success") return `HTTP 200 with body ${JSON.stringify(a.body.slice(0, 60))}`;
  return null;
}

// ── child processes ─────────────────────────────────────────────────────────────────────────────────

class ChildServer {
  private output: string[] = [];
  private forwarded = 0;
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > 40) this.output.shift();
        if (this.forwarded < 20) process.stderr.write(`[${name}] ${line}\n`);
        else if (this.forwarded === 20) process.stderr.write(`[${name}] … further output suppressed\n`);
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

  static start(name: string, args: string[], env: NodeJS.ProcessEnv): ChildServer {
    return new ChildServer(name, spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] }));
  }

  get pid() {
    return this.child.pid;
  }

  get linesLogged() {
    return this.forwarded;
  }

  async waitReady(client: Client, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited with code ${this.exitCode}:\n${this.output.join("\n")}`);
      try {
        if ((await client.request("GET", "/readyz")).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs / 1000} s:\n${this.output.join("\n")}`);
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

/** The baseline: Koa with one handler that reads the body and answers `success`, nothing else. */
function runBaselineServer(): void {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method === "GET" && ctx.path === "/readyz") {
      ctx.body = { status: "ok" };
      return;
    }
    for await (const chunk of ctx.req) void chunk; // read it all, as any real handler must
    ctx.type = "text/plain";
    ctx.body = "success";
  });
  const server = app.listen(Number(process.env.PORT), "127.0.0.1");
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

// ── measurement ─────────────────────────────────────────────────────────────────────────────────────

interface PhaseResult {
  label: string;
  kind: "baseline" | "service" | "calibration";
  /** Answered 200 `success` inside the measured window. */
  ok: number;
  /** Every callback answered 200 `success`, warm-up included (each is one persisted event for the service). */
  accepted: number;
  errors: number;
  errorKinds: Map<string, number>;
  perSec: number;
  latencyMs: number[]; // sorted
  withinShare: number;
  over5s: number;
  exhausted: boolean;
  serverCpuMsPer: number | null;
  dbCpuMsPer: number | null;
  benchCpuPct: number;
  /** This load generator's CPU per answered callback, ms. */
  benchCpuMsPer: number | null;
  loadAvg: number;
  /** Service phases: seconds the bot needed after the phase to handle what was persisted. */
  backlogSeconds?: number;
  /** Service phases: stored events handled per second, from the phase's start until the bot caught up. */
  handledPerSec?: number;
  /** Service phases: statements MariaDB ran per event, answer and bot together (server-wide counter). */
  statementsPerEvent?: number;
}

/**
 * `CONNECTIONS` loops post callbacks back to back for warm-up + measure time (or until `next` has none
 * left). Answers completing inside the measured window count toward rate and latency; errors always count.
 */
async function runPhase(
  label: string,
  kind: PhaseResult["kind"],
  port: number,
  next: () => Callback | undefined,
  pids: { server: () => number | undefined; mysqld: number | undefined },
  warmupMs = WARMUP_MS,
  measureMs = MEASURE_MS,
): Promise<PhaseResult> {
  const t0 = performance.now();
  const from = t0 + warmupMs;
  const to = from + measureMs;
  const latency: number[] = [];
  const errorKinds = new Map<string, number>();
  let ok = 0;
  let accepted = 0;
  let errors = 0;
  let exhaustedAt: number | null = null;
  let before: { server: number | null; db: number | null; bench: number } | null = null;
  const snap = () => ({ server: cpuSeconds(pids.server()), db: cpuSeconds(pids.mysqld), bench: benchCpuSeconds() });
  const warm = sleep(warmupMs).then(() => (before = snap()));

  const loop = async () => {
    while (performance.now() < to) {
      const cb = next();
      if (!cb) {
        exhaustedAt ??= performance.now();
        return;
      }
      const start = performance.now();
      let problem: string | null;
      try {
        problem = problemWith(await client.post(cb));
      } catch (err) {
        problem = message(err);
      }
      const end = performance.now();
      if (problem) {
        errors++;
        errorKinds.set(problem, (errorKinds.get(problem) ?? 0) + 1);
        continue;
      }
      accepted++;
      if (end < from || end > to) continue;
      ok++;
      latency.push(end - start);
    }
  };
  // Fresh connections per phase: a socket left idle since an earlier phase may be closed under us.
  const client = new Client(port);
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  } finally {
    client.close();
  }
  await warm;
  const after = snap();
  const end = Math.min(to, exhaustedAt ?? to);
  const seconds = Math.max(0.001, (end - from) / 1000);
  const b = before as { server: number | null; db: number | null; bench: number } | null;
  const per = (x: number | null | undefined, y: number | null) => (x == null || y === null || ok === 0 ? null : ((y - x) * 1000) / ok);
  latency.sort((a, c) => a - c);
  const within = latency.filter((ms) => ms <= WITHIN_MS).length;
  const result: PhaseResult = {
    label,
    kind,
    ok,
    accepted,
    errors,
    errorKinds,
    perSec: ok / seconds,
    latencyMs: latency,
    withinShare: latency.length ? within / latency.length : NaN,
    over5s: latency.filter((ms) => ms > WECOM_LIMIT_MS).length,
    exhausted: exhaustedAt !== null && exhaustedAt < to,
    serverCpuMsPer: per(b?.server, after.server),
    dbCpuMsPer: per(b?.db, after.db),
    benchCpuPct: b ? ((after.bench - b.bench) / seconds) * 100 : NaN,
    benchCpuMsPer: per(b?.bench, after.bench),
    loadAvg: os.loadavg()[0],
  };
  log(`${label}: ${result.perSec.toFixed(0)} callbacks/s, p99 ${fmt(percentile(latency, 99))} ms, ${errors} errors${result.exhausted ? " (ran out of prepared callbacks)" : ""}`);
  return result;
}

// ── the service's database ──────────────────────────────────────────────────────────────────────────

/** What the bench reads from the service's database, beside the service (MariaDB, or the SQLite file). */
interface Store {
  /** inbound_events rows by status. */
  counts(): Promise<Map<string, number>>;
  /** Statements the server has run so far (server-wide: other clients add to it); NaN on SQLite. */
  questions(): Promise<number>;
  outboxRows(): Promise<number>;
}

function mysqlStore(admin: Pool): Store {
  return {
    async counts() {
      const [rows] = await admin.query<RowDataPacket[]>(`SELECT status, COUNT(*) AS n FROM \`${DB_NAME}\`.inbound_events GROUP BY status`);
      return new Map(rows.map((r) => [String(r.status), Number(r.n)]));
    },
    async questions() {
      const [[row]] = await admin.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Questions'");
      return Number(row.Value);
    },
    async outboxRows() {
      const [[row]] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${DB_NAME}\`.outbox`);
      return Number(row.n);
    },
  };
}

/** A read-only connection to the service's SQLite file; it waits out the service's write locks. */
function sqliteStore(file: string): Store & { close(): Promise<void> } {
  const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY);
  db.configure("busyTimeout", 30_000);
  const all = (sql: string) => new Promise<Array<Record<string, unknown>>>((resolve, reject) => db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows as Array<Record<string, unknown>>))));
  return {
    async counts() {
      const rows = await all("SELECT status, COUNT(*) AS n FROM inbound_events GROUP BY status");
      return new Map(rows.map((r) => [String(r.status), Number(r.n)]));
    },
    questions: async () => NaN,
    async outboxRows() {
      const [row] = await all("SELECT COUNT(*) AS n FROM outbox");
      return Number(row.n);
    },
    close: () => new Promise<void>((resolve) => db.close(() => resolve())),
  };
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

/** Waits until the bot has handled every persisted event (none left "received"); returns the seconds it took. */
async function waitForBacklog(admin: Store): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < BACKLOG_DEADLINE_MS) {
    if (((await admin.counts()).get("received") ?? 0) === 0) return (performance.now() - t0) / 1000;
    await sleep(100);
  }
  log(`warning: events still unhandled after ${BACKLOG_DEADLINE_MS / 1000} s`);
  return (performance.now() - t0) / 1000;
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────────

const pct = (share: number) => (Number.isNaN(share) ? "-" : share === 1 ? "100%" : `${(Math.floor(share * 1000) / 10).toFixed(1)}%`);


// ── main ────────────────────────────────────────────────────────────────────────────────────────────

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  if (!fs.existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing; run npm run build first`);

  let dbLabel: string;
  let admin: Store;
  if (SQLITE) {
    onCleanup(`remove ${SQLITE_DIR}`, async () => fs.rmSync(SQLITE_DIR, { recursive: true, force: true }));
    dbLabel = "SQLite + in-memory cache";
    log(`database ${DATABASE_URL}`);
  } else {
    const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2, timezone: "Z", supportBigNumbers: true });
    onCleanup("close admin pool", () => pool.end());
    const [[version]] = await pool.query<RowDataPacket[]>("SELECT VERSION() AS v");
    await pool.query(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    onCleanup(`drop database ${DB_NAME}`, () => pool.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``));
    onCleanup(`delete redis keys ${CACHE_PREFIX}*`, () => deleteRedisKeys(REDIS_URL, CACHE_PREFIX));
    dbLabel = `MariaDB ${String(version.v)} + Redis`;
    log(`database ${DB_NAME} on MariaDB ${String(version.v)}`);
    admin = mysqlStore(pool);
  }

  // Schema, and the members who write: known users, so no directory lookup (user/get) is ever needed.
  // Production refuses to start without a session secret; any 32+ characters do for a bench.
  const sessionSecret = randomAlnum(43);
  const setup = createApp(
    loadConfig({ DATABASE_URL, SEED_DEMO_DATA: "false", LOG_LEVEL: "warn", NODE_ENV: "production", SIMULATOR_ENABLED: "false", SESSION_SECRET: sessionSecret }),
  );
  try {
    await setup.prepare();
    await setup.db.models.User.bulkCreate(
      Array.from({ length: CONNECTIONS }, (_, i) => ({
        platform: "wecom",
        platformUserId: memberId(i),
        name: `压测成员${i}`,
        mobile: null,
        roles: ["sales" as const],
        managerId: null,
        department: null,
      })),
    );
  } finally {
    await setup.close();
  }
  if (SQLITE) {
    const store = sqliteStore(DATABASE_URL.slice("sqlite:".length));
    onCleanup("close the SQLite reader", () => store.close());
    admin = store;
  }

  const wecom = generateApp();
  const [servicePort, baselinePort, deadPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const service = ChildServer.start("service", [...SERVICE_NODE_ARGS, SERVICE_MAIN], {
    ...process.env,
    NODE_ENV: "production",
    DATABASE_URL,
    REDIS_URL: SQLITE ? undefined : REDIS_URL,
    CACHE_KEY_PREFIX: CACHE_PREFIX,
    HOST: "127.0.0.1",
    PORT: String(servicePort),
    SEED_DEMO_DATA: "false",
    LOG_LEVEL: "warn",
    // Every callback comes from 127.0.0.1: the per-IP limit would measure itself.
    RATE_LIMIT_CALLBACK_PER_MIN: "100000000",
    OUTBOX_ENABLED: "false",
    SIMULATOR_ENABLED: "false",
    DB_POOL_MAX: "40",
    DB_LOG_SQL: "false",
    SESSION_SECRET: sessionSecret,
    WECOM_CORP_ID: wecom.corpId,
    WECOM_AGENT_ID: String(wecom.agentId),
    WECOM_SECRET: wecom.secret,
    WECOM_TOKEN: wecom.token,
    WECOM_AES_KEY: wecom.aesKey,
    // Nothing should call WeCom; if something did, it fails here at once instead of reaching the internet.
    WECOM_API_BASE: `http://127.0.0.1:${deadPort}`,
  });
  onCleanup("stop the service", () => service.stop());
  const baseline = ChildServer.start("baseline", [__filename, BASELINE_FLAG], { ...process.env, PORT: String(baselinePort) });
  onCleanup("stop the baseline", () => baseline.stop());

  const probes = [new Client(servicePort), new Client(baselinePort)];
  try {
    await Promise.all([service.waitReady(probes[0]), baseline.waitReady(probes[1])]);
  } finally {
    for (const c of probes) c.close();
  }
  log(`service pid ${service.pid} on :${servicePort}, baseline pid ${baseline.pid} on :${baselinePort}, ${os.cpus().length} CPUs`);

  const factory = new CallbackFactory(wecom, CONNECTIONS);
  const mysqld = SQLITE ? undefined : findMysqldPid();
  const servicePids = { server: () => service.pid, mysqld };
  const baselinePids = { server: () => baseline.pid, mysqld };
  const queue = (list: Callback[]) => {
    let i = 0;
    return () => list[i++];
  };

  // Calibration: warms the service and tells how many callbacks a service phase will need.
  const calibration = await runPhase("calibration", "calibration", servicePort, queue(factory.make(CALIBRATION_POOL)), servicePids, 0, CALIBRATE_MS);
  await waitForBacklog(admin!);
  const perPhase = Math.ceil(Math.max(calibration.perSec, 1_000) * ((WARMUP_MS + MEASURE_MS) / 1000) * 3) + 1_000;

  // The baseline needs no distinct messages: it cycles over the calibration callbacks (same bytes on the wire).
  const calibrationSet = factory.all.slice(0, CALIBRATION_POOL);
  let cycle = 0;
  const cycling = () => calibrationSet[cycle++ % calibrationSet.length];

  log(`${ROUNDS}× (baseline, service): ${CONNECTIONS} connections, ${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s each, ${perPhase} callbacks prepared per service phase`);
  const phases: PhaseResult[] = [];
  let lastPrepared: Callback[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    phases.push(await runPhase(`baseline #${round}`, "baseline", baselinePort, cycling, baselinePids));
    const prepared = factory.make(perPhase);
    lastPrepared = prepared;
    const [q0, t0] = [await admin!.questions(), performance.now()];
    const result = await runPhase(`service #${round}`, "service", servicePort, queue(prepared), servicePids);
    result.backlogSeconds = await waitForBacklog(admin!);
    result.handledPerSec = result.accepted / ((performance.now() - t0) / 1000);
    result.statementsPerEvent = result.accepted ? ((await admin!.questions()) - q0) / result.accepted : NaN;
    phases.push(result);
  }

  // WeCom re-sends what it thinks was not answered (wecom.md 2.3): a repeat is acknowledged and stored once.
  const stored = total(await admin!.counts());
  // Repeats of the last phase's first callbacks (sent, answered, stored): those of the first phase can be
  // older than the service's replay window by now (on SQLite the bot needs minutes to catch up after each
  // phase), and a repeat refused as stale would say nothing about de-duplication.
  const repeats = lastPrepared.slice(0, DUPLICATES);
  const repeatClient = new Client(servicePort);
  const repeatAnswers = await Promise.all(repeats.map((cb) => repeatClient.post(cb).then(problemWith, message)));
  repeatClient.close();
  const repeatProblems = repeatAnswers.filter((p): p is string => p !== null);
  await waitForBacklog(admin!);
  const counts = await admin!.counts();
  const storedAfterRepeats = total(counts);
  const outbox = { n: await admin!.outboxRows() };

  // Every callback answered 200 is one stored event; one that got no answer may or may not be.
  const servicePhases = phases.filter((p) => p.kind === "service");
  const acceptedByService = calibration.accepted + servicePhases.reduce((n, p) => n + p.accepted, 0);
  const unanswered = calibration.errors + servicePhases.reduce((n, p) => n + p.errors, 0);
  const lost = Math.max(0, acceptedByService - stored);
  const extra = Math.max(0, stored - acceptedByService - unanswered);

  // ── the report ──
  const baselinePhases = phases.filter((p) => p.kind === "baseline");
  const serviceRate = median(servicePhases.map((p) => p.perSec));
  const baselineRate = median(baselinePhases.map((p) => p.perSec));
  const ratio = serviceRate / baselineRate;
  // Each service phase against the baseline phase just before it: how far one round can stray from the median.
  const roundRatios = servicePhases.map((p, i) => p.perSec / baselinePhases[i].perSec);
  const pooled = (runs: PhaseResult[]) => runs.flatMap((p) => p.latencyMs).sort((a, b) => a - b);
  const serviceLatency = pooled(servicePhases);
  const baselineLatency = pooled(baselinePhases);
  const within = serviceLatency.filter((ms) => ms <= WITHIN_MS).length / serviceLatency.length;
  const over5s = servicePhases.reduce((n, p) => n + p.over5s, 0);

  const errorKinds = new Map<string, number>();
  for (const p of [calibration, ...phases]) mergeCounts(errorKinds, p.errorKinds);
  for (const p of repeatProblems) errorKinds.set(`repeat: ${p}`, (errorKinds.get(`repeat: ${p}`) ?? 0) + 1);
  if (lost > 0) errorKinds.set("answered 200 but not stored", lost);
  if (storedAfterRepeats !== stored) errorKinds.set("a repeated callback was stored again", storedAfterRepeats - stored);
  const errors = [calibration, ...phases].reduce((n, p) => n + p.errors, 0) + repeatProblems.length + lost + Math.abs(storedAfterRepeats - stored);

  const out: string[] = [];
  out.push("");
  out.push(
    `ChatOrder WeCom callback bench — ${dbLabel}, ${CONNECTIONS} keep-alive connections, ` +
      `text ${JSON.stringify(TEXT)} from ${CONNECTIONS} members, ${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s measured per phase`,
  );
  out.push("");
  out.push(
    table(
      ["phase", "callbacks", "callbacks/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "≤1 s", "errors", "server CPU ms/cb", "db CPU ms/cb", "bench CPU ms/cb", "bench CPU%", "load", "bot caught up s", "handled/s", "stmts/event*"],
      [calibration, ...phases].map((p) => [
        p.label + (p.exhausted ? " (!)" : ""),
        String(p.ok),
        fmt(p.perSec, 0),
        fmt(percentile(p.latencyMs, 50)),
        fmt(percentile(p.latencyMs, 95)),
        fmt(percentile(p.latencyMs, 99)),
        fmt(p.latencyMs[p.latencyMs.length - 1] ?? NaN),
        pct(p.withinShare),
        String(p.errors),
        fmt(p.serverCpuMsPer, 3),
        fmt(p.dbCpuMsPer, 3),
        fmt(p.benchCpuMsPer, 3),
        fmt(p.benchCpuPct, 0),
        fmt(p.loadAvg),
        p.backlogSeconds === undefined ? "-" : fmt(p.backlogSeconds),
        p.handledPerSec === undefined ? "-" : fmt(p.handledPerSec, 0),
        p.statementsPerEvent === undefined ? "-" : fmt(p.statementsPerEvent),
      ]),
    ),
  );
  out.push(
    `server = the service process (service rows) or the bare Koa process (baseline rows); db = the MariaDB server; ` +
      `bench = this load generator; load = 1-min load average on ${os.cpus().length} CPUs; ` +
      `bot caught up = seconds after the phase until every stored event was handled; ` +
      `handled/s = events stored in the phase over the time from its start until the bot caught up; ` +
      `* server-wide counter, answer and bot together` +
      (phases.some((p) => p.exhausted) ? "; (!) = ran out of prepared callbacks, the window was cut short" : ""),
  );
  out.push("");
  out.push(
    table(
      ["summary (median of runs; latency pooled)", "value"],
      [
        ["service callbacks/s (answered)", fmt(serviceRate, 0)],
        ["service events handled/s, until the bot caught up", fmt(median(servicePhases.map((p) => p.handledPerSec ?? NaN)), 0)],
        ["baseline callbacks/s (bare Koa, reads body, answers success)", fmt(baselineRate, 0)],
        ["ratio service/baseline", fmt(ratio, 2)],
        ["ratio of each round (service #n / baseline #n)", roundRatios.map((r) => fmt(r, 2)).join(", ")],
        ["service latency p50 / p95 / p99 ms", `${fmt(percentile(serviceLatency, 50))} / ${fmt(percentile(serviceLatency, 95))} / ${fmt(percentile(serviceLatency, 99))}`],
        ["baseline latency p50 / p95 / p99 ms", `${fmt(percentile(baselineLatency, 50))} / ${fmt(percentile(baselineLatency, 95))} / ${fmt(percentile(baselineLatency, 99))}`],
        ["service callbacks answered within 1 s", pct(within)],
        ["service callbacks over WeCom's 5 s limit", String(over5s)],
        ["callbacks answered 200 by the service / events stored", `${acceptedByService} / ${stored}`],
        [`repeats of ${DUPLICATES} sent callbacks: answered 200 / new events`, `${DUPLICATES - repeatProblems.length} / ${storedAfterRepeats - stored}`],
        ["events handled by the bot: processed / failed / waiting", `${counts.get("processed") ?? 0} / ${counts.get("failed") ?? 0} / ${counts.get("received") ?? 0}`],
        ["bot replies kept as outbox rows (OUTBOX_ENABLED=false)", String(outbox.n)],
        ["errors", String(errors)],
      ],
    ),
  );
  if (extra > 0) out.push(`note: ${extra} more events stored than callbacks sent`);
  if (errorKinds.size > 0) {
    out.push("");
    out.push("errors by kind:");
    for (const [kind, n] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 10)) out.push(`  ${String(n).padStart(6)}  ${kind}`);
  }
  if (service.linesLogged > 0) out.push(`\nthe service logged ${service.linesLogged} lines at warn or above (first ones shown above)`);
  out.push("");
  out.push(`ratio=${fmt(ratio, 2)} within1s=${pct(within)}`);
  process.stdout.write(`${out.join("\n")}\n`);
  const p99 = percentile(serviceLatency, 99);
  const baseP99 = percentile(baselineLatency, 99);
  emitResult(
    "wecom",
    [
      { what: "callbacks/s: /wecom/callback vs bare Koa handler", measured: serviceRate, unit: "callbacks/s", baseline: baselineRate, ratio, target: "ratio ≥ 0.5", met: ratio >= 0.5 },
      { what: "callback answer p99 (bare Koa p99 as baseline)", measured: p99, unit: "ms", baseline: baseP99, ratio: baseP99 / p99, target: "≤ 50 ms", met: p99 <= 50 },
    ],
    errors === 0,
  );

  return errors > 0 ? 1 : 0;
}


if (process.argv[2] === BASELINE_FLAG) {
  runBaselineServer();
} else {
  runWithCleanup(bench).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(2);
    },
  );
}
