import type { Context, Next } from "koa";
import type { Cache } from "../../cache/cache";
import { DomainError } from "../../domain/errors";
import type { Services } from "../../services";

const FAILURES_PER_MINUTE = 30;

/**
 * Bearer API key → ctx.state.actor; 401 with no hint of which part was wrong. A client address that
 * keeps presenting bad keys is refused for the rest of the minute, so keys cannot be guessed at speed.
 */
export function requireApiKey(services: Services, cache: Cache) {
  return async function authenticate(ctx: Context, next: Next) {
    const window = `rl:authfail:${ctx.ip}:${Math.floor(Date.now() / 60000)}`;
    if (Number(await cache.get(window)) >= FAILURES_PER_MINUTE) {
      throw new DomainError("rate_limited", "too many failed authentications from this address; retry in a minute");
    }
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.get("Authorization"));
    const actor = match ? await services.authenticateApiKey(match[1]) : null;
    if (!actor) {
      await cache.incr(window, 61000);
      ctx.set("WWW-Authenticate", 'Bearer realm="chatorder"');
      throw new DomainError("unauthorized", "a valid API key is required: Authorization: Bearer <key>");
    }
    ctx.state.actor = actor;
    await next();
  };
}
