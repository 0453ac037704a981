import { QueryTypes } from "sequelize";
import { businessDay } from "../../domain/time";
import { formatOrderNo } from "../../domain/order-no";
import type { ServiceDeps } from "../deps";

/**
 * Next SO-YYYYMMDD-NNNN for the Shanghai day. On MySQL the counter is bumped in one autocommit
 * statement, so the hot row is never held for the length of an order transaction; a rolled-back order
 * leaves a gap, which is harmless.
 */
export async function allocateOrderNo(deps: ServiceDeps): Promise<string> {
  const at = deps.now();
  const day = businessDay(at);
  const s = deps.db.sequelize;
  if (deps.db.dialect === "mysql") {
    // One autocommit statement: the OK packet carries LAST_INSERT_ID(expr) back as the insert id.
    const [insertId] = (await s.query(
      "INSERT INTO order_sequences (day, last_no) VALUES (?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE last_no = LAST_INSERT_ID(last_no + 1)",
      { replacements: [day], type: QueryTypes.INSERT },
    )) as unknown as [number, number];
    return formatOrderNo(at, Number(insertId));
  }
  const seq = await deps.db.transaction(async (tx) => {
    await s.query(
      "INSERT INTO order_sequences (day, last_no) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET last_no = last_no + 1",
      { replacements: [day], transaction: tx },
    );
    const [row] = await s.query<{ n: number }>("SELECT last_no AS n FROM order_sequences WHERE day = ?", {
      replacements: [day],
      type: QueryTypes.SELECT,
      transaction: tx,
    });
    return Number(row.n);
  });
  return formatOrderNo(at, seq);
}
