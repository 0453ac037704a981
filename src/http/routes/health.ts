import Router from "@koa/router";
import type { HttpDeps } from "../deps";
import { listJobRuns } from "../../services/job-runs";

/** /healthz: the process answers. /readyz: it can reach what it needs to do work. */
export function healthRoutes({ db, cache }: HttpDeps): Router {
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
    const checks: Record<string, string> = {};
    await Promise.all([
      db.sequelize.authenticate().then(
        () => (checks.database = "ok"),
        (err: Error) => (checks.database = `error: ${err.message}`),
      ),
      cache.ping().then(
        () => (checks.cache = "ok"),
        (err: Error) => (checks.cache = `error: ${err.message}`),
      ),
    ]);
    const ready = Object.values(checks).every((v) => v === "ok");
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "not_ready", checks };
  });
  return router;
}
