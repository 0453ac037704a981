import type { Dialect } from "../../db/sequelize";

/**
 * What the dashboard counts, written once as SQL over the order tables. The rollup rebuild stores these
 * per day; the "straight from the orders" path aggregates the same expressions on the fly, so both
 * paths mean the same thing and a test (and the bench) can check they agree.
 *
 * An order belongs to the Shanghai day it was placed (created_at, which never changes), so a later
 * approval, shipment or payment only ever moves that one day's rollup.
 */

/** Submitted orders in these statuses are not sales. */
export const SOLD_EXCLUDED = ["draft", "rejected", "cancelled", "archived"] as const;
const EXCLUDED_SQL = SOLD_EXCLUDED.map((s) => `'${s}'`).join(",");

/** The Shanghai day of a UTC column as "YYYY-MM-DD" (Shanghai has no daylight saving: a fixed +8 h). */
export function dayExpr(dialect: Dialect, column: string): string {
  return dialect === "mysql" ? `DATE_FORMAT(DATE_ADD(${column}, INTERVAL 8 HOUR), '%Y-%m-%d')` : `date(${column}, '+8 hours')`;
}

function secondsBetween(dialect: Dialect, from: string, to: string): string {
  return dialect === "mysql" ? `TIMESTAMPDIFF(SECOND, ${from}, ${to})` : `CAST(ROUND((julianday(${to}) - julianday(${from})) * 86400) AS INTEGER)`;
}

/** Per Shanghai day × rep: the order measures of orders placed in [:from, :to). */
export function repMeasuresSql(dialect: Dialect): string {
  const sold = `o.status NOT IN (${EXCLUDED_SQL})`;
  const timed = "o.approved_at IS NOT NULL AND o.auto_approved = 0";
  return `SELECT ${dayExpr(dialect, "o.created_at")} AS day, COALESCE(o.sales_rep_id, 0) AS sales_rep_id,
      COUNT(*) AS submitted,
      SUM(CASE WHEN ${sold} THEN 1 ELSE 0 END) AS sold,
      SUM(CASE WHEN ${sold} THEN o.total_fen ELSE 0 END) AS sold_fen,
      SUM(CASE WHEN o.approved_at IS NOT NULL THEN 1 ELSE 0 END) AS approved,
      SUM(CASE WHEN o.shipped_at IS NOT NULL THEN 1 ELSE 0 END) AS shipped,
      SUM(CASE WHEN o.total_fen > 0 AND o.paid_fen >= o.total_fen THEN 1 ELSE 0 END) AS paid,
      SUM(CASE WHEN ${timed} THEN 1 ELSE 0 END) AS approval_count,
      SUM(CASE WHEN ${timed} THEN ${secondsBetween(dialect, "o.submitted_at", "o.approved_at")} ELSE 0 END) AS approval_seconds
    FROM orders o
    WHERE o.created_at >= :from AND o.created_at < :to AND o.submitted_at IS NOT NULL
    GROUP BY 1, 2`;
}

/** Per Shanghai day × product × rep × customer: what sold orders placed in [:from, :to) sold. */
export function salesMeasuresSql(dialect: Dialect): string {
  return `SELECT ${dayExpr(dialect, "o.created_at")} AS day, l.product_id, COALESCE(o.sales_rep_id, 0) AS sales_rep_id, o.customer_id,
      SUM(l.qty) AS qty, SUM(l.line_total_fen) AS amount_fen
    FROM orders o JOIN order_lines l ON l.order_id = o.id
    WHERE o.created_at >= :from AND o.created_at < :to AND o.submitted_at IS NOT NULL AND o.status NOT IN (${EXCLUDED_SQL})
    GROUP BY 1, 2, 3, 4`;
}

export const REP_COLUMNS = ["day", "sales_rep_id", "submitted", "sold", "sold_fen", "approved", "shipped", "paid", "approval_count", "approval_seconds"];
export const SALES_COLUMNS = ["day", "product_id", "sales_rep_id", "customer_id", "qty", "amount_fen"];
