import crypto from "node:crypto";
import Router from "@koa/router";
import { getJsApiSignature } from "@wecom/crypto";
import type { Logger } from "pino";
import { z } from "zod";
import type { WecomConfig } from "../../config";
import { DomainError } from "../../domain/errors";
import { parse } from "../../http/parse";
import type { Sessions } from "../../http/session";
import { ChannelError } from "../channel";
import type { WecomClient } from "./client";
import { signingUrl } from "../signing-url";

export interface WecomJssdkDeps {
  config: WecomConfig;
  /** Only pages on PUBLIC_URL's origin are signed. */
  publicUrl: string;
  client: WecomClient;
  sessions: Sessions;
  now: () => Date;
  log: Logger;
}

export const WECOM_JSSDK_PATH = "/wecom/jssdk-config";

const Query = z.object({ url: z.string({ message: "the page URL is required" }).min(1).max(2048) });

/** The fields wx.config / ww.register's getConfigSignature expect (wecom.md 6.4, 6.5). */
interface Signed {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/**
 * GET /wecom/jssdk-config?url=<page URL>: signatures for wx.config (corp ticket) and wx.agentConfig
 * (agent ticket) of a page of ours, for a signed-in member (wecom.md 6.2–6.4). The tickets never
 * leave the server.
 */
export function wecomJssdkRoutes(deps: WecomJssdkDeps): Router {
  const { config, client } = deps;
  const origin = new URL(deps.publicUrl).origin;
  const router = new Router();

  router.get(WECOM_JSSDK_PATH, async function wecomJssdkConfig(ctx) {
    ctx.set("Cache-Control", "no-store");
    if (!deps.sessions.read(ctx)) throw new DomainError("unauthorized", "sign in through WeCom first");
    const page = signingUrl(parse(Query, ctx.query, "query").url, origin);

    let tickets: [string, string];
    try {
      tickets = await Promise.all([client.jsapiTicket("corp"), client.jsapiTicket("agent")]);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      // Logged by the client; the page can retry wx.config later.
      ctx.status = 503;
      ctx.body = { error: { code: "platform_unavailable", message: "WeCom did not give us a JS-SDK ticket; try again shortly" } };
      return;
    }
    // Seconds, not milliseconds (40093, wecom.md gotcha 8).
    const timestamp = Math.floor(deps.now().getTime() / 1000);
    const nonceStr = crypto.randomBytes(8).toString("hex");
    const sign = (ticket: string): Signed => ({ timestamp, nonceStr, signature: getJsApiSignature({ url: page, ticket, nonceStr, timestamp }).signature });
    const corp = sign(tickets[0]);
    const agent = sign(tickets[1]);
    ctx.body = {
      config: { appId: config.corpId, ...corp },
      agentConfig: { corpid: config.corpId, agentid: config.agentId, ...agent },
    };
  });
  return router;
}

