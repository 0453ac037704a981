import { QueryTypes, type Transaction } from "sequelize";
import { sqlDate } from "../../db/insert-rows";
import type { ServiceDeps } from "../deps";
import { shanghaiDay, shanghaiDayRange } from "./days";
import { REP_COLUMNS, repMeasuresSql, SALES_COLUMNS, salesMeasuresSql } from "./figures";

/**
 * The rollups are rebuilt incrementally from the audit trail, not written by the order path: every
 * change to an order writes an audit event (entity "order"), so the orders changed since the last
 * refresh are the audit rows past a watermark, and their placement days are recomputed whole. The
 * order path stays as fast as it was (no hot rollup rows for concurrent orders to queue on), at the
 * price of the dashboard trailing by one refresh interval (JOB_REPORT_ROLLUPS_CRON, 5 minutes).
 */

const WATERMARK = "audit_id";
/**
 * Audit ids are handed out at insert but become visible at commit, so a transaction that started
 * earlier can commit a lower id after a refresh moved past it; re-reading this many ids behind the
 * watermark each time catches those (recomputing a day twice is harmless).
 */
const OVERLAP_IDS = 5000;
const ID_CHUNK = 500;

/** Recomputes every rollup row of the given Shanghai days ("YYYY-MM-DD"), each day in its own transaction. */
export async function rebuildRollupDays(deps: ServiceDeps, days: Iterable<string>): Promise<number> {
  let count = 0;
  const months = new Set<string>();
  for (const day of [...new Set(days)].sort()) {
    await deps.db.transaction((tx) => rebuildDay(deps, tx, day));
    months.add(day.slice(0, 7));
    count += 1;
  }
  for (const month of months) await deps.db.transaction((tx) => rebuildMonth(deps, tx, month));
  return count;
}

/** A month's product totals, summed from its days (after the days are rebuilt). */
async function rebuildMonth(deps: ServiceDeps, tx: Transaction, month: string) {
  const s = deps.db.sequelize;
  const replacements = { month, first: `${month}-01`, last: `${month}-31` };
  await s.query("DELETE FROM report_monthly_products WHERE month = :month", { replacements, transaction: tx });
  await s.query(
    `INSERT INTO report_monthly_products (month, product_id, qty, amount_fen)
     SELECT :month, product_id, SUM(qty), SUM(amount_fen) FROM report_daily_products WHERE day BETWEEN :first AND :last GROUP BY product_id`,
    { replacements, transaction: tx },
  );
}

async function rebuildDay(deps: ServiceDeps, tx: Transaction, day: string) {
  const s = deps.db.sequelize;
  const { from, to } = shanghaiDayRange(day);
  const range = { from: sqlDate(deps.db.dialect, from), to: sqlDate(deps.db.dialect, to), day };
  for (const table of ["report_daily_reps", "report_daily_sales", "report_daily_products"]) {
    await s.query(`DELETE FROM ${table} WHERE day = :day`, { replacements: range, transaction: tx });
  }
  await s.query(`INSERT INTO report_daily_reps (${REP_COLUMNS.join(",")}) ${repMeasuresSql(deps.db.dialect)}`, { replacements: range, transaction: tx });
  await s.query(`INSERT INTO report_daily_sales (${SALES_COLUMNS.join(",")}) ${salesMeasuresSql(deps.db.dialect)}`, { replacements: range, transaction: tx });
  await s.query(
    `INSERT INTO report_daily_products (day, product_id, qty, amount_fen)
     SELECT day, product_id, SUM(qty), SUM(amount_fen) FROM report_daily_sales WHERE day = :day GROUP BY day, product_id`,
    { replacements: range, transaction: tx },
  );
}

/** Every day that has orders, rebuilt: the first refresh, and a repair by hand. */
export async function rebuildAllRollups(deps: ServiceDeps): Promise<number> {
  const s = deps.db.sequelize;
  const [span] = await s.query<{ lo: string | Date | null; hi: string | Date | null }>("SELECT MIN(created_at) AS lo, MAX(created_at) AS hi FROM orders", { type: QueryTypes.SELECT });
  if (!span?.lo || !span.hi) return 0;
  const days: string[] = [];
  const last = shanghaiDay(new Date(span.hi));
  for (let day = shanghaiDay(new Date(span.lo)); day <= last; day = shanghaiDay(new Date(shanghaiDayRange(day).to))) days.push(day);
  return rebuildRollupDays(deps, days);
}

/** Brings the rollups up to date with every order change recorded since the last refresh. */
export async function refreshRollups(deps: ServiceDeps): Promise<{ days: number; orders: number; watermark: number }> {
  const s = deps.db.sequelize;
  const [top] = await s.query<{ id: number | string | null }>("SELECT MAX(id) AS id FROM audit_events", { type: QueryTypes.SELECT });
  const maxId = Number(top?.id ?? 0);
  const [state] = await s.query<{ value: number | string }>("SELECT value FROM report_state WHERE name = :name", { type: QueryTypes.SELECT, replacements: { name: WATERMARK } });
  if (!state) {
    const days = await rebuildAllRollups(deps);
    await saveWatermark(deps, maxId, true);
    return { days, orders: -1, watermark: maxId };
  }
  const since = Math.max(0, Number(state.value) - OVERLAP_IDS);
  const changed = await s.query<{ entity_id: string }>(
    "SELECT DISTINCT entity_id FROM audit_events WHERE id > :since AND id <= :maxId AND entity = 'order'",
    { type: QueryTypes.SELECT, replacements: { since, maxId } },
  );
  const ids = changed.map((r) => Number(r.entity_id)).filter(Number.isSafeInteger);
  const days = new Set<string>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = await s.query<{ created_at: string | Date }>("SELECT created_at FROM orders WHERE id IN (:ids)", {
      type: QueryTypes.SELECT,
      replacements: { ids: ids.slice(i, i + ID_CHUNK) },
    });
    for (const r of rows) days.add(shanghaiDay(toDate(r.created_at)));
  }
  const rebuilt = await rebuildRollupDays(deps, days);
  await saveWatermark(deps, maxId, false);
  return { days: rebuilt, orders: ids.length, watermark: maxId };
}

async function saveWatermark(deps: ServiceDeps, value: number, insert: boolean) {
  const s = deps.db.sequelize;
  const replacements = { name: WATERMARK, value };
  if (insert) await s.query("INSERT INTO report_state (name, value) VALUES (:name, :value)", { replacements });
  else await s.query("UPDATE report_state SET value = :value WHERE name = :name", { replacements });
}

/** SQLite hands back DATE(3) columns as "2026-03-02 01:02:03.456 +00:00" text from raw queries. */
export function toDate(v: string | Date): Date {
  if (v instanceof Date) return v;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(v.trim());
  return m ? new Date(`${m[1]}T${m[2]}${m[3] && m[3] !== "Z" ? m[3] : "Z"}`) : new Date(v);
}
