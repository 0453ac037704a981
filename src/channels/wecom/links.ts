import crypto from "node:crypto";
import type { WecomConfig } from "../../config";

/** OAuth2 authorize page (wecom.md 6.1); a browser redirect, so not behind WECOM_API_BASE. */
const AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize";
const OFFICIAL_HOST = "qyapi.weixin.qq.com";

/** Only same-site paths may be a `next`: anything else would make /wecom/oauth an open redirect. */
export function safeNext(path: string): string {
  return path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/m";
}

/** The nonce that ties one sign-in to the browser that started it: 32 hex characters. */
export const OAUTH_NONCE = /^[a-f0-9]{32}$/;

/**
 * OAuth `state` for a `next` path, started by the browser holding `nonce` (in a cookie): [a-zA-Z0-9],
 * at most 128 bytes (wecom.md 6.1). The nonce, then a keyed hash of nonce and path, so /wecom/oauth can
 * check both that `next` is one we issued and that the code comes back to the browser that asked for it:
 * without the second, someone could sign another member into the mini-app as themselves (login CSRF).
 */
export function oauthState(config: WecomConfig, next: string, nonce: string): string {
  return nonce + crypto.createHmac("sha256", config.secret).update(`oauth:${nonce}:${next}`).digest("hex").slice(0, 32);
}

/**
 * The link cards and messages carry into the mini-app: our own /wecom/oauth entry, which starts a silent
 * (snsapi_base) sign-in bound to the browser that opens it (wecom.md 6.1) and lands on `path`.
 */
export function miniAppLink(publicUrl: string, path: string): string {
  return `${publicUrl}/wecom/oauth?next=${encodeURIComponent(safeNext(path))}`;
}

/**
 * WeCom's authorize page for a sign-in started by the browser holding `nonce`: it comes back to
 * `${publicUrl}/wecom/oauth?next=<path>` with a code. publicUrl's host must be one of the app's trusted
 * domains, or WeCom answers 50001.
 */
export function authorizeUrl(config: WecomConfig, publicUrl: string, path: string, nonce: string): string {
  const next = safeNext(path);
  const query = new URLSearchParams({
    appid: config.corpId,
    redirect_uri: miniAppLink(publicUrl, next),
    response_type: "code",
    scope: "snsapi_base",
    state: oauthState(config, next, nonce),
    agentid: String(config.agentId),
  });
  return `${AUTHORIZE_URL}?${query.toString()}#wechat_redirect`; // the fragment is mandatory
}

/**
 * The group-robot key when a customer's target is a robot webhook URL (wecom.md 7.3), else null.
 * Only WeCom's own webhook path on the official host (or our configured API host) is accepted: the
 * target comes from imported customer data and must not send our traffic elsewhere.
 */
export function robotKey(target: string, apiBase: string): string | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const hosts = new Set([OFFICIAL_HOST, new URL(apiBase).host]);
  if (url.protocol !== "https:" && url.host !== new URL(apiBase).host) return null;
  if (!hosts.has(url.host) || url.pathname !== "/cgi-bin/webhook/send") return null;
  return url.searchParams.get("key") || null;
}
