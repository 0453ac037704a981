import type { OrderLineView, OrderView } from "./order-view";
import { hasRole, type Actor, type Role } from "./roles";

/**
 * Which sensitive figures a person may see. Prices: list/unit/floor prices, discounts, line and order
 * totals, payments and what is paid. Credit: a customer's credit limit and open receivables (they
 * also appear inside approval reasons, which is why those go with them).
 *
 * | role                                       | prices | credit |
 * |--------------------------------------------|--------|--------|
 * | sales, manager, finance, director, admin   | yes    | yes    |
 * | warehouse, purchasing, no role             | no     | no     |
 * | API key, system                            | yes    | yes    |
 *
 * Roles add up: a warehouse member who also sells sees prices. API keys act for the business (its
 * ERP) and keep everything.
 */
export interface FieldVisibility {
  prices: boolean;
  credit: boolean;
}

const PRICE_ROLES: readonly Role[] = ["sales", "manager", "finance", "director", "admin"];
const CREDIT_ROLES: readonly Role[] = ["sales", "manager", "finance", "director", "admin"];

export function visibleFields(actor: Pick<Actor, "kind" | "roles">): FieldVisibility {
  if (actor.kind !== "user") return { prices: true, credit: true };
  return { prices: hasRole(actor, ...PRICE_ROLES), credit: hasRole(actor, ...CREDIT_ROLES) };
}

/** An order line without its money: what the warehouse works from. */
export type UnpricedLine = Omit<OrderLineView, "listPriceFen" | "unitPriceFen" | "discountBp" | "lineTotalFen">;

/** An order as someone who may not see prices gets it: no money anywhere, no approval reasons. */
export type UnpricedOrderView = Omit<OrderView, "totalFen" | "paidFen" | "payments" | "lines" | "approval"> & {
  lines: UnpricedLine[];
  approval: Omit<OrderView["approval"], "reasons" | "steps"> & {
    reasons: [];
    steps: Array<Omit<OrderView["approval"]["steps"][number], "reasons"> & { reasons: [] }>;
  };
};

export function unpricedLine<L extends OrderLineView>(line: L): Omit<L, "listPriceFen" | "unitPriceFen" | "discountBp" | "lineTotalFen"> {
  const { listPriceFen: _list, unitPriceFen: _unit, discountBp: _discount, lineTotalFen: _total, ...rest } = line;
  return rest;
}

/**
 * The order as this person may see it. The fields are removed, not zeroed: a template that forgets to
 * ask fails loudly instead of showing ¥0.00. Approval reasons quote totals, discounts and credit
 * figures, so they go too.
 */
export function redactOrderView(view: OrderView, see: FieldVisibility): OrderView | UnpricedOrderView {
  if (see.prices && see.credit) return view;
  const { totalFen: _total, paidFen: _paid, payments: _payments, lines, approval, ...rest } = view;
  return {
    ...rest,
    lines: lines.map((l) => unpricedLine(l)),
    approval: { ...approval, reasons: [], steps: approval.steps.map((s) => ({ ...s, reasons: [] as [] })) },
  };
}

/** A list row (order summary, warehouse queue entry) without its total and what was paid. */
export function unpricedRow<R extends { totalFen: number; paidFen?: number }>(row: R): Omit<R, "totalFen" | "paidFen"> {
  const { totalFen: _total, paidFen: _paid, ...rest } = row;
  return rest;
}
