import { Op } from "sequelize";
import { DomainError } from "../domain/errors";
import type { RouteReason } from "../domain/approval-rules";
import { discountBp } from "../domain/money";
import type { ServiceDeps } from "./deps";
import { planRoute } from "./support/approval-round";
import { buildLines, findCustomer, type LineInput } from "./support/build-lines";
import { readAvailable } from "./support/stock";

/** An order being typed, priced and routed without saving anything: what the order form shows live. */
export interface Quote {
  customer: { code: string; name: string } | null;
  lines: QuoteLine[];
  totalFen: number;
  /** null until a customer is chosen (the route depends on them). */
  route: {
    autoApproved: boolean;
    reasons: RouteReason[];
    steps: Array<{ label: string; approvers: string[]; reasons: RouteReason[] }>;
    /** The rules want an approver nobody fills (e.g. a rep without a manager): submitting will fail. */
    unresolved: boolean;
  } | null;
}

export interface QuoteLine {
  sku: string;
  name: string;
  unit: string;
  qty: number;
  listPriceFen: number;
  floorPriceFen: number | null;
  unitPriceFen: number;
  lineTotalFen: number;
  discountBp: number;
  available: number;
  short: boolean;
  belowFloor: boolean;
}

export interface QuoteInput {
  customerCode?: string;
  lines: LineInput[];
  /** Whose order it will be: the route's "manager" step is this rep's manager. */
  salesRepId: number | null;
  /** The order being edited, so its own amount is not counted against the customer's credit twice. */
  orderId?: number;
}

/** Prices, stock and the approval route for an order as typed; 422 naming the first bad line. */
export async function quoteOrder(deps: ServiceDeps, input: QuoteInput): Promise<Quote> {
  const built = input.lines.length ? await buildLines(deps, input.lines) : { lines: [], totalFen: 0 };
  const customer = input.customerCode ? await findCustomer(deps, { customerCode: input.customerCode }) : null;
  const available = await readAvailable(deps, built.lines.map((l) => l.productId));
  const lines = built.lines.map((l) => ({
    sku: l.sku,
    name: l.name,
    unit: l.unit,
    qty: l.qty,
    listPriceFen: l.listPriceFen,
    floorPriceFen: l.floorPriceFen,
    unitPriceFen: l.unitPriceFen,
    lineTotalFen: l.lineTotalFen,
    discountBp: discountBp(l.listPriceFen, l.unitPriceFen),
    available: available.get(l.productId) ?? 0,
    short: l.qty > (available.get(l.productId) ?? 0),
    belowFloor: l.floorPriceFen !== null && l.unitPriceFen < l.floorPriceFen,
  }));
  if (!customer || built.lines.length === 0) {
    return { customer: customer && { code: customer.code, name: customer.name }, lines, totalFen: built.totalFen, route: null };
  }
  const order = { id: input.orderId ?? 0, customerId: customer.id, totalFen: built.totalFen, salesRepId: input.salesRepId };
  let planned;
  try {
    planned = await planRoute(deps, undefined, order, built.lines, customer);
  } catch (err) {
    if (!(err instanceof DomainError && err.code === "no_approver")) throw err;
    return { customer: { code: customer.code, name: customer.name }, lines, totalFen: built.totalFen, route: { autoApproved: false, reasons: [], steps: [], unresolved: true } };
  }
  const ids = [...new Set(planned.approverIds.flat())];
  const users = ids.length ? await deps.db.models.User.findAll({ where: { id: { [Op.in]: ids } }, attributes: ["id", "name"] }) : [];
  const nameOf = new Map(users.map((u) => [u.id, u.name]));
  return {
    customer: { code: customer.code, name: customer.name },
    lines,
    totalFen: built.totalFen,
    route: {
      autoApproved: planned.route.autoApproved,
      reasons: planned.route.reasons,
      steps: planned.route.steps.map((s, i) => ({ label: s.label, approvers: planned.approverIds[i].map((id) => nameOf.get(id) ?? `#${id}`), reasons: s.reasons })),
      unresolved: false,
    },
  };
}
