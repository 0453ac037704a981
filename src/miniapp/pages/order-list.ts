import type Router from "@koa/router";
import { z } from "zod";
import { ORDER_STATUSES } from "../../domain/order-state";
import { visibleRepIds } from "../../domain/order-access";
import { unpricedRow, visibleFields } from "../../domain/field-visibility";
import { hasRole } from "../../domain/roles";
import { parse } from "../../http/parse";
import type { PageContext } from "../page";
import { localeOfCtx, viewerOf } from "../page";
import { t } from "../../domain/i18n";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const Query = z.object({
  scope: z.enum(["mine", "team", "all"]).optional(),
  status: z.union([z.enum(ORDER_STATUSES), z.literal("")]).optional(),
  from: z.union([z.string().regex(DAY), z.literal("")]).optional(),
  to: z.union([z.string().regex(DAY), z.literal("")]).optional(),
  q: z.string().trim().max(64).optional(),
  cursor: z.string().max(64).optional(),
});

// A calendar day in Shanghai, as the UTC instant it starts at.
const shanghaiDay = (day: string, plusDays = 0) => new Date(Date.parse(`${day}T00:00:00+08:00`) + plusDays * 86_400_000);

/** GET /m/orders: my orders, my team's, or everyone's (by role), filtered and paged by cursor. */
export function orderListPages(router: Router, { deps, render }: PageContext): void {
  router.get("/orders", async function orderList(ctx) {
    const viewer = viewerOf(ctx);
    const q = parse(Query, ctx.query, "query");
    const visible = visibleRepIds(viewer);
    const manages = hasRole(viewer.actor, "manager", "director");
    const scopes = [
      ...(hasRole(viewer.actor, "sales", "manager", "director", "admin") ? (["mine"] as const) : []),
      ...(manages ? (["team"] as const) : []),
      ...(visible === null ? (["all"] as const) : []),
    ];
    const scope = q.scope && (scopes as readonly string[]).includes(q.scope) ? q.scope : (scopes[manages ? 1 : 0] ?? scopes[0] ?? "mine");
    const salesRepIds = scope === "mine" ? [viewer.id] : scope === "team" ? [...viewer.teamIds] : undefined;
    const page = await deps.services.listOrders({
      status: q.status ? [q.status] : undefined,
      salesRepIds,
      from: q.from ? shanghaiDay(q.from) : undefined,
      to: q.to ? shanghaiDay(q.to, 1) : undefined,
      search: q.q || undefined,
      cursor: q.cursor,
      limit: 20,
    });
    const keep = new URLSearchParams(Object.entries({ scope, status: q.status ?? "", from: q.from ?? "", to: q.to ?? "", q: q.q ?? "" }).filter(([, v]) => v));
    const more = page.nextCursor ? `/m/orders?${keep.toString()}&cursor=${encodeURIComponent(page.nextCursor)}` : null;
    // Admins export what they see (everyone's orders) with the same filters.
    const exportKeep = new URLSearchParams(Object.entries({ status: q.status ?? "", from: q.from ?? "", to: q.to ?? "", q: q.q ?? "" }).filter(([, v]) => v));
    const exportUrl = hasRole(viewer.actor, "admin") && scope === "all" ? `/m/admin/export?${exportKeep.toString()}` : null;
    const title = t(localeOfCtx(ctx), scope === "mine" ? "orders.mine" : scope === "team" ? "orders.team" : "orders.all");
    render(ctx, "m/orders.njk", { title, scope, scopes, filters: { status: q.status ?? "", from: q.from ?? "", to: q.to ?? "", q: q.q ?? "" }, statuses: ORDER_STATUSES, orders: visibleFields(viewer.actor).prices ? page.items : page.items.map(unpricedRow), more, exportUrl });
  });
}
