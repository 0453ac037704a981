/** Helpers shared by the benchmarks: settings, statistics, process CPU, free ports, clean-up. */
import fs from "node:fs";
import net from "node:net";
import Redis from "ioredis";

export const positive = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc; null where there is no /proc. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** The local MariaDB server process, when it runs on this host (for its CPU share). */
export function findMysqldPid(): number | undefined {
  try {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim();
        if (comm === "mariadbd" || comm === "mysqld") return Number(entry);
      } catch {
        // the process went away while we looked
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

export const fmt = (v: number | null, digits = 1) => (v === null || Number.isNaN(v) ? "-" : v.toFixed(digits));

/** A plain-text table; the first column, and any listed in `left`, are left-aligned, the rest right-aligned. */
export function table(headers: string[], rows: string[][], left: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(headers), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export function mergeCounts(target: Map<string, number>, source: Map<string, number>) {
  for (const [k, v] of source) target.set(k, (target.get(k) ?? 0) + v);
}

/**
 * Runs a bench body that registers clean-up steps as it creates things (a database, a child process,
 * cache keys); they run in reverse order when it ends, fails, or the bench is interrupted.
 */
export async function runWithCleanup(
  body: (onCleanup: (name: string, run: () => Promise<unknown>) => void) => Promise<number>,
): Promise<number> {
  const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.splice(0).reverse()) {
        try {
          await step.run();
        } catch (err) {
          log(`cleanup "${step.name}" failed: ${message(err)}`);
        }
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await body((name, run) => cleanups.push({ name, run }));
  } finally {
    await cleanup();
  }
}

/** One figure of a bench, as the `npm run bench` runner tabulates it. */
export interface BenchFigure {
  /** What is measured, and against what baseline. */
  what: string;
  measured: number;
  unit: string;
  /** The same figure for the baseline measured in the same run; null where the target is absolute. */
  baseline: number | null;
  /** measured/baseline, or baseline/measured where lower is better; null without a baseline. */
  ratio: number | null;
  /** The target as text, e.g. "ratio ≥ 0.5" or "≤ 50 ms". */
  target: string;
  met: boolean;
}

export const RESULT_PREFIX = "BENCH_RESULT ";

/**
 * The machine-readable last line of a bench, parsed by bench/all.ts; the human report above it stays as
 * it was. `ok` is false when the bench found an error (not when a target is missed).
 */
export function emitResult(bench: string, figures: BenchFigure[], ok = true): void {
  const clean = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(6)));
  const rows = figures.map((f) => ({ ...f, measured: clean(f.measured), baseline: clean(f.baseline), ratio: clean(f.ratio) }));
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ bench, ok, figures: rows })}\n`);
}
