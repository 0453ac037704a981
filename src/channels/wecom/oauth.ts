import crypto from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import type { Logger } from "pino";
import type { WecomConfig } from "../../config";
import type { Assets } from "../../http/assets";
import type { Sessions } from "../../http/session";
import type { ServiceDeps } from "../../services/deps";
import { findPlatformUser, type UserView } from "../../services/users";
import { refreshWithLeader } from "../directory-members";
import { t, type MessageKey } from "../../domain/i18n";
import { localeFrom } from "../../miniapp/viewer";
import { ChannelError } from "../channel";
import { WecomApiError, type WecomClient } from "./client";
import { OAUTH_NONCE, authorizeUrl, oauthState, safeNext } from "./links";
import type { WecomDirectory } from "./roles";

export interface WecomOAuthDeps {
  config: WecomConfig;
  /** PUBLIC_URL: its host must be one of the app's trusted domains (wecom.md 6.1). */
  publicUrl: string;
  client: WecomClient;
  directory: WecomDirectory;
  sessions: Sessions;
  serviceDeps: ServiceDeps;
  log: Logger;
  /** The esbuild bundles: the refusal page's stylesheet ("plain-pages-css"; no inline style under the CSP). */
  assets: Assets;
}

export const WECOM_OAUTH_PATH = "/wecom/oauth";

const STATE = /^[A-Za-z0-9]{1,128}$/; // wecom.md 6.1
/** What links.ts issued before sign-ins were bound to a browser nonce: the keyed hash alone. */
const OLD_STATE = /^[a-f0-9]{32}$/;
/** The sign-in's browser nonce: only /wecom/oauth reads it, and a sign-in takes seconds. */
const NONCE_COOKIE = "co_oauth";
const NONCE_TTL_MS = 10 * 60 * 1000;
const CODE = /^[\x21-\x7e]{1,512}$/; // "≤512 bytes" (wecom.md 6.1); printable ASCII to be safe in logs and pages
// Controls, space, DEL and backslash: none belongs in a path we redirect to.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHAR = /[\x00-\x20\x7f\\]/;
const INVALID_CODE = 40029; // used twice or older than 5 minutes (wecom.md 3.2)
const NO_PERMISSION = 60011; // outside the app's visibility (wecom.md 3.2, 8.1)

/** What the visitor sees when sign-in does not work: a short page, never a stack trace. */
class SignInRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: MessageKey,
    readonly detail: MessageKey,
    /** A link that starts sign-in again, when that could help. */
    readonly retry?: string,
    /** WeCom's errcode, shown so the admin can look it up. */
    readonly errcode: number | null = null,
  ) {
    super(title);
  }
}

/**
 * A `next` we are willing to send someone to: a path on our own site. Stricter than safeNext: browsers
 * drop tabs and newlines from URLs, so "/\t/evil.com" would become "//evil.com".
 */
export function ownPath(next: unknown): string {
  if (typeof next !== "string" || next.length > 1024 || UNSAFE_CHAR.test(next)) return safeNext("");
  const path = safeNext(next);
  const base = new URL("https://own.invalid");
  return new URL(path, base).origin === base.origin ? path : safeNext("");
}

/**
 * GET /wecom/oauth: the page links from cards land on (links.ts miniAppLink). Without a code it is an
 * entry point and sends the browser to WeCom's silent authorize page; with one it checks the state,
 * asks WeCom who this is (wecom.md 6.1), signs them in and goes on to `next`.
 */
