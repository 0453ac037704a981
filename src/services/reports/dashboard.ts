import { QueryTypes } from "sequelize";
import { sqlDate } from "../../db/insert-rows";
import type { ServiceDeps } from "../deps";
import { DUE_STATUSES } from "../scheduled/overdue";
import { minusDays, shanghaiDay, shanghaiDayRange } from "./days";
import { repMeasuresSql, salesMeasuresSql } from "./figures";

export type Bucket = "day" | "week" | "month";

export interface DashboardQuery {
  /** Shanghai days "YYYY-MM-DD", inclusive; default: the 30 days ending today. */
  from?: string;
  to?: string;
  bucket?: Bucket;
  topN?: number;
}

export interface DashboardFigures {
  from: string;
  to: string;
  bucket: Bucket;
  trend: Array<{ period: string; orders: number; amountFen: number }>;
  topProducts: Array<{ productId: number; qty: number; amountFen: number }>;
  byRep: Array<{ salesRepId: number | null; orders: number; amountFen: number }>;
  funnel: { submitted: number; approved: number; shipped: number; paid: number };
  /** Mean seconds from submit to approval over orders a person approved (auto-approved ones excluded); null when none. */
  averageApprovalSeconds: number | null;
  overdue: { orders: number; amountFen: number };
  lowStock: { items: number };
}

type Row = Record<string, string | number | null>;
const n = (v: string | number | null | undefined) => Number(v ?? 0);

/**
 * The dashboard's figures from the daily rollups (fast at any size), or with `source: "orders"` the same
 * figures aggregated straight from the order tables (for the bench and the agreement test). Overdue
 * receivables and low stock are current states, read live by both.
 */
export async function dashboardFigures(deps: ServiceDeps, q: DashboardQuery = {}, source: "rollups" | "orders" = "rollups"): Promise<DashboardFigures> {
  const to = q.to ?? shanghaiDay(deps.now());
  const from = q.from ?? minusDays(to, 29);
  const bucket = q.bucket ?? "day";
  const topN = q.topN ?? 10;
  const s = deps.db.sequelize;
  const select = (sql: string, replacements: Record<string, unknown>) => s.query<Row>(sql, { type: QueryTypes.SELECT, replacements });
  const range: Record<string, unknown> = { from: sqlDate(deps.db.dialect, shanghaiDayRange(from).from), to: sqlDate(deps.db.dialect, shanghaiDayRange(to).to), dayFrom: from, dayTo: to, topN };
  // The orders path wraps the very measures the rollups store, aggregated on the spot.
  const reps = source === "rollups" ? "report_daily_reps WHERE day BETWEEN :dayFrom AND :dayTo" : `(${repMeasuresSql(deps.db.dialect)}) r`;
  const products = source === "rollups" ? productRollups(from, to) : { sql: `(${salesMeasuresSql(deps.db.dialect)}) p`, replacements: {} };

  const [days, top, byRep, totals, overdue, low] = await Promise.all([
    select(`SELECT day, SUM(sold) AS orders, SUM(sold_fen) AS amount FROM ${reps} GROUP BY day ORDER BY day`, range),
    select(`SELECT product_id, SUM(qty) AS qty, SUM(amount_fen) AS amount FROM ${products.sql} GROUP BY product_id ORDER BY amount DESC, product_id ASC LIMIT :topN`, { ...range, ...products.replacements }),
    select(`SELECT sales_rep_id, SUM(sold) AS orders, SUM(sold_fen) AS amount FROM ${reps} GROUP BY sales_rep_id ORDER BY amount DESC, sales_rep_id ASC`, range),
    select(
      `SELECT SUM(submitted) AS submitted, SUM(approved) AS approved, SUM(shipped) AS shipped, SUM(paid) AS paid,
         SUM(approval_count) AS approval_count, SUM(approval_seconds) AS approval_seconds FROM ${reps}`,
      range,
    ),
    overdueTotals(deps),
    select("SELECT COUNT(*) AS items FROM stock_levels s JOIN products p ON p.id = s.product_id WHERE p.active = :yes AND s.safety_stock > 0 AND s.on_hand - s.reserved < s.safety_stock", { yes: true }),
  ]);
  const t = totals[0] ?? {};
  return {
    from,
    to,
    bucket,
    trend: bucketed(days.map((d) => ({ day: String(d.day), orders: n(d.orders), amountFen: n(d.amount) })), bucket),
    topProducts: top.map((r) => ({ productId: n(r.product_id), qty: n(r.qty), amountFen: n(r.amount) })),
    byRep: byRep.map((r) => ({ salesRepId: n(r.sales_rep_id) || null, orders: n(r.orders), amountFen: n(r.amount) })),
    funnel: { submitted: n(t.submitted), approved: n(t.approved), shipped: n(t.shipped), paid: n(t.paid) },
    averageApprovalSeconds: n(t.approval_count) > 0 ? Math.round(n(t.approval_seconds) / n(t.approval_count)) : null,
    overdue,
    lowStock: { items: n(low[0]?.items) },
  };
}

