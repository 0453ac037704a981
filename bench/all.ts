/**
 * Every benchmark of the project, one after another (npm run bench).
 *
 * The build is done once by the npm script; each bench then runs in its own child process, alone, so
 * none disturbs another's figures. Each keeps its own report on stdout/stderr and ends with one
 * `BENCH_RESULT {json}` line (bench/support.ts emitResult), which this runner collects into one table:
 * what was measured, against which baseline measured in the same run, the ratio and the target.
 *
 * A missed target is reported, not fatal. The exit code is non-zero when a bench crashed, found an error
 * (lost or duplicated messages, overselling, unequal figures) or printed no result.
 *
 *   npm run bench                      every bench, full length (about 15–25 minutes)
 *   npm run bench -- --quick           shorter runs and smaller data sets, for a smoke test
 *   npm run bench -- --only outbox,startup
 *
 * The environment is passed through: BENCH_MYSQL_URL (orders, wecom, reports; default
 * mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, BENCH_DATABASE_URL (dingtalk, miniapp, outbox run on a
 * temporary SQLite file without it), and each bench's own BENCH_* settings, which win over --quick.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fmt, RESULT_PREFIX, table, type BenchFigure } from "./support";

interface BenchSpec {
  name: string;
  /** What it needs besides this machine. */
  needs: string;
  /** Settings --quick applies unless the environment already sets them. */
  quick: Record<string, string>;
}

// Cold start first: it is the most sensitive to what ran just before it. The longest (reports) last.
const BENCHES: BenchSpec[] = [
  { name: "startup", needs: "-", quick: { BENCH_STARTS: "2" } },
  { name: "outbox", needs: "-", quick: { BENCH_NOTICES: "400", BENCH_STEADY_SECONDS: "5" } },
  { name: "orders", needs: "MariaDB", quick: { BENCH_SECONDS: "3", BENCH_WARMUP_SECONDS: "1" } },
  { name: "wecom", needs: "MariaDB, Redis", quick: { BENCH_SECONDS: "3", BENCH_WARMUP_SECONDS: "1" } },
  { name: "dingtalk", needs: "-", quick: { BENCH_FRAMES: "600" } },
  { name: "miniapp", needs: "-", quick: { BENCH_ORDERS: "40", BENCH_REQUESTS: "40" } },
  { name: "reports", needs: "MariaDB", quick: { BENCH_ORDERS: "20000", BENCH_DAYS: "120", BENCH_ROLLUP_RUNS: "10", BENCH_DIRECT_RUNS: "2" } },
];

interface Outcome {
  spec: BenchSpec;
  code: number | null;
  seconds: number;
  result: { bench: string; ok: boolean; figures: BenchFigure[] } | null;
}

function parseArgs(argv: string[]) {
  let quick = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--only") only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a.startsWith("--only=")) only = a.slice(7).split(",").filter(Boolean);
    else throw new Error(`unknown argument ${a} (use --quick, --only name,name)`);
  }
  const unknown = (only ?? []).filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) throw new Error(`no bench named ${unknown.join(", ")}; there are ${BENCHES.map((b) => b.name).join(", ")}`);
  return { quick, benches: only ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES };
}

let interrupted = false;

function run(spec: BenchSpec, quick: boolean): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (quick) for (const [k, v] of Object.entries(spec.quick)) env[k] ??= v;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, `${spec.name}.js`)], { env, stdio: ["ignore", "pipe", "inherit"] });
    let result: Outcome["result"] = null;
    let pending = "";
    const onLine = (line: string) => {
      if (line.startsWith(RESULT_PREFIX)) {
        try {
          result = JSON.parse(line.slice(RESULT_PREFIX.length)) as Outcome["result"];
        } catch {
          process.stdout.write(`bench: ${spec.name} printed a result line that is not JSON\n`);
        }
        return;
      }
      process.stdout.write(`${line}\n`);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      lines.forEach(onLine);
    });
    child.on("close", (code) => {
      if (pending) onLine(pending);
      resolve({ spec, code, seconds: (performance.now() - started) / 1000, result });
    });
  });
}

/** A figure with its unit, in a few significant digits. */
function show(v: number | null, unit: string): string {
  if (v === null) return "-";
  if (unit === "bool") return v ? "yes" : "no";
  const digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${fmt(v, digits)} ${unit}`;
}

async function main(): Promise<number> {
  const { quick, benches } = parseArgs(process.argv.slice(2));
  // Ctrl-C reaches the bench too (same process group); it cleans up, and then we stop.
  process.on("SIGINT", () => (interrupted = true));
  process.on("SIGTERM", () => (interrupted = true));
  const load = os.loadavg()[0];
  process.stdout.write(
    `bench: ${benches.map((b) => b.name).join(", ")}${quick ? " (--quick)" : ""}; ${os.cpus().length} CPUs, load ${fmt(load)}` +
      `${load > os.cpus().length ? " — the machine is busy: figures will be noisy" : ""}\n`,
  );
  const outcomes: Outcome[] = [];
  for (const spec of benches) {
    if (interrupted) break;
    process.stdout.write(`\n━━━ bench ${spec.name} (needs: ${spec.needs}) ━━━\n`);
    const outcome = await run(spec, quick);
    outcomes.push(outcome);
    process.stdout.write(`━━━ ${spec.name}: exit ${outcome.code ?? "signal"} after ${fmt(outcome.seconds, 0)} s\n`);
  }

  const rows: string[][] = [];
  const problems: string[] = [];
  for (const o of outcomes) {
    if (!o.result) {
      const stopped = o.code === 130 && interrupted;
      rows.push([o.spec.name, stopped ? "(no result: interrupted)" : "(no result: the bench crashed)", "-", "-", "-", "-", stopped ? "STOPPED" : "CRASHED"]);
      problems.push(`${o.spec.name} ${stopped ? "was interrupted" : "crashed"} (exit ${o.code ?? "signal"})`);
      continue;
    }
    for (const f of o.result.figures) {
      rows.push([o.spec.name, f.what, show(f.measured, f.unit), show(f.baseline, f.unit), f.ratio === null ? "-" : fmt(f.ratio, 2), f.target, f.met ? "yes" : "NO"]);
    }
    if (!o.result.ok || o.code !== 0) problems.push(`${o.spec.name} found errors (exit ${o.code ?? "signal"}); see its report above`);
  }
  const missed = outcomes.flatMap((o) => (o.result?.figures ?? []).filter((f) => !f.met).map((f) => `${o.spec.name}: ${f.what}`));
  process.stdout.write(`\n${"═".repeat(40)}\nChatOrder benchmarks${quick ? " (--quick: short runs, small data; smoke figures only)" : ""}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC\n\n`);
  process.stdout.write(`${table(["bench", "what", "measured", "baseline", "ratio", "target", "met?"], rows, [1, 5])}\n\n`);
  process.stdout.write(
    "ratio = measured/baseline for rates, baseline/measured for times and memory (1.0 = as good as the baseline); " +
      `1-min load average now ${fmt(os.loadavg()[0])} on ${os.cpus().length} CPUs\n`,
  );
  process.stdout.write(`targets missed: ${missed.length ? `${missed.length}` : "none"}; total ${fmt(outcomes.reduce((n, o) => n + o.seconds, 0), 0)} s\n`);
  for (const p of problems) process.stdout.write(`FAILED: ${p}\n`);
  if (interrupted) process.stdout.write("interrupted: the remaining benches were not run\n");
  return problems.length > 0 || interrupted ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
