import crypto from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import type { Logger } from "pino";
import { z } from "zod";
import type { InboundPipeline } from "../../bot/inbound";
import type { DingtalkConfig } from "../../config";
import type { Db } from "../../db/sequelize";
import type { Assets } from "../../http/assets";
import { DomainError } from "../../domain/errors";
import { jsonBody } from "../../http/middleware/json-body";
import { parse } from "../../http/parse";
import type { Sessions } from "../../http/session";
import { decodeKey } from "./keys";
import { DINGTALK_ACT_PATH, checkActionSignature, miniAppLink } from "./links";

export interface DingtalkActionDeps {
  config: DingtalkConfig;
  publicUrl: string;
  sessions: Sessions;
  inbound: InboundPipeline;
  db: Db;
  log: Logger;
  /** The esbuild bundles: the confirm page's script and styles ("dingtalk-pages"). */
  assets: Assets;
}

const Act = z.object({ k: z.string().min(1).max(1024), s: z.string().regex(/^[A-Za-z0-9_-]{32}$/, "must be the link's signature") });

/**
 * Without a card template, action-card buttons can only open URLs (dingtalk.md 4). They open
 * /dingtalk/act with a signed button key: the signed-in member confirms, and the tap reaches the bot
 * as the same card_action a template callback would. GET only shows the question (link prefetchers
 * must not approve anything); the POST acts, as the member the session says, never as the link says.
 */
export function dingtalkActionRoutes(deps: DingtalkActionDeps): Router {
  const router = new Router();

  function tapOf(ctx: Context, input: unknown) {
    const { k, s } = parse(Act, input, ctx.method === "GET" ? "query" : "body");
    const tapped = checkActionSignature(deps.config, k, s) ? decodeKey(k) : null;
    if (!tapped) throw new DomainError("forbidden", "this link was not issued by ChatOrder");
    return { k, s, tapped };
  }

  router.get(DINGTALK_ACT_PATH, async function dingtalkActionPage(ctx) {
    ctx.set("Cache-Control", "no-store");
    const { k, s } = tapOf(ctx, ctx.query);
    if (!deps.sessions.read(ctx)) return ctx.redirect(miniAppLink(deps.publicUrl, ctx.originalUrl));
    ctx.type = "text/html; charset=utf-8";
    ctx.body = confirmPage(JSON.stringify({ k, s }).replace(/</g, "\\u003c"), deps.assets);
  });

  router.post(DINGTALK_ACT_PATH, jsonBody(4), async function dingtalkAction(ctx) {
    const { k, tapped } = tapOf(ctx, ctx.request.body);
    const session = deps.sessions.read(ctx);
    if (!session) throw new DomainError("unauthorized", "sign in through DingTalk first");
    const user = await deps.db.models.User.findByPk(session.userId);
    if (!user || user.platform !== "dingtalk") throw new DomainError("forbidden", "only DingTalk members can act from DingTalk cards");
    const digest = crypto.createHash("sha256").update(k).digest("base64url").slice(0, 43);
    const { duplicate } = await deps.inbound.receive({
      kind: "card_action",
      key: `act:${digest}:${user.platformUserId}`.slice(0, 191),
      platform: "dingtalk",
      from: user.platformUserId,
      action: tapped.action,
      values: tapped.values,
    });
    deps.log.info({ platform: "dingtalk", action: tapped.action, userId: user.id, duplicate }, "action link used");
    ctx.body = { accepted: true, duplicate };
  });
  return router;
}

/** The question and one button; dingtalk-pages.js posts the island when it is tapped (no inline script: CSP). */
function confirmPage(payload: string, assets: Assets): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>确认操作</title>
<link rel="stylesheet" href="${assets.url("plain-pages-css")}"></head>
<body><h1>确认操作</h1><p id="msg">点击确认后，结果会在钉钉中通知你。</p>
<button id="go" data-url="${DINGTALK_ACT_PATH}" data-ok="已提交，请回到钉钉查看结果。" data-failed="操作失败，请回到钉钉重试。">确认</button>
<script id="act" type="application/json">${payload}</script>
<script src="${assets.url("dingtalk-pages")}"></script></body></html>
`;
}
