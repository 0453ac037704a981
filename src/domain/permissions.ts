import { DomainError } from "./errors";
import { hasRole, type Actor } from "./roles";

export type OrderPermission =
  | "place"
  | "revise"
  | "submit"
  | "cancel"
  | "fulfil" // start picking, confirm picks, pack, ship, deliver
  | "record_payment"
  | "view";

/**
 * Who may do what to an order. Integrations (API keys) act for the business and may do everything but
 * decide approvals, which always need a named approver (checked where steps are decided).
 */
export function mayPerform(actor: Actor, what: OrderPermission, order: { salesRepId: number | null } | null): boolean {
  if (actor.kind === "api" || actor.kind === "system") return true;
  if (hasRole(actor, "admin")) return true;
  const own = order !== null && order.salesRepId !== null && order.salesRepId === actor.userId;
  switch (what) {
    case "place":
      return hasRole(actor, "sales", "manager", "director");
    case "revise":
    case "submit":
      return own || hasRole(actor, "manager", "director");
    case "cancel":
      return own || hasRole(actor, "manager", "director");
    case "fulfil":
      return hasRole(actor, "warehouse");
    case "record_payment":
      return hasRole(actor, "finance");
    case "view":
      return own || hasRole(actor, "manager", "director", "finance", "warehouse");
  }
}

export function assertMayPerform(actor: Actor, what: OrderPermission, order: { salesRepId: number | null } | null): void {
  if (!mayPerform(actor, what, order)) {
    throw new DomainError("forbidden", `not allowed to ${what.replace("_", " ")} this order`, { action: what });
  }
}
