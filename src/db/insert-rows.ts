import { QueryTypes, type Transaction } from "sequelize";
import type { Dialect } from "./sequelize";

export type Cell = string | number | boolean | Date | null | undefined;

interface RowWriter {
  readonly sequelize: import("sequelize").Sequelize;
  readonly dialect: Dialect;
}

/**
 * A DATE(3) value exactly as Sequelize stores it on each dialect (UTC; SQLite with its offset),
 * formatted without the date library, which was a noticeable share of a busy transaction's CPU.
 */
export function sqlDate(dialect: Dialect, d: Date): string {
  const iso = d.toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  return dialect === "sqlite" ? `${text} +00:00` : text;
}

/**
 * One multi-row INSERT of plain rows keyed by column name, with no model instance per row: for the
 * append-mostly tables a batch writes many rows to (orders, lines, audit events, outbox). Every row
 * must have the same columns. `ignoreDuplicates` skips rows that hit a unique key.
 */
export async function insertRows(
  db: RowWriter,
  tx: Transaction,
  table: string,
  rows: Array<Record<string, Cell>>,
  opts: { ignoreDuplicates?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  const s = db.sequelize;
  const qi = s.getQueryInterface();
  const columns = Object.keys(rows[0]);
  const cell = (v: Cell): string => {
    if (v === undefined || v === null) return "NULL";
    if (v instanceof Date) return s.escape(sqlDate(db.dialect, v));
    if (typeof v === "boolean") return v ? "1" : "0";
    return s.escape(v);
  };
  const values = rows.map((r) => `(${columns.map((c) => cell(r[c])).join(",")})`).join(",");
  const verb = !opts.ignoreDuplicates ? "INSERT" : db.dialect === "mysql" ? "INSERT IGNORE" : "INSERT OR IGNORE";
  const sql = `${verb} INTO ${qi.quoteIdentifier(table)} (${columns.map((c) => qi.quoteIdentifier(c)).join(",")}) VALUES ${values}`;
  await s.query(sql, { transaction: tx, type: QueryTypes.INSERT });
}
