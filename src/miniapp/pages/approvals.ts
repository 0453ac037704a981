import type Router from "@koa/router";
import { redactOrderView, visibleFields } from "../../domain/field-visibility";
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
    const see = visibleFields(viewer.actor);
    const shown = items.map((item) => ({ ...item, order: redactOrderView(item.order, see) }));
    render(ctx, "m/approvals.njk", { title: t(locale, "approvals.title"), items: shown, flash: flashOf(ctx.query.done, locale) });
  });
}
