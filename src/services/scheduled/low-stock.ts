import crypto from "node:crypto";
import { QueryTypes } from "sequelize";
import { insertRows, sqlDate } from "../../db/insert-rows";
import { lowStockCard, type LowStockItem } from "../../domain/cards/job-cards";
import { localeOf } from "../../domain/i18n";
import { suggestedReorderQty } from "../../domain/reorder";
import { businessDay } from "../../domain/time";
import type { ServiceDeps } from "../deps";
import { enqueue, type OutboxMessage } from "../enqueue";
import { usersWithRole } from "../support/notify";

const WINDOW_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Active skus whose available stock is below their safety stock, each with a suggested reorder quantity. */
export async function findLowStock(deps: ServiceDeps, input: { leadTimeDays: number }): Promise<Array<LowStockItem & { productId: number }>> {
  const since = new Date(deps.now().getTime() - WINDOW_DAYS * DAY_MS);
  const rows = await deps.db.sequelize.query<{ product_id: number; sku: string; name: string; available: number | string; safety_stock: number; consumed: number | string | null }>(
    `SELECT p.id AS product_id, p.sku, p.name, s.on_hand - s.reserved AS available, s.safety_stock,
       (SELECT SUM(sl.qty) FROM shipment_lines sl JOIN shipments sh ON sh.id = sl.shipment_id JOIN order_lines ol ON ol.id = sl.order_line_id
         WHERE ol.product_id = p.id AND sh.shipped_at >= :since) AS consumed
     FROM stock_levels s JOIN products p ON p.id = s.product_id
     WHERE p.active = :yes AND s.safety_stock > 0 AND s.on_hand - s.reserved < s.safety_stock
     ORDER BY s.on_hand - s.reserved - s.safety_stock ASC, p.id ASC`,
    { type: QueryTypes.SELECT, replacements: { since: sqlDate(deps.db.dialect, since), yes: true } },
  );
  return rows.map((r) => {
    const available = Number(r.available);
    const consumed = Number(r.consumed ?? 0);
    return {
      productId: r.product_id,
      sku: r.sku,
      name: r.name,
      available,
      safetyStock: r.safety_stock,
      suggestedQty: suggestedReorderQty({ available, safetyStock: r.safety_stock, consumed, windowDays: WINDOW_DAYS, leadTimeDays: input.leadTimeDays }),
    };
  });
}

/**
 * Alerts purchasing and admins about skus that ran low, each sku at most once per Shanghai day: the
 * stock_alerts row and the outbox rows are written in one transaction.
 */
export async function sendLowStockAlerts(deps: ServiceDeps, input: { leadTimeDays: number }): Promise<{ low: number; alerted: number; recipients: number }> {
  const day = businessDay(deps.now());
  const low = await findLowStock(deps, input);
  if (low.length === 0) return { low: 0, alerted: 0, recipients: 0 };
  return deps.db.transaction(async (tx) => {
    const done = await deps.db.sequelize.query<{ product_id: number }>("SELECT product_id FROM stock_alerts WHERE day = :day", {
      type: QueryTypes.SELECT,
      replacements: { day },
      transaction: tx,
    });
    const already = new Set(done.map((d) => Number(d.product_id)));
    const fresh = low.filter((i) => !already.has(i.productId));
    if (fresh.length === 0) return { low: low.length, alerted: 0, recipients: 0 };
    await insertRows(
      deps.db,
      tx,
      "stock_alerts",
      fresh.map((i) => ({ product_id: i.productId, day, available: i.available, suggested_qty: i.suggestedQty, created_at: deps.now() })),
    );
    const ids = [...new Set([...(await usersWithRole(deps, tx, "purchasing")), ...(await usersWithRole(deps, tx, "admin"))])];
    const users = await deps.db.models.User.findAll({ where: { id: ids }, attributes: ["id", "locale"], transaction: tx });
    const batch = crypto.createHash("sha1").update(fresh.map((i) => i.productId).join(",")).digest("hex").slice(0, 16);
    const messages: OutboxMessage[] = users.map((u) => ({
      topic: "chat.card",
      dedupeKey: `chat.card:low-stock:${day}:${u.id}:${batch}`,
      payload: { userId: u.id, card: lowStockCard(fresh, { locale: localeOf(u.locale), leadTimeDays: input.leadTimeDays }) },
    }));
    await enqueue(deps, tx, messages);
    return { low: low.length, alerted: fresh.length, recipients: users.length };
  });
}
