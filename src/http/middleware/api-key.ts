import type { Context, Next } from "koa";
import { DomainError } from "../../domain/errors";
import type { Services } from "../../services";
import type { RateLimiter } from "./rate-limit";

const FAILURES_PER_MINUTE = 30;

/**
 * Bearer API key → ctx.state.actor; 401 with no hint of which part was wrong. A client address that
 * keeps presenting bad keys is refused for the rest of the minute, so keys cannot be guessed at speed.
 */
export function requireApiKey(services: Services, limiter: RateLimiter) {
  return async function authenticate(ctx: Context, next: Next) {
    // Failures counted on other instances reach this one within a sync interval (rate-limit.ts); with
    // the cache down, this instance's own count still brakes guessing.
    if (limiter.peek("authfail", ctx.ip) >= FAILURES_PER_MINUTE) {
      ctx.set("Retry-After", String(limiter.retryAfterSec()));
      throw new DomainError("rate_limited", "too many failed authentications from this address; retry in a minute");
    }
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.get("Authorization"));
    const actor = match ? await services.authenticateApiKey(match[1]) : null;
    if (!actor) {
      limiter.hit("authfail", ctx.ip, FAILURES_PER_MINUTE);
      ctx.set("WWW-Authenticate", 'Bearer realm="chatorder"');
      throw new DomainError("unauthorized", "a valid API key is required: Authorization: Bearer <key>");
    }
    ctx.state.actor = actor;
    await next();
  };
}
