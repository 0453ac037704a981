import { z } from "zod";
import { DomainError } from "./errors";
import { discountBp } from "./money";
import type { Locale } from "./i18n";
import { ROLES, type Role } from "./roles";

export type { Locale };

const Fen = z.int().min(0);
// Percent is stored as basis points internally, so anything finer than 0.01% would be silently rounded.
const Percent = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, "must have at most two decimal places");
const Names = z.array(z.string().trim().min(1).max(64)).min(1).max(100);

export const ConditionSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("total_above"), fen: Fen }),
  z.strictObject({ type: z.literal("total_below"), fen: Fen }),
  z.strictObject({ type: z.literal("discount_above"), percent: Percent }),
  z.strictObject({ type: z.literal("below_floor") }),
  z.strictObject({ type: z.literal("customer_level"), levels: Names }),
  z.strictObject({ type: z.literal("credit_exceeded") }),
  z.strictObject({ type: z.literal("category"), categories: Names }),
  z.strictObject({ type: z.literal("always") }),
]);

export const ApproverSpecSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manager") }),
  z.strictObject({ type: z.literal("role"), role: z.enum(ROLES) }),
  z.strictObject({ type: z.literal("users"), userIds: z.array(z.int().positive()).min(1).max(50) }),
]);

const Conditions = z.array(ConditionSchema).max(20).optional();

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1–64 letters, digits, '-', '_' or '.'"),
  name: z.string().trim().min(1).max(100),
  when: z
    .strictObject({ any: Conditions, all: Conditions })
    .refine((w) => (w.any?.length ?? 0) + (w.all?.length ?? 0) > 0, "needs at least one condition in any or all"),
  step: z.strictObject({
    order: z.int().min(0).max(10000),
    label: z.string().trim().min(1).max(60),
    approvers: ApproverSpecSchema,
    mode: z.enum(["any", "all"]),
  }),
});

export const RuleSetSchema = z
  .strictObject({ version: z.literal(1), rules: z.array(RuleSchema).max(50) })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "id"], message: `duplicate rule id "${rule.id}"` });
      }
      seen.add(rule.id);
    });
  });

export type Condition = z.infer<typeof ConditionSchema>;
export type Rule = z.infer<typeof RuleSchema>;
export type RuleSet = z.infer<typeof RuleSetSchema>;

export type ApproverSpec = { type: "manager" } | { type: "role"; role: Role } | { type: "users"; userIds: number[] };

export interface RouteInput {
  totalFen: number;
  lines: Array<{
    sku: string;
    category: string | null;
    listPriceFen: number;
    unitPriceFen: number;
    floorPriceFen: number | null;
    qty: number;
  }>;
  /** A null credit limit means unlimited. */
  customer: { level: string | null; creditLimitFen: number | null };
  /** The customer's unpaid open orders, excluding this one. */
  openReceivablesFen: number;
}

export type ReasonCode =
  | "total_above"
  | "total_below"
  | "discount_above"
  | "below_floor"
  | "customer_level"
  | "credit_exceeded"
  | "category"
  | "always";

export interface RouteReason {
  code: ReasonCode;
  ruleId: string;
  params: Record<string, string | number | string[]>;
}

export interface RouteStep {
  stepNo: number;
  label: string;
  approvers: ApproverSpec;
  mode: "any" | "all";
  reasons: RouteReason[];
}

export interface ApprovalRoute {
  autoApproved: boolean;
  steps: RouteStep[];
  reasons: RouteReason[];
}

/** Small undiscounted orders pass; the manager reviews the rest; finance sees large or over-credit orders. */
export const DEFAULT_RULE_SET: RuleSet = {
  version: 1,
  rules: [
    {
      id: "manager-review",
      // An order that exceeds credit is never approved automatically, however small.
      name: "超过 ¥5,000、有折扣或超出信用额度的订单由直属主管审批",
      when: {
        any: [{ type: "total_above", fen: 500_000 }, { type: "discount_above", percent: 0 }, { type: "credit_exceeded" }],
      },
      step: { order: 10, label: "直属主管审批", approvers: { type: "manager" }, mode: "any" },
    },
    {
      id: "finance-large-order",
      name: "超过 ¥50,000 的订单由财务审批",
      when: { any: [{ type: "total_above", fen: 5_000_000 }] },
      step: { order: 20, label: "财务审批", approvers: { type: "role", role: "finance" }, mode: "any" },
    },
    {
      id: "finance-credit",
      name: "超出信用额度的订单由财务审批",
      when: { any: [{ type: "credit_exceeded" }] },
      step: { order: 20, label: "财务审批", approvers: { type: "role", role: "finance" }, mode: "any" },
    },
  ],
};

/** Validates admin-edited rule JSON; throws validation_failed naming the first bad field. */
export function parseRuleSet(json: unknown): RuleSet {
  const parsed = RuleSetSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  // Strict objects report the parent; naming the stray key tells the admin exactly what to delete.
  const segments = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
  const path = segments.map(String).join(".");
  throw new DomainError("validation_failed", `${path || "rule set"}: ${issue.message}`, { path });
}

