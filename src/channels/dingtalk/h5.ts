import crypto from "node:crypto";
import Router from "@koa/router";
import nunjucks from "nunjucks";
import type { Logger } from "pino";
import { z } from "zod";
import type { DingtalkConfig } from "../../config";
import { DomainError } from "../../domain/errors";
import { t } from "../../domain/i18n";
import type { Assets } from "../../http/assets";
import { jsonBody } from "../../http/middleware/json-body";
import { localeFrom } from "../../miniapp/viewer";
import { parse } from "../../http/parse";
import type { Sessions } from "../../http/session";
import type { ServiceDeps } from "../../services/deps";
import { findPlatformUser, type UserView } from "../../services/users";
import { refreshWithLeader } from "../directory-members";
import { ChannelError } from "../channel";
import { DingtalkApiError, type DingtalkClient } from "./client";
import type { DingtalkDirectory } from "./directory";
import { DINGTALK_H5_PATH, safeNext } from "./links";
import { signingUrl } from "../signing-url";

export interface DingtalkH5Deps {
  config: DingtalkConfig;
  publicUrl: string;
  client: DingtalkClient;
  directory: DingtalkDirectory;
  sessions: Sessions;
  serviceDeps: ServiceDeps;
  log: Logger;
  now: () => Date;
  /** miniapp/views: holds dingtalk-h5.njk. */
  viewsDir: string;
  /** The esbuild bundles; "dingtalk" is the dingtalk-jsapi build. */
  assets: Assets;
}

export const DINGTALK_SESSION_PATH = "/dingtalk/h5/session";
export const DINGTALK_JSAPI_SRC = "/dingtalk/static/dingtalk-jsapi.js";
export const DINGTALK_JSAPI_CONFIG_PATH = "/dingtalk/jsapi-config";

const SessionBody = z.object({ code: z.string().regex(/^[\x21-\x7e]{1,512}$/, "must be the auth code from requestAuthCode"), next: z.string().max(1024).optional() });
const ConfigQuery = z.object({ url: z.string({ message: "the page URL is required" }).min(1).max(2048) });

/**
 * The H5 micro-app's sign-in (dingtalk.md 6): a page that asks dingtalk-jsapi for a free-login code,
 * an endpoint that trades it (topapi/v2/user/getuserinfo) for the same signed session the WeCom pages
 * use, the jsapi bundle itself, and dd.config signatures for biz.util.scan.
 */
export function dingtalkH5Routes(deps: DingtalkH5Deps): Router {
  const { config, client, log } = deps;
  const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(deps.viewsDir), { autoescape: true });
  const origin = new URL(deps.publicUrl).origin;
  const router = new Router();

  router.get(DINGTALK_H5_PATH, async function dingtalkH5(ctx) {
    ctx.set("Cache-Control", "no-store");
    const next = safeNext(ctx.query.next);
    // Nobody is signed in yet: the language this browser chose in the mini-app, else Chinese.
    const locale = localeFrom(ctx);
    const failed = t(locale, "signin.dingtalkFailed");
    const cfg = { corpId: config.corpId, clientId: config.clientId, next, sessionUrl: DINGTALK_SESSION_PATH, failed, outside: t(locale, "signin.dingtalkOutside") };
    ctx.type = "text/html; charset=utf-8";
    ctx.body = views.render("dingtalk-h5.njk", {
      lang: locale,
      title: t(locale, "signin.dingtalkWaiting"),
      waiting: t(locale, "signin.dingtalkWaitingDetail"),
      jsapiSrc: DINGTALK_JSAPI_SRC,
      pageSrc: deps.assets.url("dingtalk-pages"),
      cssSrc: deps.assets.url("plain-pages-css"),
      // Inside <script type="application/json">: "<" escaped so no text can close the element.
      configJson: JSON.stringify(cfg).replace(/</g, "\\u003c"),
    });
  });

  router.post(DINGTALK_SESSION_PATH, jsonBody(4), async function dingtalkSignIn(ctx) {
    ctx.set("Cache-Control", "no-store");
    const body = parse(SessionBody, ctx.request.body, "body");
    const userid = await whoIsThis(body.code);
    if (userid === null) {
      // Logged by the client; the page shows the message and the person can try again.
      ctx.status = 503;
      ctx.body = { error: { code: "platform_unavailable", message: "钉钉暂时繁忙，请稍后再试。" } };
      return;
    }
    const user = (await findPlatformUser(deps.serviceDeps, "dingtalk", userid)) ?? (await firstSignIn(userid));
    if (!user.active) throw new DomainError("forbidden", "this account is deactivated");
    deps.sessions.start(ctx, user.id);
    ctx.body = { next: safeNext(body.next) };
  });

  router.get(DINGTALK_JSAPI_SRC, async function dingtalkJsapi(ctx) {
    ctx.type = "text/javascript; charset=utf-8";
    ctx.set("Cache-Control", "public, max-age=86400");
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.body = deps.assets.read("dingtalk");
  });

  router.get(DINGTALK_JSAPI_CONFIG_PATH, async function dingtalkJsapiConfig(ctx) {
    ctx.set("Cache-Control", "no-store");
    if (!deps.sessions.read(ctx)) throw new DomainError("unauthorized", "sign in through DingTalk first");
    const url = signingUrl(parse(ConfigQuery, ctx.query, "query").url, origin);
    let ticket: string;
    try {
      ticket = await client.jsapiTicket();
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      ctx.status = 503;
      ctx.body = { error: { code: "platform_unavailable", message: "DingTalk did not give us a JSAPI ticket; try again shortly" } };
      return;
    }
    const timeStamp = String(deps.now().getTime());
    const nonceStr = crypto.randomBytes(8).toString("hex");
    ctx.body = { agentId: String(config.agentId), corpId: config.corpId, timeStamp, nonceStr, signature: jsapiSignature(ticket, nonceStr, timeStamp, url), type: 0, jsApiList: ["biz.util.scan"] };
  });

  /** topapi/v2/user/getuserinfo (dingtalk.md 6): the member's userid for a free-login code. */
  async function whoIsThis(code: string): Promise<string | null> {
    let res;
    try {
      res = await client.oapi("/topapi/v2/user/getuserinfo", { code });
    } catch (err) {
      if (err instanceof ChannelError && err.failure === "retry_later") return null;
      if (err instanceof DingtalkApiError) throw new DomainError("unauthorized", "the sign-in code was refused; open the page again from DingTalk");
      throw err;
    }
    const result = (res.result ?? {}) as Record<string, unknown>;
    const userid = typeof result.userid === "string" ? result.userid : "";
    if (!userid) throw new DomainError("forbidden", "only members of this organisation can sign in");
    return userid;
  }

  /** First visit: the member from the directory, with the roles DINGTALK_ROLE_MAP gives them (and their leader). */
  async function firstSignIn(userid: string): Promise<UserView> {
    const record = await deps.directory.lookup(userid);
    if (!record.found || !record.active) throw new DomainError("forbidden", "no active account in the DingTalk directory");
    const { user } = await refreshWithLeader(deps.serviceDeps, record, (id) => deps.directory.lookup(id), { create: true });
    if (!user) throw new Error("user was neither found nor created");
    log.info({ platform: "dingtalk", userId: user.id, roles: user.roles }, "user created on first sign-in");
    return user;
  }

  return router;
}

/** sha1 over the four fields in this order (dingtalk.md 6). */
export function jsapiSignature(ticket: string, nonceStr: string, timeStamp: string, url: string): string {
  return crypto.createHash("sha1").update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timeStamp}&url=${url}`).digest("hex");
}

