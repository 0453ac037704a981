import {
  DEFAULT_RULE_SET,
  approverKey,
  describeReason,
  evaluateRoute,
  parseRuleSet,
  type Condition,
  type Rule,
  type RouteInput,
  type RouteReason,
  type RuleSet,
} from "../../src/domain/approval-rules";
import { DomainError } from "../../src/domain/errors";

type Line = RouteInput["lines"][number];

function line(overrides: Partial<Line> = {}): Line {
  return {
    sku: "SKU-1001",
    category: null,
    listPriceFen: 10_000,
    unitPriceFen: 10_000,
    floorPriceFen: null,
    qty: 1,
    ...overrides,
  };
}

function input(overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    totalFen: 100_000,
    lines: [line()],
    customer: { level: null, creditLimitFen: null },
    openReceivablesFen: 0,
    ...overrides,
  };
}

function rule(id: string, when: Rule["when"], step: Partial<Rule["step"]> = {}): Rule {
  return {
    id,
    name: id,
    when,
    step: { order: 10, label: id, approvers: { type: "manager" }, mode: "any", ...step },
  };
}

function singleCondition(condition: Condition): RuleSet {
  return { version: 1, rules: [rule("r1", { any: [condition] })] };
}

describe("evaluateRoute, one condition at a time", () => {
  const cases: Array<{ name: string; condition: Condition; input: RouteInput; reason: RouteReason["params"] | null }> = [
    {
      name: "total_above is false at exactly the threshold",
      condition: { type: "total_above", fen: 500_000 },
      input: input({ totalFen: 500_000 }),
      reason: null,
    },
    {
      name: "total_above is true one fen over the threshold",
      condition: { type: "total_above", fen: 500_000 },
      input: input({ totalFen: 500_001 }),
      reason: { totalFen: 500_001, thresholdFen: 500_000 },
    },
    {
      name: "total_below is true one fen under the threshold",
      condition: { type: "total_below", fen: 10_000 },
      input: input({ totalFen: 9_999 }),
      reason: { totalFen: 9_999, thresholdFen: 10_000 },
    },
    {
      name: "total_below is false at exactly the threshold",
      condition: { type: "total_below", fen: 10_000 },
      input: input({ totalFen: 10_000 }),
      reason: null,
    },
    {
      name: "discount_above 10% is false for exactly 10% off",
      condition: { type: "discount_above", percent: 10 },
      input: input({ lines: [line({ unitPriceFen: 9_000 })] }),
      reason: null,
    },
    {
      name: "discount_above 10% is true for 10.01% off and names the sku",
      condition: { type: "discount_above", percent: 10 },
      input: input({ lines: [line({ sku: "A", unitPriceFen: 9_500 }), line({ sku: "B", unitPriceFen: 8_999 })] }),
      reason: { skus: ["B"], maxDiscountPercent: 10.01, thresholdPercent: 10 },
    },
    {
      name: "discount_above reports the largest discount among the offending lines",
      condition: { type: "discount_above", percent: 10 },
      input: input({ lines: [line({ sku: "A", unitPriceFen: 8_500 }), line({ sku: "B", unitPriceFen: 8_000 })] }),
      reason: { skus: ["A", "B"], maxDiscountPercent: 20, thresholdPercent: 10 },
    },
    {
      name: "discount_above 0% is false at list price and above it",
      condition: { type: "discount_above", percent: 0 },
      input: input({ lines: [line(), line({ sku: "X", unitPriceFen: 12_000 })] }),
      reason: null,
    },
    {
      name: "discount_above 0% is true for a one-fen discount too small to round to a basis point",
      condition: { type: "discount_above", percent: 0 },
      input: input({ lines: [line({ listPriceFen: 1_000_000, unitPriceFen: 999_999 })] }),
      reason: { skus: ["SKU-1001"], maxDiscountPercent: 0.01, thresholdPercent: 0 },
    },
    {
      name: "below_floor ignores lines without a floor and lines exactly at it",
      condition: { type: "below_floor" },
      input: input({ lines: [line({ unitPriceFen: 1 }), line({ sku: "F", unitPriceFen: 8_000, floorPriceFen: 8_000 })] }),
      reason: null,
    },
    {
      name: "below_floor is true one fen under the floor",
      condition: { type: "below_floor" },
      input: input({ lines: [line({ sku: "F", unitPriceFen: 7_999, floorPriceFen: 8_000 })] }),
      reason: { skus: ["F"] },
    },
    {
      name: "customer_level is true for a listed level",
      condition: { type: "customer_level", levels: ["C", "D"] },
      input: input({ customer: { level: "D", creditLimitFen: null } }),
      reason: { level: "D", levels: ["C", "D"] },
    },
    {
      name: "customer_level is false for another level",
      condition: { type: "customer_level", levels: ["C", "D"] },
      input: input({ customer: { level: "A", creditLimitFen: null } }),
      reason: null,
    },
    {
      name: "customer_level is false when the customer has no level",
      condition: { type: "customer_level", levels: ["C"] },
      input: input({ customer: { level: null, creditLimitFen: null } }),
      reason: null,
    },
    {
      name: "credit_exceeded is false without a credit limit",
      condition: { type: "credit_exceeded" },
      input: input({ totalFen: 10 ** 9, openReceivablesFen: 10 ** 9 }),
      reason: null,
    },
    {
      name: "credit_exceeded is false when exposure equals the limit",
      condition: { type: "credit_exceeded" },
      input: input({ totalFen: 30_000, openReceivablesFen: 70_000, customer: { level: null, creditLimitFen: 100_000 } }),
      reason: null,
    },
    {
      name: "credit_exceeded is true one fen over the limit",
      condition: { type: "credit_exceeded" },
      input: input({ totalFen: 30_001, openReceivablesFen: 70_000, customer: { level: null, creditLimitFen: 100_000 } }),
      reason: { limitFen: 100_000, openReceivablesFen: 70_000, totalFen: 30_001, exposureFen: 100_001, overFen: 1 },
    },
    {
      name: "category is true for a line in a listed category",
      condition: { type: "category", categories: ["冷链", "药品"] },
      input: input({ lines: [line({ sku: "A", category: "冷链" }), line({ sku: "B", category: "文具" })] }),
      reason: { categories: ["冷链"], skus: ["A"] },
    },
    {
      name: "category is false for other and missing categories",
      condition: { type: "category", categories: ["冷链"] },
      input: input({ lines: [line({ category: "文具" }), line({ category: null })] }),
      reason: null,
    },
    {
      name: "always is always true",
      condition: { type: "always" },
      input: input(),
      reason: {},
    },
  ];

  it.each(cases)("$name", ({ condition, input: routeInput, reason }) => {
    const route = evaluateRoute(singleCondition(condition), routeInput);
    if (reason === null) {
      expect(route).toEqual({ autoApproved: true, steps: [], reasons: [] });
      return;
    }
    const expected: RouteReason = { code: condition.type, ruleId: "r1", params: reason };
    expect(route.autoApproved).toBe(false);
    expect(route.steps).toHaveLength(1);
    expect(route.steps[0].reasons).toEqual([expected]);
    expect(route.reasons).toEqual([expected]);
  });
});

