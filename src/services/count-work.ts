import { Op } from "sequelize";
import { hasRole, type Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { countPendingApprovals } from "./list-pending-approvals";

/** What waits for a person, by kind; a kind that is not theirs is null (the home page hides it). */
export interface WorkCounts {
  drafts: number | null;
  rejected: number | null;
  toApprove: number | null;
  toPick: number | null;
  toShip: number | null;
}

/** The home page's counts for one person. */
export async function countWork(deps: ServiceDeps, actor: Actor): Promise<WorkCounts> {
  const m = deps.db.models;
  const userId = actor.userId;
  const sells = userId !== null && hasRole(actor, "sales", "manager", "director", "admin");
  const approves = userId !== null && hasRole(actor, "manager", "director", "finance", "admin");
  const fulfils = hasRole(actor, "warehouse", "admin");
  const count = (status: string[], own: boolean) =>
    m.Order.count({ where: { status: { [Op.in]: status }, ...(own ? { salesRepId: userId } : {}) } });
  const [drafts, rejected, toApprove, toPick, toShip] = await Promise.all([
    sells ? count(["draft"], true) : null,
    sells ? count(["rejected"], true) : null,
    approves ? countPendingApprovals(deps, userId as number) : null,
    fulfils ? count(["approved", "picking"], false) : null,
    fulfils ? count(["packed", "partially_shipped"], false) : null,
  ]);
  return { drafts, rejected, toApprove, toPick, toShip };
}
