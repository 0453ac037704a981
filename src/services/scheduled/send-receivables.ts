import { Op } from "sequelize";
import { receivablesCard } from "../../domain/cards/job-cards";
import { localeOf } from "../../domain/i18n";
import type { OverdueReceivable } from "../../domain/receivables";
import { businessDay } from "../../domain/time";
import type { ServiceDeps } from "../deps";
import { enqueue, type OutboxMessage } from "../enqueue";
import { listOverdueReceivables } from "./overdue";

/**
 * The daily receivables digest: each rep gets their overdue orders; a rep's manager also gets those more
 * than `escalateAfterDays` late, one card for the whole team. One transaction; the day in the dedupe key
 * makes a second run on the same day a no-op.
 */
export async function sendReceivablesDigests(deps: ServiceDeps, input: { escalateAfterDays: number }): Promise<{ reps: number; managers: number; orders: number }> {
  const now = deps.now();
  const day = businessDay(now);
  const overdue = await listOverdueReceivables(deps, now);
  const byRep = groupBy(overdue.filter((r) => r.salesRepId !== null), (r) => r.salesRepId!);
  const reps = await deps.db.models.User.findAll({ where: { id: { [Op.in]: [...byRep.keys()] }, active: true }, attributes: ["id", "name", "locale", "managerId"] });
  const messages: OutboxMessage[] = [];
  const team = new Map<number, Array<OverdueReceivable & { repName: string }>>();
  for (const rep of reps) {
    const items = byRep.get(rep.id) ?? [];
    const card = receivablesCard(items, { locale: localeOf(rep.locale) });
    messages.push({ topic: "chat.card", dedupeKey: `chat.card:receivables:${day}:${rep.id}`, payload: { userId: rep.id, card } });
    const late = items.filter((r) => r.daysOverdue > input.escalateAfterDays);
    if (rep.managerId !== null && late.length) team.set(rep.managerId, [...(team.get(rep.managerId) ?? []), ...late.map((r) => ({ ...r, repName: rep.name }))]);
  }
  const managers = await deps.db.models.User.findAll({ where: { id: { [Op.in]: [...team.keys()] }, active: true }, attributes: ["id", "locale"] });
  for (const manager of managers) {
    const items = team.get(manager.id)!.sort((a, b) => b.daysOverdue - a.daysOverdue || a.orderId - b.orderId);
    const card = receivablesCard(items, { locale: localeOf(manager.locale), team: { afterDays: input.escalateAfterDays } });
    messages.push({ topic: "chat.card", dedupeKey: `chat.card:receivables-team:${day}:${manager.id}`, payload: { userId: manager.id, card } });
  }
  await deps.db.transaction((tx) => enqueue(deps, tx, messages));
  return { reps: reps.length, managers: managers.length, orders: overdue.length };
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