describe("evaluateRoute, combining conditions", () => {
  const big = { type: "total_above", fen: 1_000 } as const;
  const vip: Condition = { type: "customer_level", levels: ["VIP"] };
  const vipCustomer = { level: "VIP", creditLimitFen: null };

  it("needs every `all` condition and reports each of them", () => {
    const set: RuleSet = { version: 1, rules: [rule("r", { all: [big, vip] })] };
    expect(evaluateRoute(set, input({ totalFen: 2_000 })).autoApproved).toBe(true);
    const route = evaluateRoute(set, input({ totalFen: 2_000, customer: vipCustomer }));
    expect(route.reasons.map((r) => r.code)).toEqual(["total_above", "customer_level"]);
  });

  it("needs the `all` conditions and at least one `any` condition when both are given", () => {
    const set: RuleSet = { version: 1, rules: [rule("r", { all: [vip], any: [big, { type: "below_floor" }] })] };
    expect(evaluateRoute(set, input({ totalFen: 500, customer: vipCustomer })).autoApproved).toBe(true);
    const route = evaluateRoute(set, input({ totalFen: 2_000, customer: vipCustomer }));
    expect(route.reasons.map((r) => r.code)).toEqual(["customer_level", "total_above"]);
  });

  it("reports only the `any` conditions that matched", () => {
    const set: RuleSet = { version: 1, rules: [rule("r", { any: [big, vip, { type: "always" }] })] };
    const route = evaluateRoute(set, input({ totalFen: 2_000 }));
    expect(route.reasons.map((r) => r.code)).toEqual(["total_above", "always"]);
  });

  it("lists an identical reason once when a rule repeats a condition", () => {
    const set: RuleSet = { version: 1, rules: [rule("r", { any: [big, big] })] };
    const route = evaluateRoute(set, input({ totalFen: 2_000 }));
    expect(route.steps[0].reasons).toHaveLength(1);
    expect(route.reasons).toEqual([{ code: "total_above", ruleId: "r", params: { totalFen: 2_000, thresholdFen: 1_000 } }]);
  });
});

