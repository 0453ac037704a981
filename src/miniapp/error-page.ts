import type { Context, Next } from "koa";
import type { Logger } from "pino";
import { DomainError, type ErrorCode } from "../domain/errors";
import type { MessageKey } from "../domain/i18n";
import { helpers, type Render } from "./render";
import type { MiniAppDeps } from "./deps";
import { signInUrl } from "./viewer";

interface Refusal {
  status: number;
  title: MessageKey;
  detail: MessageKey;
}

const REFUSALS: Partial<Record<ErrorCode, Refusal>> = {
  unauthorized: { status: 401, title: "err.unauthorized", detail: "err.unauthorizedDetail" },
  forbidden: { status: 403, title: "err.forbidden", detail: "err.forbiddenDetail" },
  not_an_approver: { status: 403, title: "err.forbidden", detail: "err.notApprover" },
  not_found: { status: 404, title: "err.notFound", detail: "err.notFoundDetail" },
  invalid_transition: { status: 409, title: "err.transition", detail: "err.transitionDetail" },
  step_not_pending: { status: 409, title: "err.stepNotPending", detail: "err.transitionDetail" },
  conflict: { status: 409, title: "err.conflict", detail: "err.conflictDetail" },
  insufficient_stock: { status: 409, title: "err.stock", detail: "err.transitionDetail" },
  quantity_exceeded: { status: 422, title: "err.validation", detail: "err.validationDetail" },
  validation_failed: { status: 422, title: "err.validation", detail: "err.validationDetail" },
  idempotency_conflict: { status: 409, title: "err.conflict", detail: "err.conflictDetail" },
  rate_limited: { status: 429, title: "err.rateLimited", detail: "err.rateLimitedDetail" },
};
const CSRF: Refusal = { status: 403, title: "err.csrf", detail: "err.csrfDetail" };
const OTHER: Refusal = { status: 400, title: "err.generic", detail: "err.transitionDetail" };

/**
 * Every refusal in the mini-app as a short page in the viewer's language (or, under /m/api, JSON the
 * page's script shows), never a stack trace. Unknown errors are logged once and shown as a plain 500.
 */
export function miniAppErrors(deps: MiniAppDeps, render: Render, log: Logger) {
  return async function showRefusal(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof DomainError)) {
        log.error({ err, method: ctx.method, path: ctx.path }, "mini-app page failed");
        return refuse(ctx, render, { status: 500, title: "err.internal", detail: "err.internalDetail" }, null);
      }
      if (err.code === "unauthorized") {
        const to = signInUrl(ctx, deps.signIn);
        if (to) return void ctx.redirect(to);
      }
      const refusal = err.details?.reason === "csrf" ? CSRF : (REFUSALS[err.code] ?? OTHER);
      refuse(ctx, render, refusal, err, deps.signIn.simulator && err.code === "unauthorized");
    }
  };
}

function refuse(ctx: Context, render: Render, r: Refusal, err: DomainError | null, devHint = false) {
  const h = helpers(ctx.state.locale ?? "zh-CN");
  const field = typeof err?.details?.path === "string" ? `${err.details.path}（${err.message}）` : (err?.message ?? "");
  const title = h.t(r.title);
  // A refusal the mini-app worded itself (already in the viewer's language) is shown as it is.
  const detail = err?.details?.localized === true ? err.message : h.t(r.detail, { field });
  if (ctx.path.startsWith("/m/api/")) {
    ctx.status = r.status;
    ctx.body = { error: { code: err?.code ?? "internal", message: `${title}：${detail}`, ...(err?.details ? { details: err.details } : {}) } };
    return;
  }
  render(ctx, "m/message.njk", { title, detail, devHint, code: err?.code ?? "internal" }, r.status);
}
