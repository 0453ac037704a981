import { QueryTypes } from "sequelize";
import { businessDay } from "../../domain/time";
import { formatOrderNo } from "../../domain/order-no";
import type { ServiceDeps } from "../deps";

/** Next SO-YYYYMMDD-NNNN for the Shanghai day. */
export async function allocateOrderNo(deps: ServiceDeps): Promise<string> {
  const [orderNo] = await allocateOrderNos(deps, 1);
  return orderNo;
}

/**
 * `count` consecutive order numbers for the Shanghai day, in one round trip. On MySQL the counter is
 * bumped in one autocommit statement, so the hot row is never held for the length of an order
 * transaction; a rolled-back order leaves a gap, which is harmless.
 */
export async function allocateOrderNos(deps: ServiceDeps, count: number): Promise<string[]> {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`cannot allocate ${count} order numbers`);
  const at = deps.now();
  const day = businessDay(at);
  const s = deps.db.sequelize;
  let last: number;
  if (deps.db.dialect === "mysql") {
    // The OK packet carries LAST_INSERT_ID(expr) back as the insert id: the last number of the block.
    const [insertId] = (await s.query(
      "INSERT INTO order_sequences (day, last_no) VALUES (?, LAST_INSERT_ID(?)) ON DUPLICATE KEY UPDATE last_no = LAST_INSERT_ID(last_no + ?)",
      { replacements: [day, count, count], type: QueryTypes.INSERT },
    )) as unknown as [number, number];
    last = Number(insertId);
  } else {
    last = await deps.db.transaction(async (tx) => {
      await s.query(
        "INSERT INTO order_sequences (day, last_no) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET last_no = last_no + ?",
        { replacements: [day, count, count], transaction: tx },
      );
      const [row] = await s.query<{ n: number }>("SELECT last_no AS n FROM order_sequences WHERE day = ?", {
        replacements: [day],
        type: QueryTypes.SELECT,
        transaction: tx,
      });
      return Number(row.n);
    });
  }
  return Array.from({ length: count }, (_, i) => formatOrderNo(at, last - count + 1 + i));
}
