import type { Context, Next } from "koa";
import { DomainError } from "../domain/errors";
import { localeOf, type Locale } from "../domain/i18n";
import type { MiniAppDeps } from "./deps";

export const LANG_COOKIE = "co_lang";

/** The page's language before anyone is signed in: this browser's choice (a cookie), else Chinese. */
export function localeFrom(ctx: Context): Locale {
  return localeOf(ctx.cookies.get(LANG_COOKIE) ?? null);
}

/** Tells this browser the language, for the pages it sees before signing in (sign-in, error pages). */
export function rememberLocale(ctx: Context, locale: Locale): void {
  ctx.cookies.set(LANG_COOKIE, locale, { httpOnly: true, sameSite: "lax", path: "/", maxAge: 365 * 24 * 3600 * 1000, overwrite: true });
}

/**
 * Loads the signed-in person into ctx.state.viewer; none → unauthorized, which the error page turns
 * into a sign-in (or an explanation). Runs before any page, so no handler forgets it.
 */
export function requireViewer(deps: MiniAppDeps) {
  return async function loadSignedIn(ctx: Context, next: Next) {
    ctx.state.locale = localeFrom(ctx);
    const session = deps.sessions.read(ctx);
    if (!session) throw new DomainError("unauthorized", "sign in first");
    ctx.state.viewer = await deps.services.loadViewer(session.userId);
    // Signed in, the person's own choice counts, wherever they made it (here or in chat); the cookie only
    // speaks for the pages seen before signing in, so it is brought in line when it says otherwise.
    ctx.state.locale = ctx.state.viewer.locale;
    if (ctx.cookies.get(LANG_COOKIE) !== ctx.state.locale) rememberLocale(ctx, ctx.state.locale);
    await next();
  };
}

/**
 * Where someone without a session signs in: inside WeCom its OAuth, inside DingTalk its free-login
 * page (told apart by the WebView's user agent); null when neither applies.
 */
export function signInUrl(ctx: Context, signIn: MiniAppDeps["signIn"]): string | null {
  if (ctx.method !== "GET" || ctx.path.startsWith("/m/api/")) return null;
  const ua = ctx.get("User-Agent");
  const next = encodeURIComponent(ctx.originalUrl);
  if (signIn.wecom && /wxwork/i.test(ua)) return `/wecom/oauth?next=${next}`;
  if (signIn.dingtalk && /dingtalk/i.test(ua)) return `/dingtalk/h5?next=${next}`;
  return null;
}
