import type Router from "@koa/router";
import type { MessageKey } from "../../domain/i18n";
import type { PageContext } from "../page";
import { viewerOf } from "../page";
import { rememberLocale } from "../viewer";
import { DomainError } from "../../domain/errors";
import { localeOf } from "../../domain/i18n";

/** GET /m: what needs me, by role; GET /m/lang: switch language. */
export function homePages(router: Router, { deps, render }: PageContext): void {
  router.get("/", async function home(ctx) {
    const viewer = viewerOf(ctx);
    const counts = await deps.services.countWork(viewer.actor);
    const tiles: Array<{ label: MessageKey; count: number | null; href: string }> = [
      { label: "home.drafts", count: counts.drafts, href: "/m/orders?status=draft" },
      { label: "home.rejected", count: counts.rejected, href: "/m/orders?status=rejected" },
      { label: "home.toApprove", count: counts.toApprove, href: "/m/approvals" },
      { label: "home.toPick", count: counts.toPick, href: "/m/warehouse?stage=pick" },
      { label: "home.toShip", count: counts.toShip, href: "/m/warehouse?stage=ship" },
    ];
    const shown = tiles.filter((tile) => tile.count !== null);
    render(ctx, "m/home.njk", { title: "ChatOrder", tiles: shown, busy: shown.some((tile) => (tile.count ?? 0) > 0) });
  });

  router.get("/lang", async function switchLanguage(ctx) {
    const asked = String(ctx.query.to ?? "");
    // Exactly one of ours: anything else is a broken link, and must not quietly switch anyone to Chinese.
    if (asked !== "en" && asked !== "zh-CN") throw new DomainError("validation_failed", "to must be en or zh-CN", { path: "query.to" });
    const to = localeOf(asked);
    // Kept on the person too, so the bot's messages and cards follow the choice made here.
    await deps.services.setUserLocale(viewerOf(ctx).id, to);
    rememberLocale(ctx, to);
    const next = String(ctx.query.next ?? "/m");
    ctx.redirect(/^\/m(\/[\w\-/]*)?$/.test(next) ? next : "/m");
  });
}
