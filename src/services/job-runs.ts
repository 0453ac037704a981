import { jobRunModel } from "../db/models/job-runs";
import type { ServiceDeps } from "./deps";

export interface JobRunView {
  name: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: "running" | "ok" | "failed";
  result: Record<string, unknown> | null;
  error: string | null;
  instance: string | null;
  runs: number;
  failures: number;
}

/** A run began: shown as running until it finishes (or forever, if its instance died mid-run). */
export async function recordJobStarted(deps: ServiceDeps, input: { name: string; at: Date; instance: string }): Promise<void> {
  const JobRun = jobRunModel(deps.db.sequelize);
  const row = await JobRun.findByPk(input.name);
  const fields = { startedAt: input.at, finishedAt: null, durationMs: null, outcome: "running", error: null, instance: input.instance };
  if (row) await row.update(fields);
  else await JobRun.create({ name: input.name, result: null, ...fields });
}

/** A run ended: its duration and outcome, and the running totals. */
export async function recordJobFinished(
  deps: ServiceDeps,
  input: { name: string; at: Date; durationMs: number; ok: boolean; result?: Record<string, unknown>; error?: string },
): Promise<void> {
  const JobRun = jobRunModel(deps.db.sequelize);
  const row = await JobRun.findByPk(input.name);
  if (!row) return;
  await row.update({
    finishedAt: input.at,
    durationMs: Math.round(input.durationMs),
    outcome: input.ok ? "ok" : "failed",
    result: input.result ?? null,
    error: input.error?.slice(0, 2000) ?? null,
    runs: row.runs + 1,
    failures: row.failures + (input.ok ? 0 : 1),
  });
}

/** Every job's last run, by name (for /healthz details and the admin page). */
export async function listJobRuns(deps: Pick<ServiceDeps, "db">): Promise<JobRunView[]> {
  const rows = await jobRunModel(deps.db.sequelize).findAll({ order: [["name", "ASC"]] });
  return rows.map((r) => ({
    name: r.name,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    durationMs: r.durationMs,
    outcome: r.outcome as JobRunView["outcome"],
    result: r.result,
    error: r.error,
    instance: r.instance,
    runs: r.runs,
    failures: r.failures,
  }));
}
