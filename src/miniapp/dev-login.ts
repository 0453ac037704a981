import Router from "@koa/router";
import { DomainError } from "../domain/errors";
import type { Sessions } from "../http/session";
import type { Services } from "../services";

/** Only mini-app paths may follow a sign-in, so /dev/login is never an open redirect. */
export function miniAppNext(next: unknown): string {
  return typeof next === "string" && /^\/m(\/[\w\-/?=&.%]*)?$/.test(next) ? next : "/m";
}

/**
 * GET /dev/login?u=<simulator user>&next=/m/...: the simulator's sign-in, the target of its card links
 * and of the dev console's user picker. Mounted only with the simulator channel, which is off in
 * production: it signs anyone in as anyone, on purpose.
 */
export function devLoginRoutes(deps: { services: Services; sessions: Sessions }): Router {
  const router = new Router();
  router.get("/dev/login", async function devLogin(ctx) {
    const uid = typeof ctx.query.u === "string" ? ctx.query.u : "";
    const user = uid ? await deps.services.findPlatformUser("simulator", uid) : null;
    if (!user || !user.active) throw new DomainError("not_found", `no active simulator user ${uid}`, { path: "query.u" });
    deps.sessions.start(ctx, user.id);
    ctx.set("Cache-Control", "no-store");
    ctx.redirect(miniAppNext(ctx.query.next));
  });
  return router;
}
