import crypto from "node:crypto";
import type { Context, Next } from "koa";
import { DomainError } from "../domain/errors";
import { SESSION_COOKIE } from "../http/session";

export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

/**
 * The CSRF token of this session: a keyed hash of the session cookie itself, so nothing is stored, a
 * new sign-in gets a new token, and a page of another site can neither read nor forge it.
 */
export function csrfToken(secret: string, ctx: Context): string {
  const cookie = ctx.cookies.get(SESSION_COOKIE) ?? "";
  return crypto.createHmac("sha256", secret).update(`csrf:v1:${cookie}`).digest("base64url");
}

/** Every POST carries the token, in the form field or (fetch from the page) the header. */
export function requireCsrf(secret: string) {
  return async function checkCsrf(ctx: Context, next: Next) {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") {
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const given = String(ctx.get(CSRF_HEADER) || (body && typeof body === "object" ? body[CSRF_FIELD] ?? "" : ""));
      const expected = csrfToken(secret, ctx);
      const ok = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      if (!ok) throw new DomainError("forbidden", "the form has expired or did not come from this site", { reason: "csrf" });
    }
    await next();
  };
}
