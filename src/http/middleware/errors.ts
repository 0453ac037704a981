import type { Context, Next } from "koa";
import type { Logger } from "pino";
import { DomainError, type ErrorCode } from "../../domain/errors";

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 422,
  not_found: 404,
  forbidden: 403,
  unauthorized: 401,
  invalid_transition: 409,
  insufficient_stock: 409,
  idempotency_conflict: 409,
  step_not_pending: 409,
  not_an_approver: 403,
  no_approver: 422,
  on_hand_below_reserved: 409,
  overpayment: 409,
  quantity_exceeded: 422,
  conflict: 409,
  rate_limited: 429,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  payload_too_large: 413,
  invalid_json: 400,
  unavailable: 503,
};

/** Errors thrown by Koa helpers (body parser, ctx.throw) carry a status; give them our shape and a code. */
function fromHttpError(err: { status?: number; expose?: boolean; message?: string; type?: string }): DomainError | null {
  switch (err.status) {
    case 400:
      return new DomainError("invalid_json", "request body is not valid JSON");
    case 413:
      return new DomainError("payload_too_large", "request body is too large");
    case 415:
      return new DomainError("unsupported_media_type", "send the body as application/json");
    default:
      return null;
  }
}

/** Every error leaves as `{ error: { code, message, details } }`; unknown ones are logged once and become a plain 500. */
export function errorHandler(log: Logger) {
  return async function handleErrors(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new DomainError("not_found", `no route for ${ctx.method} ${ctx.path}`);
      }
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw new DomainError("method_not_allowed", `${ctx.path} does not accept ${ctx.method}`, { allow: ctx.response.get("Allow") });
      }
    } catch (raw) {
      const answer = errorAnswer(raw, (ctx.state.log as Logger | undefined) ?? log, ctx.method, ctx.path);
      ctx.status = answer.status;
      ctx.body = answer.body;
      if (answer.allow) ctx.set("Allow", answer.allow);
    }
  };
}

/** The status and `{ error }` body for anything thrown while handling a request; unknown errors are logged here, once. */
export function errorAnswer(raw: unknown, log: Logger, method: string, path: string): { status: number; body: { error: { code: string; message: string; details?: Record<string, unknown> } }; allow?: string } {
  const err = raw instanceof DomainError ? raw : fromHttpError(raw as { status?: number });
  if (err) {
    const body = { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
    const allow = err.code === "method_not_allowed" && err.details?.allow ? String(err.details.allow) : undefined;
    return { status: STATUS[err.code] ?? 400, body, allow };
  }
  log.error({ err: raw, method, path }, "unhandled error");
  return { status: 500, body: { error: { code: "internal", message: "something went wrong on our side; it has been logged" } } };
}
