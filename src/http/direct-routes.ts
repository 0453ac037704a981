import type { IncomingMessage, ServerResponse } from "node:http";
import querystring, { type ParsedUrlQuery } from "node:querystring";
import type { Logger } from "pino";
import { DomainError } from "../domain/errors";
import type { Metrics } from "../metrics/metrics";
import type { Trace } from "../trace";
import { errorAnswer } from "./middleware/errors";
import type { RateLimiter } from "./middleware/rate-limit";
import { requestIdFrom } from "./middleware/request-id";

/**
 * A route answered straight from Node's request event, ahead of Koa: for the platform callback that
 * arrives thousands of times a second, where Koa's context and our middleware chain cost more CPU
 * than verifying, decrypting and storing the callback itself (bench:wecom: 0.24 → 0.13 ms per
 * callback). What the chain gives every response is given here too, from the same code: the security
 * headers, X-Request-Id and the trace id, the per-IP limit, the error shape, the request metrics.
 * Anything else on the path (other methods, HEAD, a trailing slash) is Koa's, as before.
 */
export interface DirectRoute {
  method: "POST";
  path: string;
  /** Per-client-IP limit; 429 with Retry-After once used up, as rateLimit() answers. */
  limit?: { name: string; perMinute: number };
  /** The route's work; resolves to the plain-text answer, or throws (a DomainError gives its status). */
  handle(req: IncomingMessage, query: ParsedUrlQuery, ip: string): Promise<string>;
}

export interface DirectRouteDeps {
  log: Logger;
  limiter: RateLimiter;
  headers: ReadonlyArray<readonly [string, string]>;
  metrics?: Metrics;
  trace?: Trace;
  /** As Koa's `proxy` and `maxIpsCount`: whether X-Forwarded-For is believed, and how many hops of it. */
  trustProxy: boolean;
  proxyHops: number;
}

export type DirectDispatch = (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined;

/** A dispatcher answering `routes`, or undefined for a request that is not theirs (hand it to Koa). */
export function directRoutes(deps: DirectRouteDeps, routes: DirectRoute[]): DirectDispatch {
  const byRoute = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  const common = deps.headers.flat();
  return (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const route = byRoute.get(`${req.method} ${q < 0 ? url : url.slice(0, q)}`);
    return route ? serve(deps, common, route, req, res, q < 0 ? "" : url.slice(q + 1)) : undefined;
  };
}

/**
 * The answer's headers go out in one writeHead() as a flat name/value list: a setHeader() per header
 * (a dozen of them) showed in bench:wecom profiles, each one validated and kept in a map for later lookup
 * that nothing here does.
 */
async function serve(deps: DirectRouteDeps, common: string[], route: DirectRoute, req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
  const start = process.hrtime.bigint();
  const id = requestIdFrom(req.headers["x-request-id"]);
  const head = [...common, "X-Request-Id", id];
  let status = 200;
  let body: string;
  let type = "text/plain; charset=utf-8";
  try {
    const ip = clientIp(req, deps.trustProxy, deps.proxyHops);
    if (route.limit) limitOrThrow(deps.limiter, route.limit, ip, head);
    const query = querystring.parse(search);
    body = await (deps.trace ? deps.trace.run(id, () => route.handle(req, query, ip)) : route.handle(req, query, ip));
  } catch (raw) {
    const answer = errorAnswer(raw, deps.log.child({ requestId: id }), req.method ?? "", route.path);
    status = answer.status;
    body = JSON.stringify(answer.body);
    type = "application/json; charset=utf-8";
  }
  head.push("Content-Type", type, "Content-Length", String(Buffer.byteLength(body)));
  res.writeHead(status, head);
  res.end(body);
  deps.metrics?.observeHttp(req.method ?? "", route.path, status, Number(process.hrtime.bigint() - start) / 1e9);
}

function limitOrThrow(limiter: RateLimiter, limit: { name: string; perMinute: number }, ip: string, head: string[]) {
  const count = limiter.hit(limit.name, ip || "unknown", limit.perMinute);
  head.push("X-RateLimit-Limit", String(limit.perMinute), "X-RateLimit-Remaining", String(Math.max(0, limit.perMinute - count)));
  if (count > limit.perMinute) {
    head.push("Retry-After", String(limiter.retryAfterSec()));
    throw new DomainError("rate_limited", "too many requests; slow down and retry after the Retry-After seconds");
  }
}

/** The client's address as Koa's ctx.ip gives it for the same `proxy` / `maxIpsCount` settings. */
export function clientIp(req: IncomingMessage, trustProxy: boolean, proxyHops: number): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string" && forwarded) {
    let ips = forwarded.split(",").map((v) => v.trim());
    if (proxyHops > 0) ips = ips.slice(-proxyHops);
    if (ips[0]) return ips[0];
  }
  return req.socket.remoteAddress ?? "";
}
