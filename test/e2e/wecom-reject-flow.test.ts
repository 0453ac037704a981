import crypto from "node:crypto";
import nock from "nock";
import request from "supertest";
import type { UserRow } from "../../src/db/models/users";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { API_ACTOR, buildProduct } from "../helpers/factories";
import { testWecomConfig } from "../helpers/wecom";
import { FakeWecom, postCallback, settle, textFrom, type TemplateCardJson } from "../helpers/wecom-flow";

/**
 * Rejecting an order over WeCom, through encrypted callbacks (faked at WeCom's HTTP boundary only, as in
 * wecom-approval-flow.test.ts). The card goes to two approvers, the rep's leader and someone from
 * finance; the leader taps 驳回. Afterwards every approver's copy must be redrawn as rejected, each with
 * its own recipient's latest unspent response_code (wecom.md 5.4, gotcha 10) — and where no usable code
 * is left, that person gets a short text instead while the rejection stands. FakeWecom checks every code:
 * issued by it, to that card and person, never used twice.
 */
// Real-time pacing makes a story take a few seconds; more on a loaded CI machine.
jest.setTimeout(120_000);

const HOUR = 60 * 60 * 1000;

describe("WeCom rejection flow", () => {
  let t: TestApp;
  /** How far the app's clock runs ahead of the machine's: a test moves it on to let codes expire. */
  let ahead = 0;
  const clock = () => new Date(Date.now() + ahead);
  const fake = new FakeWecom(testWecomConfig());
  // Letters only: digits at the end of a product name would read as a quantity in the rep's text.
  const uid = () => Array.from(crypto.randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join("");

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({ env: fake.env(), now: clock });
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await t.close();
  });

  const m = () => t.app.db.models;

  function wecomUser(userid: string, name: string, roles: UserRow["roles"], managerId: number | null = null) {
    return m().User.create({ platform: "wecom", platformUserId: userid, name, mobile: null, roles, managerId, department: null });
  }

  /** A rep, their leader and someone from finance, either of whom decides the rep's orders. */
  async function story(mode: "any" | "all" = "any") {
    const id = uid();
    const leader = await wecomUser(`leader-${id}`, `李经理${id}`, ["manager"]);
    const finance = await wecomUser(`fin-${id}`, `赵财务${id}`, ["finance"]);
    const rep = await wecomUser(`rep-${id}`, `王小明${id}`, ["sales"], leader.id);
    await t.app.services.saveRuleSet(
      {
        version: 1,
        rules: [
          {
            id: "leader-or-finance",
            name: "主管或财务任一人审批",
            when: { any: [{ type: "always" }] },
            step: { order: 1, label: "主管或财务审批", approvers: { type: "users", userIds: [leader.id, finance.id] }, mode },
          },
        ],
      },
      API_ACTOR,
    );
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100_000, sku: `WX-${id}` });
    await m().Product.update({ name: `企微口罩${id}` }, { where: { id: product.id } });
    const put = await request(t.callback).put("/api/v1/customers").set(t.apiKeyHeader).send([{ code: `WXC-${id}`, name: `企微客户${id}` }]);
    expect(put.status).toBe(200);
    return { leader, finance, rep, text: `下单 企微客户${id} 企微口罩${id} 6` };
  }
  type Story = Awaited<ReturnType<typeof story>>;

  /** Posts a callback to `to` as WeCom would sign it now (by the app's clock), answered at once. */
  async function callback(inner: string, to: TestApp = t) {
    const res = await postCallback(to, fake.config, inner, { timestamp: Math.floor(clock().getTime() / 1000) });
    expect(res.status).toBe(200);
    expect(res.text).toBe("success");
  }

  /** The rep texts an order and taps 提交: both approvers get the approval card. */
  async function toApproval(s: Story) {
    const previewScope = fake.expect({ send: 1 });
    await callback(textFrom(s.rep.platformUserId, s.text));
    await settle(t, clock);
    expect(previewScope.isDone()).toBe(true);
    const [preview] = fake.cardsTo(s.rep.platformUserId);

    const submitScope = fake.expect({ send: 2, update: 1 });
    const submit = fake.clickXml(s.rep.platformUserId, preview, "提交");
    await callback(submit.xml);
    await settle(t, clock);
    expect(submitScope.isDone()).toBe(true);
    const order = (await m().Order.findOne({ where: { salesRepId: s.rep.id } }))!;
    expect(order.status).toBe("pending_approval");
    const [leaderCard] = fake.cardsTo(s.leader.platformUserId);
    const [financeCard] = fake.cardsTo(s.finance.platformUserId);
    for (const card of [leaderCard, financeCard]) {
      expect(card.card_type).toBe("button_interaction");
      expect(buttonTexts(card)).toEqual(["同意", "驳回", "查看详情"]);
    }
    return { preview, submit, leaderCard, financeCard, orderId: order.id, orderNo: order.orderNo };
  }

  const buttonTexts = (card: TemplateCardJson | undefined) => (card?.button_list ?? []).map((b) => b.text);
  const statusOf = async (orderId: number) => (await m().Order.findByPk(orderId))!.status;
  const refOf = async (taskId: string) => (await m().CardRef.findOne({ where: { taskId } }))!;
  async function decisionsOn(orderId: number) {
    const steps = await m().ApprovalStep.findAll({ where: { orderId } });
    return m().ApprovalDecision.findAll({ where: { stepId: steps.map((s) => s.id) } });
  }

  /** Each copy was redrawn exactly once, as rejected with `reason`, with the code given (its recipient's own). */
  function expectRejectedCopies(copies: Array<{ card: TemplateCardJson; to: UserRow; code: string }>, reason: string) {
    for (const { card, to, code } of copies) {
      const updates = fake.updatesOf(card.task_id);
      expect(updates).toEqual([expect.objectContaining({ userids: [to.platformUserId], agentid: fake.config.agentId, response_code: code, answer: { errcode: 0 } })]);
      const redrawn = updates[0].template_card!;
      expect(redrawn.replace_text).toContain("已驳回");
      expect(buttonTexts(redrawn)).not.toContain("同意");
      expect(buttonTexts(redrawn)).not.toContain("驳回");
      expect(redrawn.button_selection).toBeUndefined();
      expect(JSON.stringify(redrawn)).toContain(reason);
    }
  }

  type Approval = Awaited<ReturnType<typeof toApproval>>;

  /**
   * The order is rejected with `reason`, and each approver's copy redrawn with its own code: the leader's
   * with `leaderCode`, finance's with the code its send came with (unless `finance` is false: no copy redrawn).
   */
  async function expectRejected(s: Story, a: Approval, reason: string, leaderCode: string, finance = true) {
    expect(await statusOf(a.orderId)).toBe("rejected");
    const financeCopy = { card: a.financeCard, to: s.finance, code: fake.sendCodeOf(a.financeCard.task_id)! };
    expectRejectedCopies([{ card: a.leaderCard, to: s.leader, code: leaderCode }, ...(finance ? [financeCopy] : [])], reason);
  }

  /** The leader taps 驳回 with no reason chosen: the bot asks with a card of reasons, which is returned. */
  async function rejectWithoutReason(s: Story, a: Approval) {
    const askScope = fake.expect({ send: 2 });
    const tap = fake.clickXml(s.leader.platformUserId, a.leaderCard, "驳回");
    await callback(tap.xml);
    await settle(t, clock);
    expect(askScope.isDone()).toBe(true);
    return { tap, reasonCard: fake.cardsTo(s.leader.platformUserId).slice(-1)[0] };
  }

  it("rejects with the reason the tap carried, and redraws every approver's copy with its own latest code", async () => {
    const s = await story();
    const a = await toApproval(s);

    // The reason chosen in the card's button_selection comes in SelectedItems with the 驳回 tap (wecom.md 2.2).
    const scope = fake.expect({ send: 2, update: 3 });
    const tap = fake.clickXml(s.leader.platformUserId, a.leaderCard, "驳回", { select: "价格过低" });
    await callback(tap.xml);
    await settle(t, clock);
    expect(scope.isDone()).toBe(true);

    expect((await decisionsOn(a.orderId)).map((d) => [d.approverId, d.decision, d.comment])).toEqual([[s.leader.id, "reject", "价格过低"]]);
    // The leader's copy with the code of the leader's tap; finance never tapped: the code its send came with.
    await expectRejected(s, a, "价格过低", tap.responseCode);
    // The rep's preview: the tap code was spent closing it on submit; what is left is its send's code.
    expect(fake.updatesOf(a.preview.task_id).map((u) => u.response_code)).toEqual([a.submit.responseCode, fake.sendCodeOf(a.preview.task_id)]);
    expect(fake.violations).toEqual([]);

    // card_refs is the record of what was spent.
    expect(await refOf(a.leaderCard.task_id)).toMatchObject({ responseCode: tap.responseCode, codeUsedAt: expect.any(Date), sendCodeUsedAt: null, live: false });
    expect(await refOf(a.financeCard.task_id)).toMatchObject({ responseCode: null, sendCodeUsedAt: expect.any(Date), live: false });
    expect(fake.textsTo(s.leader.platformUserId)).toEqual([]);
    expect(fake.textsTo(s.finance.platformUserId)).toEqual([]);
    expect(fake.textsTo(s.rep.platformUserId).join("\n")).toContain(`${a.orderNo} 已被 ${s.leader.name} 驳回`);
  });

  it("asks for a reason when the tap carries none, and rejects once the approver picks one on the follow-up card", async () => {
    const s = await story();
    const a = await toApproval(s);

    // 驳回 alone: the bot asks with a card of reasons (and a hint that typing one works too).
    const { tap, reasonCard } = await rejectWithoutReason(s, a);
    expect(await statusOf(a.orderId)).toBe("pending_approval");
    expect(fake.updatesOf(a.leaderCard.task_id)).toEqual([]);
    expect(reasonCard.card_type).toBe("multiple_interaction");
    expect(JSON.stringify(reasonCard)).toContain(a.orderNo);
    // The tap's code is recorded against the leader's copy, unspent, for the redraw the decision will need.
    expect(await refOf(a.leaderCard.task_id)).toMatchObject({ responseCode: tap.responseCode, codeIssuedAt: expect.any(Date), codeUsedAt: null });

    // Both approval cards, the reason card and the rep's preview are redrawn.
    const decideScope = fake.expect({ send: 2, update: 4 });
    const pick = fake.submitXml(s.leader.platformUserId, reasonCard, "信用超限");
    await callback(pick.xml);
    await settle(t, clock);
    expect(decideScope.isDone()).toBe(true);

    expect((await decisionsOn(a.orderId)).map((d) => [d.approverId, d.decision, d.comment])).toEqual([[s.leader.id, "reject", "信用超限"]]);
    // The leader's latest code on the approval card is the 驳回 tap's; the pick's belongs to the reason card,
    // which shows the outcome now instead of staying open to another pick.
    await expectRejected(s, a, "信用超限", tap.responseCode);
    expectRejectedCopies([{ card: reasonCard, to: s.leader, code: pick.responseCode }], "信用超限");
    expect(fake.updatesOf(reasonCard.task_id)[0].template_card!.select_list).toBeUndefined();
    expect(await refOf(reasonCard.task_id)).toMatchObject({ kind: "reject_reason", live: false, codeUsedAt: expect.any(Date) });
    expect(fake.textsTo(s.leader.platformUserId)).toHaveLength(1); // only the hint to type a reason
    expect(fake.violations).toEqual([]);
    expect(await refOf(a.leaderCard.task_id)).toMatchObject({ responseCode: tap.responseCode, codeUsedAt: expect.any(Date) });
  });

  it("redraws an open reason card with the outcome when the other approver approves meanwhile", async () => {
    const s = await story();
    const a = await toApproval(s);
    const { reasonCard } = await rejectWithoutReason(s, a);

    // Finance approves on its own card while the leader's reason card is still open: every copy of the
    // step, the reason card included (with the code its send came with), shows the approval.
    const scope = fake.expect({ send: 2, update: 4 });
    const approve = fake.clickXml(s.finance.platformUserId, a.financeCard, "同意");
    await callback(approve.xml);
    await settle(t, clock);
    expect(scope.isDone()).toBe(true);
    expect(await statusOf(a.orderId)).toBe("approved");

    const [redrawn] = fake.updatesOf(reasonCard.task_id);
    expect(redrawn).toMatchObject({ userids: [s.leader.platformUserId], response_code: fake.sendCodeOf(reasonCard.task_id), answer: { errcode: 0 } });
    expect(redrawn.template_card!.replace_text).toContain("已同意");
    expect(redrawn.template_card!.select_list).toBeUndefined();
    expect(await refOf(reasonCard.task_id)).toMatchObject({ live: false });
    expect(fake.textsTo(s.leader.platformUserId)).toHaveLength(1); // only the hint to type a reason
    expect(fake.violations).toEqual([]);

    // A late pick on the old card changes nothing and says why.
    const lateScope = fake.expect({ send: 1 });
    await callback(fake.submitXml(s.leader.platformUserId, reasonCard, "价格过低").xml);
    await settle(t, clock);
    expect(lateScope.isDone()).toBe(true);
    expect(await statusOf(a.orderId)).toBe("approved");
    expect(fake.textsTo(s.leader.platformUserId).slice(-1)[0]).toContain(a.orderNo);
  });

  it("leaves an open reason card alone while its step still waits for other approvers", async () => {
    const s = await story("all");
    const a = await toApproval(s);
    const { reasonCard } = await rejectWithoutReason(s, a);

    // Finance approves; the step still needs the leader. The approval cards show finance's decision, but
    // the reason card would look just the same: it is not redrawn, and none of its codes is spent.
    const scope = fake.expect({ send: 1, update: 2 }); // the send: the rep hears of finance's approval
    await callback(fake.clickXml(s.finance.platformUserId, a.financeCard, "同意").xml);
    await settle(t, clock);
    expect(scope.isDone()).toBe(true);
    expect(await statusOf(a.orderId)).toBe("pending_approval");
    expect(fake.updatesOf(a.financeCard.task_id)).toHaveLength(1);
    expect(fake.updatesOf(reasonCard.task_id)).toEqual([]);
    expect(await refOf(reasonCard.task_id)).toMatchObject({ live: true, sendCodeUsedAt: null });

    // The leader then picks a reason: rejected, and the reason card closes with the pick's code.
    const decideScope = fake.expect({ send: 2, update: 4 });
    const pick = fake.submitXml(s.leader.platformUserId, reasonCard, "信息有误");
    await callback(pick.xml);
    await settle(t, clock);
    expect(decideScope.isDone()).toBe(true);
    expect(await statusOf(a.orderId)).toBe("rejected");
    expectRejectedCopies([{ card: reasonCard, to: s.leader, code: pick.responseCode }], "信息有误");
    expect(fake.violations).toEqual([]);
  });

  it("a day later, sends a short text to an approver whose copy has no usable code left, and the rejection stands", async () => {
    const s = await story();
    const a = await toApproval(s);

    // 25 h on: the send codes are past the 24 h we plan for (wecom.md 5.4: 72 h now, 24 h in older docs).
    ahead += 25 * HOUR;
    fake.expectNewToken(); // the access token's 7200 s are long over too
    const scope = fake.expect({ send: 4, update: 1 });
    const tap = fake.clickXml(s.leader.platformUserId, a.leaderCard, "驳回", { select: "库存不足" });
    await callback(tap.xml);
    await settle(t, clock);
    expect(scope.isDone()).toBe(true);

    expect(await decisionsOn(a.orderId)).toHaveLength(1);
    // The leader's fresh tap code redraws their copy; finance's only code expired: no call, a text instead.
    await expectRejected(s, a, "库存不足", tap.responseCode, false);
    expect(fake.updatesOf(a.financeCard.task_id)).toEqual([]);
    const [notice, ...more] = fake.textsTo(s.finance.platformUserId);
    expect(more).toEqual([]);
    expect(notice).toContain(a.orderNo);
    expect(notice).toContain("已驳回");
    expect(notice.length).toBeLessThan(200);
    expect(await refOf(a.financeCard.task_id)).toMatchObject({ sendCodeUsedAt: null, live: false });
    // Likewise the rep's preview: its tap code is spent, its send code expired.
    expect(fake.updatesOf(a.preview.task_id).map((u) => u.response_code)).toEqual([a.submit.responseCode]);
    expect(fake.textsTo(s.rep.platformUserId)).toHaveLength(3);
    expect(await m().Outbox.count({ where: { status: "dead" } })).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it("never redraws a copy again with a code WeCom has seen: after a 'busy' answer that approver gets a text instead", async () => {
    const s = await story();
    const a = await toApproval(s);

    // WeCom answers finance's update "system busy" (-1): the code reached it, so it is spent (gotcha 10).
    const busy = (u: { userids: string[] }) => (u.userids[0] === s.finance.platformUserId ? { errcode: -1, errmsg: "system busy" } : { errcode: 0 });
    const scope = fake.expect({ send: 3, update: 3 }, busy);
    const tap = fake.clickXml(s.leader.platformUserId, a.leaderCard, "驳回", { select: "信息有误" });
    await callback(tap.xml);
    await settle(t, clock); // the redraw is retried after its backoff, within the settle
    expect(scope.isDone()).toBe(true);

    await expectRejected(s, a, "信息有误", tap.responseCode, false);
    const sendCode = fake.sendCodeOf(a.financeCard.task_id)!;
    expect(fake.updatesOf(a.financeCard.task_id).map((u) => [u.response_code, u.answer.errcode])).toEqual([[sendCode, -1]]);
    expect(fake.textsTo(s.finance.platformUserId)).toEqual([expect.stringContaining(`${a.orderNo}`)]);
    expect(fake.textsTo(s.finance.platformUserId)[0]).toContain("已驳回");
    expect(await refOf(a.financeCard.task_id)).toMatchObject({ sendCodeUsedAt: expect.any(Date), live: false });
    // The redraw was tried twice; the second try found no code for finance and made no call.
    const [decision] = await decisionsOn(a.orderId);
    const redraw = await m().Outbox.findOne({ where: { dedupeKey: `card.update:step:${decision.stepId}:decision:${decision.id}` } });
    expect(redraw).toMatchObject({ status: "sent", attempts: 2 });
    expect(await m().Outbox.count({ where: { status: "dead" } })).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it("after a restart with an empty cache, redraws each copy with the code card_refs recorded", async () => {
    const s = await story();
    const a = await toApproval(s);
    const { tap, reasonCard } = await rejectWithoutReason(s, a);

    // A new instance on the same database with a cache of its own: in-memory on SQLite (the embedded
    // default), a fresh key prefix on Redis. It has none of the first one's tap codes, claims or token.
    const restarted = await createTestApp({ env: { ...fake.env(), DATABASE_URL: t.app.config.database.url }, now: clock });
    try {
      fake.expectNewToken();
      const scope = fake.expect({ send: 2, update: 4 });
      const pick = fake.submitXml(s.leader.platformUserId, reasonCard, "价格过低");
      await callback(pick.xml, restarted);
      await settle(restarted, clock);
      expect(scope.isDone()).toBe(true);

      await expectRejected(s, a, "价格过低", tap.responseCode);
      expectRejectedCopies([{ card: reasonCard, to: s.leader, code: pick.responseCode }], "价格过低");
      // The rep's tap code was spent before the restart; card_refs says so, and the send's code is used.
      expect(fake.updatesOf(a.preview.task_id).map((u) => u.response_code)).toEqual([a.submit.responseCode, fake.sendCodeOf(a.preview.task_id)]);
      expect(fake.textsTo(s.leader.platformUserId)).toHaveLength(1); // only the hint to type a reason
      expect(fake.violations).toEqual([]);
    } finally {
      await restarted.close();
    }
  });
});
