import { Op, QueryTypes, type CreationAttributes, type Transaction } from "sequelize";
import { DEFAULT_RULE_SET, evaluateRoute, parseRuleSet, type ApprovalRoute, type ApproverSpec, type RuleSet } from "../../domain/approval-rules";
import { DomainError } from "../../domain/errors";
import { RECEIVABLE_STATUSES } from "../../domain/order-state";
import type { OrderLineRow, OrderRow } from "../../db/models/orders";
import type { ApprovalStepRow } from "../../db/models/approvals";
import type { CustomerRow } from "../../db/models/customers";
import type { ServiceDeps } from "../deps";
import { usersWithRole } from "./notify";

/** The admin's active rule set, or the built-in default until one is saved. */
export async function activeRuleSet(deps: ServiceDeps, tx?: Transaction): Promise<RuleSet> {
  return deps.memo.get("rule-set", RULE_SET_TTL_MS, async () => {
    const row = await deps.db.models.RuleSet.findOne({ where: { active: true }, order: [["id", "DESC"]], transaction: tx });
    return row ? parseRuleSet(row.rules) : DEFAULT_RULE_SET;
  });
}

export const RULE_SET_TTL_MS = 10_000;

/** Unpaid amounts of the customer's open orders, this one excluded. */
export async function openReceivablesFen(deps: ServiceDeps, tx: Transaction | undefined, customerId: number, exceptOrderId: number) {
  const [row] = await deps.db.sequelize.query<{ open: number | string | null }>(
    `SELECT SUM(total_fen - paid_fen) AS open FROM orders WHERE customer_id = ? AND id <> ? AND status IN (${RECEIVABLE_STATUSES.map(() => "?").join(",")})`,
    { replacements: [customerId, exceptOrderId, ...RECEIVABLE_STATUSES], type: QueryTypes.SELECT, transaction: tx },
  );
  return Number(row?.open ?? 0);
}

/** What routing needs of an order and its lines (a saved row or one about to be written). */
export type RouteOrder = Pick<OrderRow, "id" | "customerId" | "totalFen" | "salesRepId">;
export type RouteLine = Pick<OrderLineRow, "sku" | "category" | "listPriceFen" | "unitPriceFen" | "floorPriceFen" | "qty">;

export interface PlannedRound {
  steps: ApprovalStepRow[];
  autoApproved: boolean;
}

/** The route the rules give this order right now, with each step's approvers resolved to user ids. */
export async function planRoute(
  deps: ServiceDeps,
  tx: Transaction | undefined,
  order: RouteOrder,
  lines: RouteLine[],
  known?: CustomerRow,
  /** The customer's open receivables when the caller already knows them (a batch of new orders). */
  knownOpenReceivablesFen?: number,
): Promise<{ route: ApprovalRoute; approverIds: number[][] }> {
  const m = deps.db.models;
  const customer = known?.id === order.customerId ? known : await m.Customer.findByPk(order.customerId, { transaction: tx });
  if (!customer) throw new DomainError("not_found", "customer not found", { customerId: order.customerId });
  const route = evaluateRoute(await activeRuleSet(deps, tx), {
    totalFen: order.totalFen,
    lines: lines.map((l) => ({
      sku: l.sku,
      category: l.category,
      listPriceFen: l.listPriceFen,
      unitPriceFen: l.unitPriceFen,
      floorPriceFen: l.floorPriceFen,
      qty: l.qty,
    })),
    customer: { level: customer.level, creditLimitFen: customer.creditLimitFen },
    // Without a credit limit there is nothing to exceed: skip the sum over the customer's open orders.
    openReceivablesFen:
      customer.creditLimitFen === null ? 0 : (knownOpenReceivablesFen ?? (await openReceivablesFen(deps, tx, customer.id, order.id))),
  });
  const approverIds: number[][] = [];
  for (const planned of route.steps) approverIds.push(await resolveApprovers(deps, tx, planned.approvers, order));
  return { route, approverIds };
}

/**
 * Evaluates the rules for a submitted order and writes the new round's steps: the first pending, the
 * rest waiting. No steps means the order is approved automatically (the caller moves it on).
 */
export async function startApprovalRound(
  deps: ServiceDeps,
  tx: Transaction,
  order: OrderRow,
  lines: OrderLineRow[],
  round: number,
  customer?: CustomerRow,
): Promise<PlannedRound> {
  const m = deps.db.models;
  const { route, approverIds: resolved } = await planRoute(deps, tx, order, lines, customer);
  order.approvalReasons = route.reasons;
  order.autoApproved = route.autoApproved;
  if (route.autoApproved) return { steps: [], autoApproved: true };

  const steps: ApprovalStepRow[] = [];
  for (const row of stepRows(route, resolved, order.id, round, deps.now())) {
    steps.push(await m.ApprovalStep.create(row, { transaction: tx }));
  }
  return { steps, autoApproved: false };
}

/** The new round's step rows: the first pending, the rest waiting. */
export function stepRows(route: ApprovalRoute, approverIds: number[][], orderId: number, round: number, at: Date): CreationAttributes<ApprovalStepRow>[] {
  return route.steps.map((planned, i) => ({
    orderId,
    round,
    stepNo: planned.stepNo,
    label: planned.label,
    mode: planned.mode,
    approverIds: approverIds[i],
    reasons: planned.reasons,
    status: i === 0 ? "pending" : "waiting",
    activatedAt: i === 0 ? at : null,
    decidedAt: null,
  }));
}

/** Turns "the rep's manager" or "finance" into user ids; an order with nobody to approve it is refused. */
async function resolveApprovers(deps: ServiceDeps, tx: Transaction | undefined, spec: ApproverSpec, order: RouteOrder): Promise<number[]> {
  const m = deps.db.models;
  let ids: number[] = [];
  if (spec.type === "manager") {
    const rep = order.salesRepId ? await m.User.findByPk(order.salesRepId, { transaction: tx }) : null;
    if (rep?.managerId) {
      const manager = await m.User.findOne({ where: { id: rep.managerId, active: true }, transaction: tx });
      if (manager) ids = [manager.id];
    }
    // No rep (an ERP order) or no manager on file: the directors decide, then the admins.
    if (ids.length === 0) ids = await usersWithRole(deps, tx, "director");
    if (ids.length === 0) ids = await usersWithRole(deps, tx, "admin");
  } else if (spec.type === "role") {
    ids = await usersWithRole(deps, tx, spec.role);
  } else {
    const users = await m.User.findAll({ where: { id: { [Op.in]: spec.userIds }, active: true }, attributes: ["id"], transaction: tx });
    ids = users.map((u) => u.id);
  }
  if (ids.length === 0) {
    throw new DomainError("no_approver", "nobody is configured to approve this order", { approvers: spec });
  }
  return ids.sort((a, b) => a - b);
}
