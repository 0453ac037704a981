import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Cache } from "../cache/cache";

/** Something that runs on a clock; `run` only decides and calls services, messages go through the outbox. */
export interface Job<Ctx> {
  name: string;
  /** Cron text in Asia/Shanghai time, or null to leave the job off. */
  schedule: string | null;
  run(ctx: Ctx): Promise<Record<string, unknown>>;
  /** How long the run lock lasts (default 10 minutes): a run that crashes frees the job after this. */
  lockMs?: number;
}

export interface LastRun {
  at: string;
  ok: boolean;
  ms: number;
  result?: Record<string, unknown>;
  error?: string;
}

/** Where runs are kept so every instance (and the admin page) sees them; failures to record are logged, not fatal. */
export interface JobRecorder {
  started(input: { name: string; at: Date; instance: string }): Promise<void>;
  finished(input: { name: string; at: Date; durationMs: number; ok: boolean; result?: Record<string, unknown>; error?: string }): Promise<void>;
}

export interface JobRunner {
  /** Runs one job now, under its cluster-wide lock; returns null when another instance holds it. */
  runNow(name: string): Promise<Record<string, unknown> | null>;
  /** Runs each job (or the named ones) in turn; one that throws is reported and the others still run. */
  runAll(names?: string[]): Promise<Record<string, LastRun | "locked">>;
  /** The scheduled path: runs `name` for the cron occurrence `scheduledAt` unless another instance claimed it. */
  runScheduled(name: string, scheduledAt: Date): Promise<Record<string, unknown> | null>;
  lastRuns(): Record<string, LastRun>;
  names(): string[];
  /**
   * No further occurrences; runs in progress get up to `waitMs` (default 3 s) to finish, then their
   * locks are handed back (this process is going away) so another instance need not wait for expiry.
   */
  stop(waitMs?: number): Promise<void>;
}

export interface JobRunnerDeps<Ctx> {
  ctx: Ctx;
  cache: Cache;
  log: Logger;
  /** false: register nothing with node-cron (tests and the CLI drive runs by hand). */
  schedule?: boolean;
  now?: () => Date;
  record?: JobRecorder;
  /** Names this instance in the run records. */
  instance?: string;
}

const LOCK_MS = 10 * 60 * 1000;
/** An occurrence claim outlives any clock skew between instances firing the same cron minute. */
const CLAIM_MS = 5 * 60 * 1000;

/**
 * Registers each job with node-cron (Shanghai time). With N instances every one fires at each cron
 * occurrence, so two cache keys decide who runs: a claim on the occurrence (SET NX, never released,
 * expires) makes exactly one instance run it even when the first finishes before the last wakes up;
 * and a run lock (SET NX PX with a random token, released only by its holder, expiring if the holder
 * dies) keeps a slow run from overlapping the next occurrence or a hand-started run. The jobs' effects
 * are outbox rows with dedupe keys, so a run repeated after a lock expired still tells nobody twice.
 */
export function startJobs<Ctx>(jobs: Array<Job<Ctx>>, deps: JobRunnerDeps<Ctx>): JobRunner {
  const last: Record<string, LastRun> = {};
  const tasks: ScheduledTask[] = [];
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const now = deps.now ?? (() => new Date());
  const instance = deps.instance ?? `pid:${process.pid}`;
  // Runs in progress here, with their lock tokens: stop() waits for them, then releases what is left.
  const held = new Map<string, { token: string; done: Promise<unknown> }>();

  async function runNow(name: string) {
    const job = byName.get(name);
    if (!job) throw new Error(`no job named ${name}`);
    const token = await deps.cache.acquireLock(`job:${name}`, job.lockMs ?? LOCK_MS);
    if (!token) {
      deps.log.info({ job: name }, "job skipped: another instance holds its lock");
      return null;
    }
    const startedAt = now();
    const started = performance.now();
    let finish!: () => void;
    held.set(name, { token, done: new Promise<void>((resolve) => (finish = resolve)) });
    await safely(name, "start", () => deps.record?.started({ name, at: startedAt, instance }));
    try {
      const result = await job.run(deps.ctx);
      const ms = performance.now() - started;
      last[name] = { at: startedAt.toISOString(), ok: true, ms, result };
      deps.log.info({ job: name, ms: Math.round(ms), ...result }, "job finished");
      await safely(name, "finish", () => deps.record?.finished({ name, at: now(), durationMs: ms, ok: true, result }));
      return result;
    } catch (err) {
      const ms = performance.now() - started;
      const error = String((err as Error)?.message ?? err);
      last[name] = { at: startedAt.toISOString(), ok: false, ms, error };
      deps.log.error({ job: name, err }, "job failed");
      await safely(name, "finish", () => deps.record?.finished({ name, at: now(), durationMs: ms, ok: false, error }));
      throw err;
    } finally {
      if (held.get(name)?.token === token) {
        held.delete(name);
        await deps.cache.releaseLock(`job:${name}`, token);
      }
      finish();
    }
  }

  async function runScheduled(name: string, scheduledAt: Date) {
    const claimed = await deps.cache.setIfAbsent(`job-run:${name}:${scheduledAt.toISOString()}`, instance, CLAIM_MS);
    if (!claimed) return null;
    return runNow(name);
  }

  async function runAll(names?: string[]) {
    const outcome: Record<string, LastRun | "locked"> = {};
    for (const name of names ?? [...byName.keys()]) {
      const result = await runNow(name).catch(() => undefined);
      outcome[name] = result === null ? "locked" : last[name];
    }
    return outcome;
  }

  async function safely(name: string, what: string, fn: () => Promise<void> | undefined) {
    try {
      await fn();
    } catch (err) {
      deps.log.warn({ job: name, err }, `could not record the job's ${what}`);
    }
  }

  if (deps.schedule !== false) {
    for (const job of jobs) {
      if (!job.schedule) continue;
      // The occurrence's own time (not this instance's clock) names the claim, so every instance agrees on it.
      const onTick = (context?: { date?: Date }) => void runScheduled(job.name, truncateToMinute(context?.date ?? now())).catch(() => undefined);
      tasks.push(cron.schedule(job.schedule, onTick, { timezone: "Asia/Shanghai", name: job.name }));
    }
  }

  return {
    runNow,
    runAll,
    runScheduled,
    lastRuns: () => ({ ...last }),
    names: () => [...byName.keys()],
    async stop(waitMs = 3_000) {
      for (const t of tasks) void t.stop();
      if (held.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...held.values()].map((h) => h.done)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
      ]);
      clearTimeout(timer);
      const left = [...held.entries()];
      held.clear();
      for (const [name, h] of left) {
        deps.log.warn({ job: name }, "job still running at shutdown: its lock is released");
        await deps.cache.releaseLock(`job:${name}`, h.token).catch(() => undefined);
      }
    },
  };
}

function truncateToMinute(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 60_000) * 60_000);
}
