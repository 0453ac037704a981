import crypto from "node:crypto";

/** A customer group's custom robot (dingtalk.md 4): the webhook URL, and its signing secret if it has one. */
export interface RobotWebhook {
  url: string;
  secret: string | null;
}

const OFFICIAL_HOST = "oapi.dingtalk.com";

/**
 * The webhook URL when `target` is a custom robot's (…/robot/send?access_token=…) on the official host
 * or our configured OAPI host, else null: targets come from imported customer data and must not send
 * our traffic (and the signature) elsewhere.
 */
export function robotWebhookUrl(target: string, oapiBase: string): URL | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const configured = new URL(oapiBase);
  const hosts = new Set([OFFICIAL_HOST, configured.host]);
  if (!hosts.has(url.host) || url.pathname !== "/robot/send" || !url.searchParams.get("access_token")) return null;
  if (url.protocol !== "https:" && url.host !== configured.host) return null;
  return url;
}

/** The signed URL: sign = urlencode(base64(HmacSHA256(secret, timestamp + "\n" + secret))), ms timestamp (dingtalk.md 4). */
export function signedWebhookUrl(url: URL, secret: string | null, now: Date): string {
  if (!secret) return url.toString();
  const timestamp = String(now.getTime());
  const sign = crypto.createHmac("sha256", secret).update(`${timestamp}\n${secret}`).digest("base64");
  const signed = new URL(url.toString());
  signed.searchParams.set("timestamp", timestamp);
  signed.searchParams.set("sign", sign); // URLSearchParams percent-encodes it
  return signed.toString();
}

/** The pacing bucket of a robot, keyed by a hash: the access_token is a credential, cache keys are not secret. */
export function dingtalkRobotBucket(target: string): string | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const token = url.searchParams.get("access_token");
  if (!token || !url.pathname.endsWith("/robot/send")) return null;
  return `robot:dingtalk:${crypto.createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}
