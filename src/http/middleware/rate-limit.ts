import type { Context, Next } from "koa";
import type { Cache } from "../../cache/cache";
import { DomainError } from "../../domain/errors";

/**
 * Fixed one-minute windows in the shared cache, keyed by whatever `keyOf` returns (an API key's
 * name, a client IP). Shared by all instances when the cache is Redis.
 */
export function rateLimit(cache: Cache, perMinute: number, name: string, keyOf: (ctx: Context) => string) {
  return async function limitRate(ctx: Context, next: Next) {
    const minute = Math.floor(Date.now() / 60000);
    const count = await cache.incr(`rl:${name}:${keyOf(ctx)}:${minute}`, 61000);
    ctx.set("X-RateLimit-Limit", String(perMinute));
    ctx.set("X-RateLimit-Remaining", String(Math.max(0, perMinute - count)));
    if (count > perMinute) {
      ctx.set("Retry-After", String(60 - Math.floor((Date.now() / 1000) % 60)));
      throw new DomainError("rate_limited", "too many requests; slow down and retry after the Retry-After seconds");
    }
    await next();
  };
}
