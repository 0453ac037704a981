import type Router from "@koa/router";
import { DomainError } from "../../domain/errors";
import { t } from "../../domain/i18n";
import { hasRole } from "../../domain/roles";
import { businessDay } from "../../domain/time";
import type { Bucket } from "../../services/reports/dashboard";
import type { PageContext } from "../page";
import { localeOfCtx, viewerOf } from "../page";
import { jsonIsland } from "../render";

const BUCKETS: readonly Bucket[] = ["day", "week", "month"];
/** How far back each period switch looks: 30 days by day, 12 weeks by week, 12 months by month. */
const SPAN_DAYS: Record<Bucket, number> = { day: 30, week: 84, month: 365 };

/** GET /m/dashboard: the sales figures for managers, directors and admins; charts drawn by dashboard.js. */
export function dashboardPages(router: Router, { deps, render }: PageContext): void {
  router.get("/dashboard", async function dashboard(ctx) {
    const viewer = viewerOf(ctx);
    if (!hasRole(viewer.actor, "manager", "director", "admin")) throw new DomainError("forbidden", "the dashboard is for managers");
    const locale = localeOfCtx(ctx);
    const bucket = BUCKETS.find((b) => b === ctx.query.period) ?? "day";
    const to = businessDay(new Date()).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");
    const from = new Date(Date.parse(`${to}T00:00:00Z`) - (SPAN_DAYS[bucket] - 1) * 86_400_000).toISOString().slice(0, 10);
    const figures = await deps.services.dashboardFigures({ from, to, bucket, topN: 10 });
    const [products, names] = await Promise.all([
      figures.topProducts.length ? deps.services.listProductsByIds(figures.topProducts.map((p) => p.productId)) : Promise.resolve([]),
      deps.services.userNames(figures.byRep.flatMap((r) => (r.salesRepId ? [r.salesRepId] : []))),
    ]);
    const productName = new Map(products.map((p) => [p.id, p.name]));
    const topProducts = figures.topProducts.map((p) => ({ ...p, name: productName.get(p.productId) ?? `#${p.productId}` }));
    const byRep = figures.byRep.map((r) => ({ ...r, name: r.salesRepId ? (names.get(r.salesRepId) ?? `#${r.salesRepId}`) : t(locale, "dash.noRep") }));
    const f = figures.funnel;
    const funnel = [
      { name: t(locale, "dash.submitted"), value: f.submitted },
      { name: t(locale, "dash.approved"), value: f.approved },
      { name: t(locale, "dash.shipped"), value: f.shipped },
      { name: t(locale, "dash.paid"), value: f.paid },
    ];
    const totalFen = figures.trend.reduce((sum, p) => sum + p.amountFen, 0);
    const totalOrders = figures.trend.reduce((sum, p) => sum + p.orders, 0);
    const approvalHours = figures.averageApprovalSeconds === null ? null : (figures.averageApprovalSeconds / 3600).toFixed(1);
    const island = jsonIsland({ trend: figures.trend, topProducts, byRep, funnel, labels: { amount: t(locale, "dash.amount") } });
    render(ctx, "m/dashboard.njk", {
      title: t(locale, "dash.title"),
      buckets: BUCKETS,
      bucket,
      figures,
      topProducts,
      byRep,
      funnel,
      totalFen,
      totalOrders,
      approvalHours,
      island,
    });
  });
}

