import { buildCustomer, buildProduct, buildTeam, buildUser, actorFor, API_ACTOR } from "../helpers/factories";
import { fakeClock, outboxRows, routeTo } from "../helpers/jobs";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("approval reminders and escalation (fake clock, Shanghai working hours)", () => {
  const clock = fakeClock("2026-03-02T10:00:00+08:00"); // a Monday
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp({ now: clock.now });
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const run = async () => (await t.app.jobRunner({ schedule: false }).runNow("approval-reminders")) as Record<string, number>;

  async function pendingOrder(approverIds: number[], mode: "any" | "all" = "any") {
    await routeTo(t.app, approverIds, mode);
    const product = await buildProduct(t.app, { onHand: 100 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const order = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api", submit: true, salesRepId: team.rep.id }, API_ACTOR);
    const step = (await t.app.db.models.ApprovalStep.findOne({ where: { orderId: order.id } }))!;
    return { order, step };
  }

  it("reminds once after two working hours, again only two hours later, then escalates to the manager after eight", async () => {
    clock.set("2026-03-02T10:00:00+08:00");
    const approver = await buildUser(t.app, ["manager"], team.director.id, "孙经理");
    const { order, step } = await pendingOrder([approver.id]);
    const reminders = async () => (await outboxRows(t.app, "card.send")).filter((r) => r.payload.card === "approval_reminder" && r.payload.stepId === step.id);

    clock.set("2026-03-02T11:30:00+08:00");
    expect((await run()).reminded).toBe(0);
    clock.set("2026-03-02T12:05:00+08:00");
    expect((await run()).reminded).toBe(1);
    clock.set("2026-03-02T12:20:00+08:00");
    await run();
    expect(await reminders()).toHaveLength(1);
    expect((await reminders())[0].payload.userId).toBe(approver.id);

    clock.set("2026-03-02T14:10:00+08:00");
    await run();
    expect(await reminders()).toHaveLength(2);

    // After hours nothing happens, however long it waited.
    clock.set("2026-03-02T20:00:00+08:00");
    expect(await run()).toMatchObject({ due: 0, reminded: 0, escalated: 0 });

    // 10:00–18:00 Monday + 30 minutes Tuesday = 8.5 working hours.
    clock.set("2026-03-03T09:30:00+08:00");
    expect((await run()).escalated).toBe(1);
    const escalated = (await t.app.db.models.ApprovalStep.findByPk(step.id))!;
    expect(escalated.approverIds).toEqual([approver.id, team.director.id]);
    expect(escalated.escalatedAt).not.toBeNull();
    const texts = await outboxRows(t.app, "chat.text");
    expect(texts.find((r) => r.dedupeKey === `chat.text:escalated:${step.id}:${team.director.id}`)?.payload.text).toContain("已升级给您审批");
    expect(texts.find((r) => r.dedupeKey === `chat.text:escalated:${step.id}:rep`)?.payload).toMatchObject({ userId: team.rep.id });
    expect((await outboxRows(t.app, "card.send")).some((r) => r.dedupeKey === `card.send:approval:${step.id}:${team.director.id}`)).toBe(true);

    // Escalation happens once; the added manager can decide.
    clock.set("2026-03-03T09:45:00+08:00");
    expect((await run()).escalated).toBe(0);
    const view = await t.app.services.decideApproval({ orderId: order.id, decision: "approve" }, actorFor(team.director));
    expect(view.status).toBe("approved");
  });

  it("chases nobody at the weekend", async () => {
    clock.set("2026-03-06T10:00:00+08:00"); // Friday
    await pendingOrder([team.finance.id]);
    clock.set("2026-03-07T15:00:00+08:00"); // Saturday
    expect(await run()).toMatchObject({ due: 0 });
    clock.set("2026-03-09T09:10:00+08:00"); // Monday: 8 h Friday + 10 min
    expect((await run()).escalated).toBeGreaterThanOrEqual(1);
  });

  it("on a countersign step adds only the undecided approver's manager, whose approval completes the step", async () => {
    clock.set("2026-03-10T10:00:00+08:00");
    const a = await buildUser(t.app, ["finance"], team.director.id, "甲");
    const boss = await buildUser(t.app, ["manager"], null, "乙的上级");
    const b = await buildUser(t.app, ["finance"], boss.id, "乙");
    const { order, step } = await pendingOrder([a.id, b.id], "all");
    await t.app.services.decideApproval({ orderId: order.id, decision: "approve" }, actorFor(a));
    clock.set("2026-03-11T11:00:00+08:00");
    await run();
    const after = (await t.app.db.models.ApprovalStep.findByPk(step.id))!;
    expect(after.approverIds).toEqual([a.id, b.id, boss.id]);
    const view = await t.app.services.decideApproval({ orderId: order.id, decision: "approve" }, actorFor(boss));
    expect(view.status).toBe("approved");
  });
});
