import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buttonsOf, consoleDriver, textOf } from "../helpers/console-driver";

/** The whole product through the simulator: a rep orders in words, a manager approves on the card, and so on. */
describe("chat flow through the simulator", () => {
  let t: TestApp;
  let chat: ReturnType<typeof consoleDriver>;
  beforeAll(async () => {
    t = await createTestApp({ seed: true });
    chat = consoleDriver(t);
  });
  afterAll(() => t.close());

  const api = () => request(t.callback);

  async function orderInWords(text: string) {
    await chat.say("sales", text);
    const preview = await chat.lastCard("user:sales");
    const submit = buttonsOf(preview.html).find((b) => b.action === "order.submit");
    expect(submit).toBeDefined();
    return { preview, submit: submit!, orderId: Number(submit!.values.orderId) };
  }

  it("takes an order in plain words through approval, picking and shipping to the customer", async () => {
    const { preview, submit, orderId } = await orderInWords("下单 华东医疗 N95口罩 20箱 单价30，丁腈手套x50");
    expect(textOf(preview.html)).toContain("华东医疗器械有限公司");
    expect(textOf(preview.html)).toContain("N95口罩");
    expect(textOf(preview.html)).toContain("¥1,350.00");

    await chat.tap("sales", submit);
    const redrawn = (await chat.messages("user:sales")).find((m) => m.id === preview.id)!;
    expect(buttonsOf(redrawn.html).map((b) => b.action)).not.toContain("order.submit");

    const approval = await chat.lastCard("user:manager");
    expect(textOf(approval.html)).toContain("王小明");
    const approve = buttonsOf(approval.html).find((b) => b.action === "approval.approve")!;
    expect(approve.values).toMatchObject({ orderId: String(orderId) });

    // Someone who is not the approver taps the same button: polite refusal, nothing changes.
    await chat.tap("warehouse", approve);
    expect((await chat.texts("user:warehouse")).pop()).toMatch(/审批人/);
    expect((await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status).toBe("pending_approval");

    await chat.tap("manager", approve);
    await chat.tap("manager", approve); // a double tap changes nothing and sends nothing twice
    const decided = (await chat.messages("user:manager")).find((m) => m.id === approval.id)!;
    expect(buttonsOf(decided.html)).toEqual([]);
    expect(textOf(decided.html)).toMatch(/已同意/);
    expect((await chat.texts("user:sales")).join("\n")).toMatch(/李经理/);

    const pick = await chat.lastCard("user:warehouse");
    expect(textOf(pick.html)).toContain("待拣货");

    for (const step of ["start-picking", "pack"]) {
      expect((await api().post(`/api/v1/orders/${orderId}/${step}`).set(t.apiKeyHeader)).status).toBe(200);
    }
    const shipped = await api()
      .post(`/api/v1/orders/${orderId}/shipments`)
      .set(t.apiKeyHeader)
      .send({ carrier: "顺丰速运", trackingNo: "SF1234567890" });
    expect(shipped.body.status).toBe("shipped");
    await chat.settle();

    const notice = await chat.lastCard("customer:HDYL");
    expect(textOf(notice.html)).toContain("SF1234567890");
    expect(textOf(notice.html)).toContain("顺丰速运");
    expect(textOf(notice.html)).not.toContain("¥");
    expect((await chat.texts("user:sales")).join("\n")).toContain("SF1234567890");

    const approvalCards = (await chat.messages("user:manager")).filter((m) => m.kind === "card");
    expect(approvalCards).toHaveLength(1);
  });

  it("takes a rejection with a reason, and the rep revises and resubmits", async () => {
    const { submit, orderId } = await orderInWords("order ACME: 20 x SKU-1001 @ 28");
    await chat.tap("sales", submit);
    const approval = await chat.lastCard("user:manager");
    const reject = buttonsOf(approval.html).find((b) => b.action === "approval.reject" && !b.select)!;
    await chat.tap("manager", reject);
    const reasons = await chat.lastCard("user:manager");
    expect(buttonsOf(reasons.html).map((b) => b.action)).toContain("approval.reject");
    await chat.say("manager", "价格太低了，最低 30");
    const order = (await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body;
    expect(order.status).toBe("rejected");
    // The reason card was answered by typing: it now shows the outcome, with nothing left to pick.
    const answered = (await chat.messages("user:manager")).find((m) => m.id === reasons.id)!;
    expect(buttonsOf(answered.html)).toEqual([]);
    expect(textOf(answered.html)).toMatch(/已驳回/);
    expect(order.approval.steps[0].decisions[0].comment).toBe("价格太低了，最低 30");
    expect((await chat.texts("user:sales")).join("\n")).toContain("价格太低了，最低 30");

    const revised = await api()
      .post(`/api/v1/orders/${orderId}/submit`)
      .set(t.apiKeyHeader)
      .send({});
    expect(revised.status).toBe(409); // a rejected order must be revised first
    const { reviseOrder } = t.app.services;
    await reviseOrder({ orderId, lines: [{ sku: "SKU-1001", qty: 20, unitPriceFen: 3000 }] }, { kind: "api", userId: null, roles: [], label: "api:test" });
    const resubmitted = await api().post(`/api/v1/orders/${orderId}/submit`).set(t.apiKeyHeader).send({});
    expect(resubmitted.body).toMatchObject({ status: "pending_approval", approval: { round: 2 } });
    await chat.settle();
    const second = await chat.lastCard("user:manager");
    expect(second.id).not.toBe(approval.id);
    expect(buttonsOf(second.html).map((b) => b.action)).toContain("approval.approve");
  });

  it("retires a reason card the platform can no longer update without telling the approver twice", async () => {
    const { submit, orderId } = await orderInWords("order ACME: 5 x SKU-1001 @ 28");
    await chat.tap("sales", submit);
    const approval = await chat.lastCard("user:manager");
    await chat.tap("manager", buttonsOf(approval.html).find((b) => b.action === "approval.reject" && !b.select)!);
    const reasons = await chat.lastCard("user:manager");
    // The platform has dropped that message (an expired card, a deleted chat): it cannot be redrawn.
    await t.app.db.sequelize.query("DELETE FROM sim_messages WHERE id = ?", { replacements: [Number(reasons.id)] });
    const textsBefore = (await chat.texts("user:manager")).length;

    await chat.say("manager", "价格不对");
    expect((await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status).toBe("rejected");
    // The approval card shows the outcome; the lost reason card is retired, and no text stands in for it.
    const decided = (await chat.messages("user:manager")).find((m) => m.id === approval.id)!;
    expect(textOf(decided.html)).toMatch(/已驳回/);
    const texts = (await chat.texts("user:manager")).slice(textsBefore);
    expect(texts).toEqual([expect.stringContaining("已驳回订单")]); // the bot's answer to the typed reason only
    const ref = await t.app.db.models.CardRef.findOne({ where: { orderId, kind: "reject_reason" } });
    expect(ref).toMatchObject({ live: false });
  });

  it("needs both approvers on a countersign step, and shows progress on every copy", async () => {
    const m = t.app.db.models;
    const [finance, director] = await Promise.all([
      m.User.findOne({ where: { platformUserId: "finance" } }),
      m.User.findOne({ where: { platformUserId: "director" } }),
    ]);
    await t.app.services.saveRuleSet(
      {
        version: 1,
        rules: [
          {
            id: "countersign",
            name: "财务与总监会签",
            when: { any: [{ type: "always" }] },
            step: { order: 1, label: "会签", approvers: { type: "users", userIds: [finance!.id, director!.id] }, mode: "all" },
          },
        ],
      },
      { kind: "system", userId: null, roles: [], label: "system" },
    );
    try {
      const { submit, orderId } = await orderInWords("下单 北京康复 电子体温计 2支");
      await chat.tap("sales", submit);
      const financeCard = await chat.lastCard("user:finance");
      const directorCard = await chat.lastCard("user:director");
      await chat.tap("finance", buttonsOf(financeCard.html).find((b) => b.action === "approval.approve")!);
      expect((await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status).toBe("pending_approval");
      const directorView = (await chat.messages("user:director")).find((m) => m.id === directorCard.id)!;
      expect(textOf(directorView.html)).toContain("1/2");
      expect(buttonsOf(directorView.html).map((b) => b.action)).toContain("approval.approve");

      await chat.tap("director", buttonsOf(directorView.html).find((b) => b.action === "approval.approve")!);
      expect((await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status).toBe("approved");
      const financeFinal = (await chat.messages("user:finance")).find((m) => m.id === financeCard.id)!;
      expect(buttonsOf(financeFinal.html)).toEqual([]);
    } finally {
      await m.RuleSet.update({ active: false }, { where: {} });
    }
  });

  it("acts once on an event delivered twice", async () => {
    const before = await t.app.db.models.Order.count();
    const event = { kind: "text" as const, key: "dup-1", platform: "simulator" as const, from: "sales", text: "下单 成都西岭 医用胶带 3卷" };
    const results = await Promise.all([t.app.inbound.receive(event), t.app.inbound.receive(event), t.app.inbound.receive(event)]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    await chat.settle();
    expect(await t.app.db.models.Order.count()).toBe(before + 1);
  });
});
