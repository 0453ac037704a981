import { DomainError } from "./errors";
import { mayPerform } from "./permissions";
import { hasRole, type Actor } from "./roles";

/** Who is looking, with what the mini-app needs to decide whose orders they may see. */
export interface Viewer {
  actor: Actor;
  /** The sales reps whose orders this person oversees (themselves included): their reports, transitively. */
  teamIds: readonly number[];
}

/**
 * Whose orders a person sees in lists: admin, finance and warehouse work on everyone's; a manager on
 * their team's; a rep on their own. null means "no filter".
 */
export function visibleRepIds(viewer: Viewer): readonly number[] | null {
  const { actor } = viewer;
  if (actor.kind !== "user" || hasRole(actor, "admin", "finance", "warehouse")) return null;
  if (hasRole(actor, "manager", "director")) return viewer.teamIds;
  return actor.userId === null ? [] : [actor.userId];
}

/**
 * May this person open this order? Narrower than mayPerform("view"): a manager sees their own team's
 * orders, not every team's, unless the order waits for (or had) their approval.
 */
export function mayViewOrder(viewer: Viewer, order: { salesRepId: number | null }, approverIds: readonly number[]): boolean {
  if (!mayPerform(viewer.actor, "view", order) && !isApprover(viewer, approverIds)) return false;
  const reps = visibleRepIds(viewer);
  if (reps === null) return true;
  return (order.salesRepId !== null && reps.includes(order.salesRepId)) || isApprover(viewer, approverIds);
}

export function assertMayViewOrder(viewer: Viewer, order: { salesRepId: number | null }, approverIds: readonly number[]): void {
  if (!mayViewOrder(viewer, order, approverIds)) throw new DomainError("forbidden", "not allowed to view this order", { action: "view" });
}

const isApprover = (viewer: Viewer, approverIds: readonly number[]) =>
  viewer.actor.userId !== null && approverIds.includes(viewer.actor.userId);

/** Customers whose orders the warehouse takes first. */
export function isPriorityCustomer(level: string | null): boolean {
  return level !== null && ["VIP", "A"].includes(level.trim().toUpperCase());
}
