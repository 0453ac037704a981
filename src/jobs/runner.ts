import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Cache } from "../cache/cache";

/** Something that runs on a clock; `run` only decides and calls services, messages go through the outbox. */
export interface Job<Ctx> {
  name: string;
  /** Cron text in Asia/Shanghai time, or null to leave the job off. */
  schedule: string | null;
  run(ctx: Ctx): Promise<Record<string, unknown>>;
}

export interface JobRunner {
  /** Runs one job now, under its cluster-wide lock; returns null when another instance holds it. */
  runNow(name: string): Promise<Record<string, unknown> | null>;
  lastRuns(): Record<string, { at: string; ok: boolean; ms: number; result?: Record<string, unknown>; error?: string }>;
  stop(): void;
}

const LOCK_MS = 10 * 60 * 1000;

/** Registers each job with node-cron (Shanghai time); a cache lock named after the job makes one instance run it. */
export function startJobs<Ctx>(jobs: Array<Job<Ctx>>, deps: { ctx: Ctx; cache: Cache; log: Logger; schedule?: boolean }): JobRunner {
  const last: ReturnType<JobRunner["lastRuns"]> = {};
  const tasks: ScheduledTask[] = [];
  const byName = new Map(jobs.map((j) => [j.name, j]));

  async function runNow(name: string) {
    const job = byName.get(name);
    if (!job) throw new Error(`no job named ${name}`);
    const token = await deps.cache.acquireLock(`job:${name}`, LOCK_MS);
    if (!token) return null;
    const started = Date.now();
    try {
      const result = await job.run(deps.ctx);
      last[name] = { at: new Date().toISOString(), ok: true, ms: Date.now() - started, result };
      deps.log.info({ job: name, ms: Date.now() - started, ...result }, "job finished");
      return result;
    } catch (err) {
      last[name] = { at: new Date().toISOString(), ok: false, ms: Date.now() - started, error: String((err as Error)?.message ?? err) };
      deps.log.error({ job: name, err }, "job failed");
      throw err;
    } finally {
      await deps.cache.releaseLock(`job:${name}`, token);
    }
  }

  if (deps.schedule !== false) {
    for (const job of jobs) {
      if (!job.schedule) continue;
      tasks.push(
        cron.schedule(job.schedule, () => void runNow(job.name).catch(() => undefined), { timezone: "Asia/Shanghai", name: job.name }),
      );
    }
  }

  return {
    runNow,
    lastRuns: () => ({ ...last }),
    stop() {
      for (const t of tasks) void t.stop();
    },
  };
}