describe("evaluateRoute, building steps", () => {
  const always = { any: [{ type: "always" as const }] };

  it("merges rules with the same order and approvers, sorts by order and renumbers from 1", () => {
    const set: RuleSet = {
      version: 1,
      rules: [
        rule("late", always, { order: 30, label: "总监审批", approvers: { type: "role", role: "director" } }),
        rule("mgr-a", always, { order: 10, label: "主管审批 A" }),
        rule("users-a", always, { order: 10, label: "指定人员", approvers: { type: "users", userIds: [7, 3] } }),
        rule("mgr-b", always, { order: 10, label: "主管审批 B", mode: "all" }),
        rule("users-b", always, { order: 10, label: "其他", approvers: { type: "users", userIds: [3, 7] } }),
        rule("finance", always, { order: 20, approvers: { type: "role", role: "finance" } }),
      ],
    };
    const route = evaluateRoute(set, input());
    expect(route.steps.map((s) => [s.stepNo, s.label, approverKey(s.approvers), s.mode])).toEqual([
      [1, "主管审批 A", "manager", "all"],
      [2, "指定人员", "users:3,7", "any"],
      [3, "finance", "role:finance", "any"],
      [4, "总监审批", "role:director", "any"],
    ]);
    expect(route.steps[0].reasons.map((r) => r.ruleId)).toEqual(["mgr-a", "mgr-b"]);
    expect(route.steps[1].reasons.map((r) => r.ruleId)).toEqual(["users-a", "users-b"]);
    expect(route.reasons.map((r) => r.ruleId)).toEqual(["mgr-a", "mgr-b", "users-a", "users-b", "finance", "late"]);
  });

  it("keeps the same approvers at different orders as separate steps", () => {
    const set: RuleSet = {
      version: 1,
      rules: [rule("a", always, { order: 10 }), rule("b", always, { order: 20 })],
    };
    expect(evaluateRoute(set, input()).steps.map((s) => [s.stepNo, s.reasons[0].ruleId])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
  });

  it("does not let a caller change the rule set through the route it returns", () => {
    const set: RuleSet = {
      version: 1,
      rules: [rule("u", always, { approvers: { type: "users", userIds: [1] } })],
    };
    const route = evaluateRoute(set, input());
    const approvers = route.steps[0].approvers;
    if (approvers.type === "users") approvers.userIds.push(99);
    expect(set.rules[0].step.approvers).toEqual({ type: "users", userIds: [1] });
  });
});

describe("DEFAULT_RULE_SET", () => {
  const route = (overrides: Partial<RouteInput>) => evaluateRoute(DEFAULT_RULE_SET, input(overrides));
  const steps = (overrides: Partial<RouteInput>) =>
    route(overrides).steps.map((s) => ({ stepNo: s.stepNo, approvers: approverKey(s.approvers), codes: s.reasons.map((r) => r.code) }));
  const creditLimited = { level: null, creditLimitFen: 10_000_000 };

  it("approves exactly ¥5,000 with no discount automatically", () => {
    expect(route({ totalFen: 500_000 })).toEqual({ autoApproved: true, steps: [], reasons: [] });
  });

  it("sends ¥5,000.01 to the direct manager, saying why", () => {
    const r = route({ totalFen: 500_001 });
    expect(r.autoApproved).toBe(false);
    expect(r.steps).toEqual([
      {
        stepNo: 1,
        label: "直属主管审批",
        approvers: { type: "manager" },
        mode: "any",
        reasons: [{ code: "total_above", ruleId: "manager-review", params: { totalFen: 500_001, thresholdFen: 500_000 } }],
      },
    ]);
  });

  it("sends a small order with any discount to the direct manager", () => {
    expect(steps({ totalFen: 9_900, lines: [line({ unitPriceFen: 9_900 })] })).toEqual([
      { stepNo: 1, approvers: "manager", codes: ["discount_above"] },
    ]);
  });

  it("adds finance above ¥50,000 but not at exactly ¥50,000", () => {
    expect(steps({ totalFen: 5_000_000 })).toEqual([{ stepNo: 1, approvers: "manager", codes: ["total_above"] }]);
    expect(steps({ totalFen: 5_000_001 })).toEqual([
      { stepNo: 1, approvers: "manager", codes: ["total_above"] },
      { stepNo: 2, approvers: "role:finance", codes: ["total_above"] },
    ]);
  });

  it("adds one finance step carrying both reasons when a large order also exceeds credit", () => {
    const r = route({ totalFen: 6_000_000, openReceivablesFen: 5_000_000, customer: creditLimited });
    expect(r.steps).toHaveLength(2);
    expect(r.steps[1]).toEqual({
      stepNo: 2,
      label: "财务审批",
      approvers: { type: "role", role: "finance" },
      mode: "any",
      reasons: [
        { code: "total_above", ruleId: "finance-large-order", params: { totalFen: 6_000_000, thresholdFen: 5_000_000 } },
        {
          code: "credit_exceeded",
          ruleId: "finance-credit",
          params: {
            limitFen: 10_000_000,
            openReceivablesFen: 5_000_000,
            totalFen: 6_000_000,
            exposureFen: 11_000_000,
            overFen: 1_000_000,
          },
        },
      ],
    });
    expect(r.reasons.map((x) => `${x.ruleId}:${x.code}`)).toEqual([
      "manager-review:total_above",
      "manager-review:credit_exceeded",
      "finance-large-order:total_above",
      "finance-credit:credit_exceeded",
    ]);
  });

  it("never auto-approves a small undiscounted order over the credit limit: manager, then finance", () => {
    expect(steps({ totalFen: 100_000, openReceivablesFen: 9_950_000, customer: creditLimited })).toEqual([
      { stepNo: 1, approvers: "manager", codes: ["credit_exceeded"] },
      { stepNo: 2, approvers: "role:finance", codes: ["credit_exceeded"] },
    ]);
  });

  it("is itself a valid rule set", () => {
    expect(parseRuleSet(DEFAULT_RULE_SET)).toEqual(DEFAULT_RULE_SET);
  });
});

describe("approverKey", () => {
  it.each([
    [{ type: "manager" as const }, "manager"],
    [{ type: "role" as const, role: "finance" as const }, "role:finance"],
    [{ type: "users" as const, userIds: [7, 3, 7] }, "users:3,7"],
    [{ type: "users" as const, userIds: [10, 9] }, "users:9,10"],
  ])("keys %j as %s", (spec, key) => {
    expect(approverKey(spec)).toBe(key);
  });
});

describe("parseRuleSet", () => {
  const valid = () => JSON.parse(JSON.stringify(DEFAULT_RULE_SET));
  const withCondition = (condition: unknown) => {
    const set = valid();
    set.rules[0].when = { any: [condition] };
    return set;
  };
  const withApprovers = (approvers: unknown) => {
    const set = valid();
    set.rules[0].step.approvers = approvers;
    return set;
  };

  it("accepts a rule set with every condition and approver kind", () => {
    const json = {
      version: 1,
      rules: [
        {
          id: "all-kinds",
          name: "all kinds",
          when: {
            all: [{ type: "always" }],
            any: [
              { type: "total_above", fen: 0 },
              { type: "total_below", fen: 100 },
              { type: "discount_above", percent: 12.5 },
              { type: "below_floor" },
              { type: "customer_level", levels: ["C"] },
              { type: "credit_exceeded" },
              { type: "category", categories: ["冷链"] },
            ],
          },
          step: { order: 5, label: "指定人员", approvers: { type: "users", userIds: [3, 7] }, mode: "all" },
        },
      ],
    };
    expect(parseRuleSet(json)).toEqual(json);
  });

  const bad: Array<[string, unknown, string]> = [
    ["a negative fen", withCondition({ type: "total_above", fen: -1 }), "rules.0.when.any.0.fen"],
    ["a fractional fen", withCondition({ type: "total_above", fen: 1.5 }), "rules.0.when.any.0.fen"],
    ["an unsafe fen", withCondition({ type: "total_below", fen: 2 ** 60 }), "rules.0.when.any.0.fen"],
    ["a missing fen", withCondition({ type: "total_above" }), "rules.0.when.any.0.fen"],
    ["a percent over 100", withCondition({ type: "discount_above", percent: 101 }), "rules.0.when.any.0.percent"],
    ["a negative percent", withCondition({ type: "discount_above", percent: -1 }), "rules.0.when.any.0.percent"],
    ["a percent finer than 0.01", withCondition({ type: "discount_above", percent: 12.345 }), "rules.0.when.any.0.percent"],
    ["an unknown condition type", withCondition({ type: "weekday" }), "rules.0.when.any.0.type"],
    ["an unknown key in a condition", withCondition({ type: "always", fen: 1 }), "rules.0.when.any.0.fen"],
    ["empty levels", withCondition({ type: "customer_level", levels: [] }), "rules.0.when.any.0.levels"],
    ["an unknown role", withApprovers({ type: "role", role: "ceo" }), "rules.0.step.approvers.role"],
    ["empty userIds", withApprovers({ type: "users", userIds: [] }), "rules.0.step.approvers.userIds"],
    ["a zero user id", withApprovers({ type: "users", userIds: [3, 0] }), "rules.0.step.approvers.userIds.1"],
  ];

  it.each(bad)("rejects %s, naming the field", (_name, json, path) => {
    expect(() => parseRuleSet(json)).toThrow(DomainError);
    try {
      parseRuleSet(json);
    } catch (err) {
      expect(err).toMatchObject({ code: "validation_failed", details: { path } });
      expect((err as Error).message.startsWith(`${path}: `)).toBe(true);
    }
  });

  it("rejects a rule with no conditions at path rules.N.when", () => {
    const set = valid();
    set.rules[2].when = { any: [], all: [] };
    expect(() => parseRuleSet(set)).toThrow(expect.objectContaining({ details: { path: "rules.2.when" } }));
  });

  it("rejects a duplicate rule id at the second occurrence", () => {
    const set = valid();
    set.rules[2].id = "manager-review";
    expect(() => parseRuleSet(set)).toThrow(
      expect.objectContaining({ code: "validation_failed", details: { path: "rules.2.id" } }),
    );
  });

  it("rejects more than 50 rules", () => {
    const rules = Array.from({ length: 51 }, (_, i) => ({ ...valid().rules[0], id: `r${i}` }));
    expect(() => parseRuleSet({ version: 1, rules })).toThrow(expect.objectContaining({ details: { path: "rules" } }));
    expect(parseRuleSet({ version: 1, rules: rules.slice(0, 50) }).rules).toHaveLength(50);
  });

  it.each<[string, unknown, string]>([
    ["an unknown version", { ...valid(), version: 2 }, "version"],
    ["an unknown top-level key", { ...valid(), enabled: true }, "enabled"],
    ["an unknown step key", (() => { const s = valid(); s.rules[1].step.timeout = 3; return s; })(), "rules.1.step.timeout"],
    ["something that is not an object", "rules", ""],
  ])("rejects %s", (_name, json, path) => {
    expect(() => parseRuleSet(json)).toThrow(expect.objectContaining({ code: "validation_failed", details: { path } }));
  });
});

describe("describeReason", () => {
  const reason = (code: RouteReason["code"], params: RouteReason["params"]): RouteReason => ({ code, ruleId: "r", params });
  const credit = { limitFen: 10_000_000, openReceivablesFen: 9_500_000, totalFen: 1_000_000, exposureFen: 10_500_000, overFen: 500_000 };

  it.each<[RouteReason, string, string]>([
    [
      reason("total_above", { totalFen: 6_000_000, thresholdFen: 5_000_000 }),
      "订单金额 ¥60,000.00 超过 ¥50,000.00",
      "Order total ¥60,000.00 exceeds ¥50,000.00",
    ],
    [
      reason("total_below", { totalFen: 1_050, thresholdFen: 50_000 }),
      "订单金额 ¥10.50 低于 ¥500.00",
      "Order total ¥10.50 is below ¥500.00",
    ],
    [
      reason("discount_above", { skus: ["SKU-1001"], maxDiscountPercent: 15, thresholdPercent: 0 }),
      "SKU-1001 低于标价 15%",
      "SKU-1001 is 15% below list price",
    ],
    [
      reason("discount_above", { skus: ["SKU-1001", "SKU-1002"], maxDiscountPercent: 12.5, thresholdPercent: 10 }),
      "SKU-1001、SKU-1002 低于标价，最多 12.5%（上限 10%）",
      "SKU-1001, SKU-1002 are up to 12.5% below list price (limit 10%)",
    ],
    [reason("below_floor", { skus: ["SKU-1001"] }), "SKU-1001 低于底价", "SKU-1001 is priced below its floor price"],
    [
      reason("below_floor", { skus: ["A", "B"] }),
      "A、B 低于底价",
      "A, B are priced below their floor prices",
    ],
    [reason("customer_level", { level: "C", levels: ["C", "D"] }), "客户等级 C 需审批", "Customer level C requires approval"],
    [
      reason("credit_exceeded", credit),
      "客户信用超限：额度 ¥100,000.00，未收 ¥95,000.00 + 本单 ¥10,000.00",
      "Credit limit exceeded: limit ¥100,000.00, unpaid ¥95,000.00 + this order ¥10,000.00",
    ],
    [
      reason("category", { categories: ["冷链"], skus: ["A", "B"] }),
      "含品类 冷链：A、B",
      "Contains category 冷链: A, B",
    ],
    [
      reason("category", { categories: ["冷链", "药品"], skus: ["A"] }),
      "含品类 冷链、药品：A",
      "Contains categories 冷链, 药品: A",
    ],
    [reason("always", {}), "所有订单均需审批", "Every order requires approval"],
  ])("describes %j", (r, zh, en) => {
    expect(describeReason(r, "zh-CN")).toBe(zh);
    expect(describeReason(r, "en")).toBe(en);
  });

  it("falls back to the code for a reason it does not know", () => {
    const stored = { code: "weekend", ruleId: "r", params: {} } as unknown as RouteReason;
    expect(describeReason(stored, "zh-CN")).toBe("weekend");
  });

  it("describes what evaluateRoute produced for the default rules", () => {
    const route = evaluateRoute(DEFAULT_RULE_SET, input({ totalFen: 500_001 }));
    expect(route.reasons.map((r) => describeReason(r, "zh-CN"))).toEqual(["订单金额 ¥5,000.01 超过 ¥5,000.00"]);
  });
});
