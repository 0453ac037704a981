import crypto from "node:crypto";
import type { Context, Next } from "koa";
import type { Logger } from "pino";
import type { Trace } from "../../trace";

const SAFE_ID = /^[A-Za-z0-9._-]{6,64}$/;

/**
 * Gives each request an id (the caller's X-Request-Id when sane) and a child logger carrying it; with
 * `trace`, the id is the current trace id while the request is handled, so outbox rows written for it
 * (and any inbound event it carries) keep it.
 */
export function requestId(log: Logger, trace?: Trace) {
  return async function assignRequestId(ctx: Context, next: Next) {
    const id = requestIdFrom(ctx.get("X-Request-Id"));
    ctx.state.requestId = id;
    // Made on first use: most requests never log, and a pino child per request showed in callback profiles.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, "log", { get: () => (child ??= log.child({ requestId: id })), enumerable: true, configurable: true });
    ctx.set("X-Request-Id", id);
    await (trace ? trace.run(id, next) : next());
  };
}

/** The caller's X-Request-Id when it is a sane token, else a fresh one. */
export function requestIdFrom(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
}
