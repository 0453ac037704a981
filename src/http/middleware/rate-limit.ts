import type { Context, Next } from "koa";
import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import { DomainError } from "../../domain/errors";

const WINDOW_MS = 60_000;
/** A cache that has not answered by then counts as down: a limiter must never be what makes a request slow. */
const DEFAULT_TIMEOUT_MS = 250;

/**
 * Fixed one-minute windows in the shared cache (shared by every instance when the cache is Redis).
 * Fails open: when the cache errs or is slow, a request is counted as nothing and let through, and a
 * warning is logged at most once a minute. Limits protect the service; an outage of the cache must
 * not turn into refused orders or 5xx answers.
 */
export interface RateLimiter {
  /** Adds one to `name`/`key` in this minute's window; null when the cache could not say. */
  hit(name: string, key: string): Promise<number | null>;
  /** This minute's count without adding to it; null when the cache could not say. */
  peek(name: string, key: string): Promise<number | null>;
  /** Seconds until the current window ends (for Retry-After). */
  retryAfterSec(): number;
}

export function createRateLimiter(cache: Cache, log: Logger, opts: { timeoutMs?: number; now?: () => number } = {}): RateLimiter {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  let lastWarnAt = -Infinity;
  const keyOf = (name: string, key: string) => `rl:${name}:${key}:${Math.floor(now() / WINDOW_MS)}`;

  async function guarded<T>(name: string, op: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the cache did not answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      });
      return await Promise.race([op(), late]);
    } catch (err) {
      if (now() - lastWarnAt >= WINDOW_MS) {
        lastWarnAt = now();
        log.warn({ err, limit: name }, "rate limiting is off while the cache is unavailable (requests pass unlimited)");
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    hit: (name, key) => guarded(name, () => cache.incr(keyOf(name, key), WINDOW_MS + 1000)),
    peek: (name, key) => guarded(name, async () => Number(await cache.get(keyOf(name, key)))),
    retryAfterSec: () => Math.max(1, Math.ceil((WINDOW_MS - (now() % WINDOW_MS)) / 1000)),
  };
}

export interface RateLimitOptions {
  /** Names the counter in the cache: "api-key", "ip-callback"… */
  name: string;
  perMinute: number;
  /** Whose requests share the window (an API key's label, a client IP, a signed-in user). */
  keyOf: (ctx: Context) => string;
  /** Only requests this says yes to are counted; the default counts all. */
  when?: (ctx: Context) => boolean;
}

/** 429 rate_limited with Retry-After, in the API's error shape, once `perMinute` is used up. */
export function rateLimit(limiter: RateLimiter, opts: RateLimitOptions) {
  return async function limitRate(ctx: Context, next: Next) {
    if (opts.when && !opts.when(ctx)) return next();
    const count = await limiter.hit(opts.name, opts.keyOf(ctx));
    if (count !== null) {
      ctx.set("X-RateLimit-Limit", String(opts.perMinute));
      ctx.set("X-RateLimit-Remaining", String(Math.max(0, opts.perMinute - count)));
      if (count > opts.perMinute) {
        ctx.set("Retry-After", String(limiter.retryAfterSec()));
        throw new DomainError("rate_limited", "too many requests; slow down and retry after the Retry-After seconds");
      }
    }
    await next();
  };
}
