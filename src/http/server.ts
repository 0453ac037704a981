import { IncomingMessage, type ServerResponse } from "node:http";
import Koa from "koa";
import Router from "@koa/router";
import type { HttpDeps } from "./deps";
import { requireApiKey } from "./middleware/api-key";
import { errorHandler } from "./middleware/errors";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { apiIpLimit, callbackLimit, surfaceLimits } from "./middleware/surface-limits";
import { requestId } from "./middleware/request-id";
import { securityHeaderList, securityHeaders } from "./middleware/security-headers";
import { directRoutes, type DirectDispatch, type DirectRoute } from "./direct-routes";
import { catalogRoutes } from "./routes/catalog/routes";
import { healthRoutes } from "./routes/health";
import { orderRoutes } from "./routes/orders/routes";

/** Extra routers (dev console, platform callbacks, mini-app) mounted by app.ts. */
export type RouterFactory = (deps: HttpDeps) => Router;

/** A handler for one method on one exact path, dispatched ahead of the routers (see createHttpApp). */
export interface ExactRoute {
  method: string;
  path: string;
  handler: Koa.Middleware;
}

/**
 * Koa, with the direct routes (direct-routes.ts) answered ahead of it. Every server built from the app
 * (listen, callback(): main.ts, tests, supertest) goes through callback(), so they all take that path.
 */
export class HttpApp extends Koa {
  direct: DirectDispatch | null = null;

  override callback(): ReturnType<Koa["callback"]> {
    const koa = super.callback();
    const direct = this.direct;
    if (!direct) return koa;
    // Only HTTP/1 requests are answered directly (the app never serves HTTP/2 itself).
    return (req, res) => (req instanceof IncomingMessage && direct(req, res as ServerResponse)) || koa(req, res);
  }
}

/** The Koa app: one error shape for everything, the REST API under /api/v1. */
export function createHttpApp(deps: HttpDeps, extra: RouterFactory[] = [], exact: ExactRoute[] = [], direct: DirectRoute[] = []): HttpApp {
  // X-Forwarded-* are believed only when configured; with PROXY_HOPS proxies appending to X-Forwarded-For,
  // ctx.ip is the entry that many from the right, which a client cannot forge by sending its own header.
  const { trustProxy, proxyHops, ipRateLimits } = deps.config.http;
  const app = new HttpApp({ proxy: trustProxy, maxIpsCount: proxyHops });
  if (direct.length > 0) {
    // Direct routes are platform callbacks: each carries the callbacks' per-IP limit.
    const routes = direct.map((r) => ({ ...r, limit: r.limit ?? callbackLimit(ipRateLimits) }));
    const headers = securityHeaderList({ publicUrl: deps.config.publicUrl });
    app.direct = directRoutes({ log: deps.log, limiter: deps.limiter, headers, metrics: deps.metrics, trace: deps.trace, trustProxy, proxyHops }, routes);
  }
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

  // Platform callbacks (the hot path bench:wecom measures): matched by exact method + path in one Map lookup instead of
  // every router's regex scan and allowedMethods pass. Placed after every app-wide middleware above, so
  // request id, error shape (and whatever is added before this line) still apply; anything else on
  // that path (HEAD, OPTIONS, other methods, case or trailing-slash variants) falls through to the routers.
  if (exact.length > 0) app.use(exactRoutes(exact));

  const routers = [healthRoutes(deps), api, ...extra.map((f) => f(deps))];
  // Not throwing: only then does the router set Allow; errorHandler gives the bare 405/501 our shape.
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}

function exactRoutes(routes: ExactRoute[]): Koa.Middleware {
  const byRoute = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  return function exactRoute(ctx, next) {
    const route = byRoute.get(`${ctx.method} ${ctx.path}`);
    if (!route) return next();
    // What @koa/router would have recorded, so anything labelling requests by route sees the same.
    ctx._matchedRoute = route.path;
    return route.handler(ctx, next);
  };
}