/** Stable identity of an approver set, so equal approvers at the same order merge into one step. */
export function approverKey(a: ApproverSpec): string {
  if (a.type === "manager") return "manager";
  if (a.type === "role") return `role:${a.role}`;
  const ids = [...new Set(a.userIds)].sort((x, y) => x - y);
  return `users:${ids.join(",")}`;
}

/** The steps an order must pass, in order; autoApproved when no rule matches. */
export function evaluateRoute(ruleSet: RuleSet, input: RouteInput): ApprovalRoute {
  const drafts: Array<Omit<RouteStep, "stepNo"> & { order: number; key: string }> = [];
  for (const rule of ruleSet.rules) {
    const reasons = matchRule(rule, input);
    if (!reasons) continue;
    const { order, label, approvers, mode } = rule.step;
    const key = approverKey(approvers);
    const same = drafts.find((d) => d.order === order && d.key === key);
    if (same) {
      same.reasons.push(...reasons);
      if (mode === "all") same.mode = "all";
      continue;
    }
    drafts.push({ order, key, label, approvers: copyApprovers(approvers), mode, reasons });
  }
  drafts.sort((a, b) => a.order - b.order); // stable, so rule order breaks ties
  const steps = drafts.map(({ label, approvers, mode, reasons }, i) => ({
    stepNo: i + 1,
    label,
    approvers,
    mode,
    reasons: unique(reasons),
  }));
  return { autoApproved: steps.length === 0, steps, reasons: unique(steps.flatMap((s) => s.reasons)) };
}

// Every `all` condition must hold and, if `any` has entries, at least one of them; null means no match.
function matchRule(rule: Rule, input: RouteInput): RouteReason[] | null {
  const all = (rule.when.all ?? []).map((c) => checkCondition(c, input, rule.id));
  if (all.some((r) => r === null)) return null;
  const anyList = rule.when.any ?? [];
  const any = anyList.map((c) => checkCondition(c, input, rule.id)).filter((r) => r !== null);
  if (anyList.length > 0 && any.length === 0) return null;
  return [...(all as RouteReason[]), ...any];
}

function checkCondition(c: Condition, input: RouteInput, ruleId: string): RouteReason | null {
  const reason = (code: ReasonCode, params: RouteReason["params"]): RouteReason => ({ code, ruleId, params });
  const { totalFen, lines, customer } = input;
  switch (c.type) {
    case "total_above":
      return totalFen > c.fen ? reason("total_above", { totalFen, thresholdFen: c.fen }) : null;
    case "total_below":
      return totalFen < c.fen ? reason("total_below", { totalFen, thresholdFen: c.fen }) : null;
    case "discount_above": {
      const thresholdBp = Math.round(c.percent * 100);
      const hits = lines.filter((l) => lineDiscountBp(l) > thresholdBp);
      if (hits.length === 0) return null;
      const maxBp = Math.max(...hits.map(lineDiscountBp));
      const params = { skus: skus(hits), maxDiscountPercent: maxBp / 100, thresholdPercent: c.percent };
      return reason("discount_above", params);
    }
    case "below_floor": {
      const hits = lines.filter((l) => l.floorPriceFen !== null && l.unitPriceFen < l.floorPriceFen);
      return hits.length > 0 ? reason("below_floor", { skus: skus(hits) }) : null;
    }
    case "customer_level":
      return customer.level !== null && c.levels.includes(customer.level)
        ? reason("customer_level", { level: customer.level, levels: [...c.levels] })
        : null;
    case "credit_exceeded":
      return creditReason(input, reason);
    case "category": {
      const hits = lines.filter((l) => l.category !== null && c.categories.includes(l.category));
      if (hits.length === 0) return null;
      const categories = [...new Set(hits.map((l) => l.category as string))];
      return reason("category", { categories, skus: skus(hits) });
    }
    case "always":
      return reason("always", {});
  }
}

function creditReason(
  { totalFen, customer, openReceivablesFen }: RouteInput,
  reason: (code: ReasonCode, params: RouteReason["params"]) => RouteReason,
): RouteReason | null {
  const limitFen = customer.creditLimitFen;
  const exposureFen = openReceivablesFen + totalFen;
  if (limitFen === null || exposureFen <= limitFen) return null;
  const overFen = exposureFen - limitFen;
  return reason("credit_exceeded", { limitFen, openReceivablesFen, totalFen, exposureFen, overFen });
}

// A discount too small to round to 1 bp still counts, so "percent 0" really means any discount at all.
function lineDiscountBp(l: { listPriceFen: number; unitPriceFen: number }): number {
  if (l.listPriceFen <= 0 || l.unitPriceFen >= l.listPriceFen) return 0;
  return Math.max(1, discountBp(l.listPriceFen, l.unitPriceFen));
}

function skus(lines: Array<{ sku: string }>): string[] {
  return [...new Set(lines.map((l) => l.sku))];
}

function copyApprovers(a: ApproverSpec): ApproverSpec {
  return a.type === "users" ? { type: "users", userIds: [...a.userIds] } : { ...a };
}

function unique(reasons: RouteReason[]): RouteReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = JSON.stringify([r.code, r.ruleId, r.params]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export { describeReason } from "./approval-reasons";