export function wecomOAuthRoutes(deps: WecomOAuthDeps): Router {
  const { config, publicUrl, client, log } = deps;
  const router = new Router();

  router.get(WECOM_OAUTH_PATH, async function wecomSignIn(ctx) {
    ctx.set("Cache-Control", "no-store");
    const { code, state, next } = ctx.query;
    try {
      if (code === undefined && state === undefined) return void startSignIn(ctx, ownPath(next));
      // A card sent before sign-ins were tied to the browser carries the old, nonce-less state: start again.
      if (typeof state === "string" && OLD_STATE.test(state) && typeof next === "string") return void startSignIn(ctx, ownPath(next));
      const landing = checkCallback(code, state, next, ctx.cookies.get(NONCE_COOKIE));
      ctx.cookies.set(NONCE_COOKIE, null, { path: WECOM_OAUTH_PATH });
      const userid = await whoIsThis(code as string, landing);
      const user = (await findPlatformUser(deps.serviceDeps, "wecom", userid)) ?? (await firstSignIn(userid));
      deps.sessions.start(ctx, user.id);
      ctx.redirect(landing);
    } catch (err) {
      if (err instanceof SignInRefusal) return page(ctx, deps.assets, err);
      log.error({ err, platform: "wecom" }, "wecom sign-in failed");
      page(ctx, deps.assets, new SignInRefusal(500, "signin.failed", "signin.serverError"));
    }
  });

  /** A fresh nonce in this browser, then WeCom's authorize page with a state bound to it and to `landing`. */
  function startSignIn(ctx: Context, landing: string) {
    const nonce = crypto.randomBytes(16).toString("hex");
    ctx.cookies.set(NONCE_COOKIE, nonce, { httpOnly: true, sameSite: "lax", path: WECOM_OAUTH_PATH, maxAge: NONCE_TTL_MS, overwrite: true });
    ctx.redirect(authorizeUrl(config, publicUrl, landing, nonce));
  }

  /**
   * The path to land on, once code and state are well-formed, the state is one we issued for `next`, and
   * this browser holds the nonce it was issued with (so nobody can hand someone else a sign-in of their own).
   */
  function checkCallback(code: unknown, state: unknown, next: unknown, cookieNonce: string | undefined): string {
    if (typeof state !== "string" || !STATE.test(state) || typeof next !== "string") {
      throw new SignInRefusal(400, "signin.badLink", "signin.badLinkDetail");
    }
    const nonce = state.slice(0, 32);
    const expected = Buffer.from(oauthState(config, next, nonce));
    const given = Buffer.from(state);
    if (!OAUTH_NONCE.test(nonce) || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      throw new SignInRefusal(400, "signin.badLink", "signin.badLinkDetail");
    }
    if (cookieNonce !== nonce) {
      // A state we issued, but to another browser (or longer ago than the nonce lives): a fresh start, never a sign-in.
      throw new SignInRefusal(400, "signin.expired", "signin.otherBrowser", retryLink(ownPath(next)));
    }
    // The state proves we issued `next`; checking it again costs nothing and keeps this no open redirect.
    const landing = ownPath(next);
    if (typeof code !== "string" || !CODE.test(code)) {
      throw new SignInRefusal(400, "signin.badLink", "signin.noCode", retryLink(landing));
    }
    return landing;
  }

  /** auth/getuserinfo (wecom.md 6.1): the member's userid; refuses outsiders and used-up codes. */
  async function whoIsThis(code: string, landing: string): Promise<string> {
    let res;
    try {
      res = await client.get("/cgi-bin/auth/getuserinfo", { code });
    } catch (err) {
      if (err instanceof WecomApiError && err.errcode === INVALID_CODE) {
        // Codes are single-use and live 5 minutes; a prefetch or a double tap spends them (gotcha 7).
        throw new SignInRefusal(400, "signin.expired", "signin.expiredDetail", retryLink(landing));
      }
      throw wecomTrouble(err);
    }
    // The current endpoint answers `userid`; the legacy user/getuserinfo shape is `UserId` (wecom.md 6.1).
    const userid = [res.userid, res.UserId].find((v): v is string => typeof v === "string" && v !== "");
    if (userid) return userid;
    // openid / external_userid (or the legacy OpenId): a customer or a WeChat user, not a member.
    log.info({ platform: "wecom", external: typeof res.external_userid === "string" }, "wecom sign-in by a non-member refused");
    throw new SignInRefusal(403, "signin.membersOnly", "signin.membersOnlyDetail");
  }

  /** First visit: the member from the directory, with the roles WECOM_ROLE_MAP gives them (and their leader). */
  async function firstSignIn(userid: string): Promise<UserView> {
    let record;
    try {
      record = await deps.directory.lookup(userid);
    } catch (err) {
      if (err instanceof WecomApiError && err.errcode === NO_PERMISSION) {
        throw new SignInRefusal(403, "signin.notVisible", "signin.notVisibleDetail");
      }
      throw wecomTrouble(err);
    }
    if (!record.found || !record.active) throw new SignInRefusal(403, "signin.noAccount", "signin.noAccountDetail");
    const { user } = await refreshWithLeader(deps.serviceDeps, record, (id) => deps.directory.lookup(id), { create: true });
    if (!user) throw new Error("user was neither found nor created");
    log.info({ platform: "wecom", userId: user.id, roles: user.roles }, "user created on first sign-in");
    return user;
  }

  function wecomTrouble(err: unknown): unknown {
    if (!(err instanceof ChannelError)) return err;
    // The client has logged the call; here only what the visitor is told.
    if (err.failure === "retry_later") return new SignInRefusal(503, "signin.busy", "signin.busyDetail");
    const code = err instanceof WecomApiError && err.errcode !== null ? err.errcode : null;
    return new SignInRefusal(502, "signin.failed", "signin.refusedDetail", undefined, code);
  }

  return router;
}

const retryLink = (landing: string) => `${WECOM_OAUTH_PATH}?next=${encodeURIComponent(landing)}`;

function page(ctx: Context, assets: Assets, refusal: SignInRefusal) {
  // Nobody is signed in yet: the language this browser chose in the mini-app, else Chinese.
  const locale = localeFrom(ctx);
  const title = t(locale, refusal.title);
  const errcode = refusal.errcode === null ? "" : t(locale, "signin.errcode", { code: refusal.errcode });
  ctx.status = refusal.status;
  ctx.type = "text/html; charset=utf-8";
  const retry = refusal.retry ? `<p><a href="${escapeHtml(refusal.retry)}">${escapeHtml(t(locale, "signin.retry"))}</a></p>` : "";
  ctx.body = `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${assets.url("plain-pages-css")}"></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(t(locale, refusal.detail, { errcode }))}</p>${retry}</body></html>
`;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