/**
 * The product rows covering [from, to]: whole calendar months from the monthly table, the days of the
 * partial months at either end from the daily one (so a year reads ~12 + ~60 rows per product, not 365).
 */
function productRollups(from: string, to: string): { sql: string; replacements: Record<string, unknown> } {
  const months: string[] = [];
  const dayRanges: Array<[string, string]> = [];
  let cursor = from;
  while (cursor <= to) {
    const month = cursor.slice(0, 7);
    const monthEnd = lastDayOf(month);
    const end = monthEnd < to ? monthEnd : to;
    if (cursor === `${month}-01` && end === monthEnd) months.push(month);
    else dayRanges.push([cursor, end]);
    cursor = minusDays(end, -1);
  }
  const parts: string[] = [];
  const replacements: Record<string, unknown> = {};
  if (months.length) {
    parts.push("SELECT product_id, qty, amount_fen FROM report_monthly_products WHERE month IN (:months)");
    replacements.months = months;
  }
  dayRanges.forEach(([a, b], i) => {
    parts.push(`SELECT product_id, qty, amount_fen FROM report_daily_products WHERE day BETWEEN :pa${i} AND :pb${i}`);
    Object.assign(replacements, { [`pa${i}`]: a, [`pb${i}`]: b });
  });
  return { sql: `(${parts.join(" UNION ALL ")}) p`, replacements };
}

function lastDayOf(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** Unpaid amounts past their due date, now. */
export async function overdueTotals(deps: ServiceDeps): Promise<{ orders: number; amountFen: number }> {
  const [row] = await deps.db.sequelize.query<Row>(
    `SELECT COUNT(*) AS orders, SUM(total_fen - paid_fen) AS amount FROM orders
     WHERE status IN (${DUE_STATUSES.map((s) => `'${s}'`).join(",")}) AND due_at <= :now AND paid_fen < total_fen`,
    { type: QueryTypes.SELECT, replacements: { now: sqlDate(deps.db.dialect, deps.now()) } },
  );
  return { orders: n(row?.orders), amountFen: n(row?.amount) };
}

/** Daily totals summed into weeks (labelled by their Monday) or months ("2026-03"). */
export function bucketed(days: Array<{ day: string; orders: number; amountFen: number }>, bucket: Bucket) {
  const out = new Map<string, { period: string; orders: number; amountFen: number }>();
  for (const d of days) {
    const period = bucket === "day" ? d.day : bucket === "month" ? d.day.slice(0, 7) : mondayOf(d.day);
    const cur = out.get(period) ?? { period, orders: 0, amountFen: 0 };
    cur.orders += d.orders;
    cur.amountFen += d.amountFen;
    out.set(period, cur);
  }
  return [...out.values()].sort((a, b) => a.period.localeCompare(b.period));
}

function mondayOf(day: string): string {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  return minusDays(day, weekday);
}
