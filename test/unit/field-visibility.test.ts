import { redactOrderView, visibleFields } from "../../src/domain/field-visibility";
import { orderStatusCard } from "../../src/domain/cards";
import { ROLES, type Actor, type Role } from "../../src/domain/roles";
import { buildOrderView, buildStep } from "../helpers/order-view-fixture";

const user = (...roles: Role[]): Actor => ({ kind: "user", userId: 3, roles, label: "user:3" });

describe("visibleFields", () => {
  const expected: Record<Role, boolean> = { sales: true, manager: true, finance: true, director: true, admin: true, warehouse: false, purchasing: false };

  it.each(ROLES.map((role) => [role, expected[role]] as const))("%s sees prices and credit: %s", (role, sees) => {
    expect(visibleFields(user(role))).toEqual({ prices: sees, credit: sees });
  });

  it("adds roles up: a warehouse member who also sells sees prices", () => {
    expect(visibleFields(user("warehouse", "sales"))).toEqual({ prices: true, credit: true });
  });

  it("shows nothing to a person without a role, everything to API keys and the system", () => {
    expect(visibleFields(user())).toEqual({ prices: false, credit: false });
    expect(visibleFields({ kind: "api", roles: [] })).toEqual({ prices: true, credit: true });
    expect(visibleFields({ kind: "system", roles: [] })).toEqual({ prices: true, credit: true });
  });
});

describe("redactOrderView", () => {
  const creditReason = { code: "credit_exceeded" as const, ruleId: "finance-credit", params: { limitFen: 10_000_00, openReceivablesFen: 9_000_00, totalFen: 662_500 } };
  const view = buildOrderView({
    paidFen: 100_00,
    payments: [{ id: 1, amountFen: 100_00, paidAt: "2026-11-23T06:00:00.000Z", method: "bank", reference: "R1" }],
    approval: { round: 1, autoApproved: false, reasons: [creditReason], steps: [buildStep({ reasons: [creditReason] })] },
  });

  it("leaves the order untouched for someone who may see prices", () => {
    expect(redactOrderView(view, { prices: true, credit: true })).toBe(view);
  });

  it("removes every amount and the approval reasons that quote them, keeping what the warehouse works from", () => {
    const shown = redactOrderView(view, visibleFields(user("warehouse")));
    const text = JSON.stringify(shown);
    expect(text).not.toMatch(/Fen"|discountBp|payments|credit_exceeded/);
    expect(shown.lines.map((l) => [l.sku, l.qty, l.unit])).toEqual([["N95-001", 200, "箱"], ["GLV-050", 50, "盒"]]);
    expect(shown.shipTo).toEqual(view.shipTo);
    expect(shown.approval.steps[0]).toMatchObject({ label: "直属主管审批", status: "pending", reasons: [] });
  });
});

describe("the chat status card for someone who may not see prices", () => {
  it("has the lines and quantities but no amount", () => {
    const view = buildOrderView();
    const priced = JSON.stringify(orderStatusCard(view, { locale: "zh-CN" }));
    const plain = JSON.stringify(orderStatusCard(view, { locale: "zh-CN", prices: false }));
    expect(priced).toContain("¥6,000.00");
    expect(plain).not.toMatch(/¥/);
    expect(plain).toContain("N95口罩");
    expect(plain).toContain("200");
  });
});
