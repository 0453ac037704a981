import type { Context } from "koa";
import nunjucks from "nunjucks";
import { describeReason } from "../domain/approval-reasons";
import type { RouteReason } from "../domain/approval-rules";
import { isMessageKey, statusLabel, t, type Locale, type MessageParams } from "../domain/i18n";
import { visibleFields } from "../domain/field-visibility";
import { formatFen } from "../domain/money";
import { isOrderStatus } from "../domain/order-state";
import { formatShanghai } from "../domain/time";
import type { Assets } from "../http/assets";
import type { MiniAppUser } from "../services/load-viewer";
import { csrfToken } from "./csrf";
import { navFor } from "./nav";

export type Render = (ctx: Context, view: string, data?: Record<string, unknown>, status?: number) => void;

/** Helpers every template gets, in the viewer's language; money and times are formatted only here. */
export function helpers(locale: Locale) {
  return {
    locale,
    t: (key: string, params?: MessageParams) => {
      if (!isMessageKey(key)) throw new Error(`unknown message key ${key}`);
      return t(locale, key, params);
    },
    money: (fen: number) => formatFen(fen),
    time: (iso: string | Date | null) => (iso ? formatShanghai(new Date(iso)) : ""),
    status: (s: string) => (isOrderStatus(s) ? statusLabel(s, locale) : s),
    reason: (r: RouteReason) => describeReason(r, locale),
    pct: (bp: number) => (bp / 100).toFixed(bp % 100 === 0 ? 0 : 1),
  };
}

/** One nunjucks environment for the mini-app's views; `render` adds what the layout needs. */
export function createRender(viewsDir: string, assets: Assets, sessionSecret: string): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir), { autoescape: true, trimBlocks: true, lstripBlocks: true, throwOnUndefined: false });
  const assetUrls = { js: assets.url("app"), css: assets.url("app-css"), wecom: assets.url("wecom"), dingtalk: assets.url("dingtalk"), dashboard: assets.url("dashboard") };
  return (ctx, view, data = {}, status = 200) => {
    const viewer = ctx.state.viewer as MiniAppUser | undefined;
    const locale = (ctx.state.locale as Locale | undefined) ?? "zh-CN";
    const page = {
      ...helpers(locale),
      viewer,
      nav: viewer ? navFor(viewer) : [],
      // Which figures this person may see (domain/field-visibility.ts); pages also leave them out of the data.
      see: viewer ? visibleFields(viewer.actor) : { prices: false, credit: false },
      path: ctx.path,
      csrf: viewer ? csrfToken(sessionSecret, ctx) : "",
      assets: assetUrls,
      ...data,
    };
    ctx.status = status;
    ctx.type = "text/html; charset=utf-8";
    ctx.set("Cache-Control", "no-store");
    // Content-Security-Policy and the other security headers: http/middleware/security-headers.ts.
    ctx.body = env.render(view, page);
  };
}

/** JSON for a <script type="application/json"> island: "<" escaped so no text can close the element. */
export function jsonIsland(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}
