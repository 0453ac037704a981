import Router from "@koa/router";
import type { HttpDeps } from "../deps";
import { listJobRuns } from "../../services/job-runs";

/**
 * Something /readyz asks about besides the database and the cache: a chat channel, the DingTalk Stream
 * connection. `check` resolves when all is well and throws, naming why, when not.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** A check that has not answered by then is reported as failed: probes must be answered in time. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * /healthz: the process answers (no I/O; `?details` adds each job's last run). /readyz: whether this
 * instance should get traffic. Only the database and the cache decide that (503 without them): every
 * request needs them, and an instance without them can do nothing. A failing chat channel or a job
 * whose last run failed is reported as "degraded" with 200: neither stops this instance serving its
 * callbacks, pages and API (messages wait in the outbox), and a platform outage affects every instance
 * alike, so taking them all out of the load balancer would only turn it into a complete one — callbacks
 * the platform cannot deliver are lost, where stored ones are answered later.
 */
export function healthRoutes({ db, cache, readiness = [] }: HttpDeps): Router {
  const router = new Router();
  router.get("/healthz", async (ctx) => {
    if (ctx.query.details === undefined) {
      ctx.body = { status: "ok" };
      return;
    }
    // Details: each scheduled job's last run (from job_runs, so any instance shows every job).
    const jobs = await listJobRuns({ db }).catch((err: Error) => ({ error: err.message }));
    ctx.body = { status: "ok", jobs };
  });
  router.get("/readyz", async (ctx) => {
    const [database, cacheState, channelStates, jobs] = await Promise.all([
      outcome(() => db.sequelize.authenticate()),
      outcome(() => cache.ping()),
      Promise.all(readiness.map(async (r) => [r.name, await outcome(() => r.check())] as const)),
      listJobRuns({ db }).catch(() => null),
    ]);
    const checks: Record<string, string> = { database, cache: cacheState, ...Object.fromEntries(channelStates) };
    const failedJobs = (jobs ?? []).filter((j) => j.outcome === "failed").map((j) => ({ name: j.name, at: j.finishedAt, error: j.error }));
    const ready = database === "ok" && cacheState === "ok";
    const degraded = channelStates.some(([, state]) => state !== "ok") || failedJobs.length > 0;
    ctx.status = ready ? 200 : 503;
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status: !ready ? "not_ready" : degraded ? "degraded" : "ready", checks, failedJobs };
  });
  return router;
}

async function outcome(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return "ok";
  } catch (err) {
    return `error: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
  } finally {
    clearTimeout(timer);
  }
}
