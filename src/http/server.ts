import Koa from "koa";
import Router from "@koa/router";
import type { HttpDeps } from "./deps";
import { requireApiKey } from "./middleware/api-key";
import { errorHandler } from "./middleware/errors";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { apiIpLimit, surfaceLimits } from "./middleware/surface-limits";
import { requestId } from "./middleware/request-id";
import { securityHeaders } from "./middleware/security-headers";
import { catalogRoutes } from "./routes/catalog/routes";
import { healthRoutes } from "./routes/health";
import { orderRoutes } from "./routes/orders/routes";

/** Extra routers (dev console, platform callbacks, mini-app) mounted by app.ts. */
export type RouterFactory = (deps: HttpDeps) => Router;

/** The Koa app: one error shape for everything, the REST API under /api/v1. */
export function createHttpApp(deps: HttpDeps, extra: RouterFactory[] = []): Koa {
  // X-Forwarded-* are believed only when configured; with PROXY_HOPS proxies appending to X-Forwarded-For,
  // ctx.ip is the entry that many from the right, which a client cannot forge by sending its own header.
  const { trustProxy, proxyHops, ipRateLimits } = deps.config.http;
  const app = new Koa({ proxy: trustProxy, maxIpsCount: proxyHops });
  // First, so the time and the final status of every request are seen, errors included.
  if (deps.metrics) app.use(deps.metrics.http());
  app.use(securityHeaders({ publicUrl: deps.config.publicUrl }));
  app.use(requestId(deps.log, deps.trace));
  app.use(errorHandler(deps.log));
  app.use(surfaceLimits(deps.limiter, ipRateLimits));

  const api = new Router({ prefix: "/api/v1" });
  api.use(apiIpLimit(deps.limiter, ipRateLimits.apiPerMin));
  api.use(jsonBody(deps.config.http.bodyLimitKb));
  api.use(requireApiKey(deps.services, deps.limiter));
  api.use(rateLimit(deps.limiter, { name: "key", perMinute: deps.config.http.apiRateLimitPerMin, keyOf: (ctx) => ctx.state.actor.label }));
  for (const r of [orderRoutes(deps), catalogRoutes(deps)]) api.use(r.routes(), r.allowedMethods());

  const routers = [healthRoutes(deps), api, ...extra.map((f) => f(deps))];
  // Not throwing: only then does the router set Allow; errorHandler gives the bare 405/501 our shape.
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
