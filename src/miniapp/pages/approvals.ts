import type Router from "@koa/router";
import { t } from "../../domain/i18n";
import type { PageContext } from "../page";
import { localeOfCtx, viewerOf } from "../page";
import { flashOf } from "./order-detail";

/** GET /m/approvals: what waits for my decision, oldest first; decisions POST to /m/orders/:id/decision. */
export function approvalPages(router: Router, { deps, render }: PageContext): void {
  router.get("/approvals", async function approvalInbox(ctx) {
    const viewer = viewerOf(ctx);
    const locale = localeOfCtx(ctx);
    const items = await deps.services.listPendingApprovals({ userId: viewer.id });
    render(ctx, "m/approvals.njk", { title: t(locale, "approvals.title"), items, flash: flashOf(ctx.query.done, locale) });
  });
}
