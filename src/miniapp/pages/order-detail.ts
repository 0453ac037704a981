import type Router from "@koa/router";
import { redactOrderView, visibleFields } from "../../domain/field-visibility";
import { t } from "../../domain/i18n";
import { FLASHES, loadVisibleOrder } from "../access";
import type { PageContext } from "../page";
import { localeOfCtx, orderIdOf, viewerOf } from "../page";
import { actionsFor, presentCustomerNotices, presentTimeline, timelineUserIds } from "../present-order";

/** A flash key from the query (?done=approved) as words; anything else shows nothing. */
export function flashOf(query: unknown, locale: Parameters<typeof t>[0]): string | null {
  const done = typeof query === "string" ? query : "";
  return (FLASHES as readonly string[]).includes(done) ? t(locale, `flash.${done as (typeof FLASHES)[number]}`) : null;
}

/** GET /m/orders/:id: lines, totals, approvals, shipments, customer notices, payments, history, and what I may do. */
export function orderDetailPages(router: Router, { deps, render }: PageContext): void {
  router.get("/orders/:id", async function orderDetail(ctx) {
    const viewer = viewerOf(ctx);
    const locale = localeOfCtx(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const entries = await deps.services.loadOrderTimeline(view.id);
    const names = await deps.services.userNames(timelineUserIds(entries));
    render(ctx, "m/order-detail.njk", {
      title: view.orderNo,
      back: "/m/orders",
      order: redactOrderView(view, visibleFields(viewer.actor)),
      actions: actionsFor(viewer, view),
      notices: presentCustomerNotices(view, locale),
      timeline: presentTimeline(entries, names, locale).reverse(),
      flash: flashOf(ctx.query.done, locale),
    });
  });
}
