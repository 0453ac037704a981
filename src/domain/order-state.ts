import { DomainError } from "./errors";

export const ORDER_STATUSES = [
  "draft",
  "pending_approval",
  "approved",
  "rejected",
  "picking",
  "packed",
  "partially_shipped",
  "shipped",
  "delivered",
  "completed",
  "cancelled",
  "archived",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type OrderAction =
  | "submit"
  | "approve"
  | "reject"
  | "revise"
  | "start_picking"
  | "pack"
  | "ship_partial"
  | "ship_full"
  | "deliver"
  | "complete"
  | "cancel"
  | "archive";

/** The whole lifecycle in one table; a unit test walks every cell. */
export const MOVES: Record<OrderAction, { from: readonly OrderStatus[]; to: OrderStatus }> = {
  submit: { from: ["draft"], to: "pending_approval" },
  approve: { from: ["pending_approval"], to: "approved" },
  reject: { from: ["pending_approval"], to: "rejected" },
  revise: { from: ["rejected"], to: "draft" },
  start_picking: { from: ["approved"], to: "picking" },
  pack: { from: ["picking"], to: "packed" },
  ship_partial: { from: ["packed", "partially_shipped"], to: "partially_shipped" },
  ship_full: { from: ["packed", "partially_shipped"], to: "shipped" },
  deliver: { from: ["shipped"], to: "delivered" },
  complete: { from: ["delivered"], to: "completed" },
  cancel: { from: ["draft", "pending_approval", "approved", "rejected", "picking", "packed"], to: "cancelled" },
  // Housekeeping puts away drafts nobody touched for weeks; a draft holds no stock, so nothing is released.
  archive: { from: ["draft"], to: "archived" },
};

/** The status after `action`; throws rather than guessing. */
export function transition(from: OrderStatus, action: OrderAction): OrderStatus {
  const move = MOVES[action];
  if (!move.from.includes(from)) {
    throw new DomainError("invalid_transition", `cannot ${action.replace("_", " ")} an order that is ${from}`, {
      from,
      action,
    });
  }
  return move.to;
}

export function canTransition(from: OrderStatus, action: OrderAction): boolean {
  return MOVES[action].from.includes(from);
}

/** Statuses in which an order holds stock reservations for its unshipped quantities. */
export const RESERVING_STATUSES: readonly OrderStatus[] = [
  "pending_approval",
  "approved",
  "picking",
  "packed",
  "partially_shipped",
];

/** Statuses whose unpaid amount counts against the customer's credit. */
export const RECEIVABLE_STATUSES: readonly OrderStatus[] = [
  "pending_approval",
  "approved",
  "picking",
  "packed",
  "partially_shipped",
  "shipped",
  "delivered",
];

/** Orders a person may still edit: everything else is history. */
export const EDITABLE_STATUSES: readonly OrderStatus[] = ["draft", "rejected"];

export function isOrderStatus(s: string): s is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(s);
}

/**
 * True when the order already shows the effect of `action`: a double tap or a retried callback then
 * gets the current state back instead of an error.
 */
export function isRepeat(action: OrderAction, status: OrderStatus): boolean {
  switch (action) {
    case "submit":
      return status === "pending_approval" || status === "approved";
    case "cancel":
      return status === "cancelled";
    case "archive":
      return status === "archived";
    case "start_picking":
      return status === "picking";
    case "pack":
      return status === "packed";
    case "deliver":
      return status === "delivered" || status === "completed";
    default:
      return false;
  }
}
