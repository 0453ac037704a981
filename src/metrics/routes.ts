import crypto from "node:crypto";
import Router from "@koa/router";
import { DomainError } from "../domain/errors";
import type { Metrics } from "./metrics";

/**
 * GET /metrics in Prometheus text format. With `token` set, only `Authorization: Bearer <token>` gets
 * them (anything else is a 401 naming nothing); unset, the endpoint is open — keep it off the public
 * listener then (see README "Deploy").
 */
export function metricsRoutes(deps: { metrics: Metrics; token: string | null }): Router {
  const router = new Router();
  const expected = deps.token === null ? null : crypto.createHash("sha256").update(deps.token).digest();
  router.get("/metrics", async function scrapeMetrics(ctx) {
    if (expected) {
      const got = /^Bearer (.+)$/i.exec(ctx.get("Authorization"))?.[1] ?? "";
      // Digests of equal length, so the comparison time says nothing about the token.
      if (!crypto.timingSafeEqual(crypto.createHash("sha256").update(got).digest(), expected)) {
        ctx.set("WWW-Authenticate", 'Bearer realm="metrics"');
        throw new DomainError("unauthorized", "a valid metrics token is required");
      }
    }
    ctx.set("Content-Type", deps.metrics.registry.contentType);
    ctx.set("Cache-Control", "no-store");
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}
