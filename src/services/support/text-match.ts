import { Op, col, fn, where, type WhereOptions } from "sequelize";

// Searches compare lower-cased text with INSTR rather than LIKE, so a user's "%" or "_" is matched
// literally and the same query behaves alike on SQLite and MariaDB.

/** `column` contains `text`, ignoring letter case. */
export function containsText(column: string, text: string): WhereOptions {
  return where(fn("instr", fn("lower", col(column)), text.toLowerCase()), Op.gt, 0);
}

/** `column` starts with `text`, ignoring letter case. */
export function startsWithText(column: string, text: string): WhereOptions {
  return where(fn("instr", fn("lower", col(column)), text.toLowerCase()), Op.eq, 1);
}

/** lower(`column`) is one of `values` lower-cased. */
export function lowerIn(column: string, values: string[]): WhereOptions {
  return where(fn("lower", col(column)), { [Op.in]: values.map((v) => v.toLowerCase()) });
}
