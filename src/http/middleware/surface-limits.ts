import type { Context, Middleware, Next } from "koa";
import { DINGTALK_JSAPI_CONFIG_PATH, DINGTALK_SESSION_PATH } from "../../channels/dingtalk/h5";
import { DINGTALK_ACT_PATH, DINGTALK_H5_PATH } from "../../channels/dingtalk/links";
import { WECOM_JSSDK_PATH } from "../../channels/wecom/jssdk";
import { WECOM_OAUTH_PATH } from "../../channels/wecom/oauth";
import { WECOM_CALLBACK_PATH } from "../../channels/wecom/routes";
import type { Config } from "../../config";
import { rateLimit, type RateLimiter } from "./rate-limit";

/** Platform callbacks: a 429 is not "success", so WeCom delivers the message again later (wecom.md 2.3). */
const CALLBACK_PATHS = new Set([WECOM_CALLBACK_PATH]);
/**
 * Where a visitor without an API key or a session makes us do work or call a platform: sign-in (OAuth
 * code exchange, DingTalk free-login), JS-SDK signatures, DingTalk action links, the simulator's login.
 */
const SIGN_IN_PATHS = new Set([WECOM_OAUTH_PATH, WECOM_JSSDK_PATH, DINGTALK_H5_PATH, DINGTALK_SESSION_PATH, DINGTALK_JSAPI_CONFIG_PATH, DINGTALK_ACT_PATH, "/dev/login"]);

const byIp = (ctx: Context) => ctx.ip || "unknown";

/**
 * Per-client-IP limits on the surfaces that have no API key to limit by. The API's own per-IP limit
 * sits in front of its key check (server.ts) and the mini-app's POST limit is per signed-in person
 * (miniapp/routes.ts). ctx.ip is the client's address only when TRUST_PROXY/PROXY_HOPS match the
 * proxies in front (README: running behind a proxy).
 */
export function surfaceLimits(limiter: RateLimiter, limits: Config["http"]["ipRateLimits"]): Middleware {
  const callbacks = rateLimit(limiter, { ...callbackLimit(limits), keyOf: byIp });
  const signIn = rateLimit(limiter, { name: "ip-signin", perMinute: limits.signInPerMin, keyOf: byIp });
  return async function limitSurfaces(ctx: Context, next: Next) {
    if (CALLBACK_PATHS.has(ctx.path)) return callbacks(ctx, next);
    if (SIGN_IN_PATHS.has(ctx.path)) return signIn(ctx, next);
    return next();
  };
}

/** The per-IP limit of platform callbacks; the same counter whether Koa or a direct route answers. */
export function callbackLimit(limits: Config["http"]["ipRateLimits"]): { name: string; perMinute: number } {
  return { name: "ip-callback", perMinute: limits.callbackPerMin };
}

/** The API's per-IP limit, before the key check, so floods of bad keys are limited too. */
export function apiIpLimit(limiter: RateLimiter, perMinute: number): Middleware {
  return rateLimit(limiter, { name: "ip-api", perMinute, keyOf: byIp });
}
