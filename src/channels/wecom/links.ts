import crypto from "node:crypto";
import type { WecomConfig } from "../../config";

/** OAuth2 authorize page (wecom.md 6.1); a browser redirect, so not behind WECOM_API_BASE. */
const AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize";
const OFFICIAL_HOST = "qyapi.weixin.qq.com";

/** Only same-site paths may be a `next`: anything else would make /wecom/oauth an open redirect. */
export function safeNext(path: string): string {
  return path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/m";
}

/**
 * OAuth `state` for a `next` path: [a-zA-Z0-9], at most 128 bytes (wecom.md 6.1). A keyed hash of the
 * path, so the /wecom/oauth handler can check that `next` is one we issued.
 */
export function oauthState(config: WecomConfig, next: string): string {
  return crypto.createHmac("sha256", config.secret).update(`oauth:${next}`).digest("hex").slice(0, 32);
}

/**
 * A silent (snsapi_base) OAuth2 link that lands on `${publicUrl}/wecom/oauth?next=<path>` signed in
 * (wecom.md 6.1). publicUrl's host must be one of the app's trusted domains, or WeCom answers 50001.
 */
export function miniAppLink(config: WecomConfig, publicUrl: string, path: string): string {
  const next = safeNext(path);
  const query = new URLSearchParams({
    appid: config.corpId,
    redirect_uri: `${publicUrl}/wecom/oauth?next=${encodeURIComponent(next)}`,
    response_type: "code",
    scope: "snsapi_base",
    state: oauthState(config, next),
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
