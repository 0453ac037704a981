import { literal, Op } from "sequelize";
import { dailyDigestCard, type DigestFigures } from "../../domain/cards/job-cards";
import { localeOf } from "../../domain/i18n";
import { businessDay } from "../../domain/time";
import type { ServiceDeps } from "../deps";
import { enqueue } from "../enqueue";
import { usersWithRole } from "../support/notify";
import { listOverdueReceivables } from "./overdue";
import { shanghaiDayRange } from "../reports/days";
import { SOLD_EXCLUDED } from "../reports/figures";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Yesterday (Shanghai) in figures: placed orders and amount, approvals waiting now, shipped, overdue, low stock. */
export async function digestFigures(deps: ServiceDeps): Promise<DigestFigures> {
  const m = deps.db.models;
  const now = deps.now();
  const day = businessDay(new Date(now.getTime() - DAY_MS));
  const { from, to } = shanghaiDayRange(day);
  const placed = { createdAt: { [Op.gte]: from, [Op.lt]: to }, submittedAt: { [Op.ne]: null }, status: { [Op.notIn]: [...SOLD_EXCLUDED] } };
  const [orders, amount, waitingApprovals, shipped, overdue, lowStock] = await Promise.all([
    m.Order.count({ where: placed }),
    m.Order.sum("totalFen", { where: placed }),
    m.Order.count({ where: { status: "pending_approval" } }),
    m.Order.count({ where: { shippedAt: { [Op.gte]: from, [Op.lt]: to } } }),
    listOverdueReceivables(deps, now),
    m.StockLevel.count({ where: { safetyStock: { [Op.gt]: 0 }, [Op.and]: [literal("on_hand - reserved < safety_stock")] } }),
  ]);
  return {
    day: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`,
    orders,
    amountFen: Number(amount ?? 0),
    waitingApprovals,
    shipped,
    overdue: { orders: overdue.length, amountFen: overdue.reduce((s, r) => s + r.outstandingFen, 0) },
    lowStock,
  };
}

/** The morning digest card to every manager and director, once per day (the day is in the dedupe key). */
export async function sendDailyDigest(deps: ServiceDeps): Promise<{ recipients: number; figures: DigestFigures }> {
  const figures = await digestFigures(deps);
  const ids = [...new Set([...(await usersWithRole(deps, undefined, "manager")), ...(await usersWithRole(deps, undefined, "director"))])];
  const users = await deps.db.models.User.findAll({ where: { id: ids }, attributes: ["id", "locale"] });
  await deps.db.transaction((tx) =>
    enqueue(
      deps,
      tx,
      users.map((u) => ({
        topic: "chat.card",
        dedupeKey: `chat.card:daily-digest:${figures.day}:${u.id}`,
        payload: { userId: u.id, card: dailyDigestCard(figures, { locale: localeOf(u.locale) }) },
      })),
    ),
  );
  return { recipients: users.length, figures };
}
