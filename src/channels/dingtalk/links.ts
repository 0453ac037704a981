import crypto from "node:crypto";
import type { DingtalkConfig } from "../../config";

/** The H5 micro-app's entry page: free-login, then on to `next` (h5.ts). */
export const DINGTALK_H5_PATH = "/dingtalk/h5";
/** Where an action-card button leads when no card template is configured (actions.ts). */
export const DINGTALK_ACT_PATH = "/dingtalk/act";

/** Only same-site paths may be a `next`, so the sign-in page is never an open redirect. */
export function safeNext(path: unknown): string {
  // Controls, space, DEL and backslash: browsers drop some of them, turning "/\t/evil" into "//evil".
  // eslint-disable-next-line no-control-regex
  if (typeof path !== "string" || path.length > 1024 || /[\x00-\x20\x7f\\]/.test(path)) return "/m";
  if (!path.startsWith("/") || path.startsWith("//")) return "/m";
  const base = new URL("https://own.invalid");
  return new URL(path, base).origin === base.origin ? path : "/m";
}

/** A link that opens `path` in the mini-app, signed in through DingTalk free-login. */
export function miniAppLink(publicUrl: string, path: string): string {
  return `${publicUrl}${DINGTALK_H5_PATH}?next=${encodeURIComponent(safeNext(path))}`;
}

/** A keyed hash of a button key, so /dingtalk/act only performs actions we put on a card. */
export function actionSignature(config: DingtalkConfig, key: string): string {
  return crypto.createHmac("sha256", config.clientSecret).update(`act:${key}`).digest("base64url").slice(0, 32);
}

export function checkActionSignature(config: DingtalkConfig, key: string, sig: string): boolean {
  const expected = Buffer.from(actionSignature(config, key));
  const given = Buffer.from(sig);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** The path of a signed action link for a button key. */
export function actionPath(config: DingtalkConfig, key: string): string {
  return `${DINGTALK_ACT_PATH}?${new URLSearchParams({ k: key, s: actionSignature(config, key) }).toString()}`;
}
