import crypto from "node:crypto";
import nock from "nock";
import request from "supertest";
import type { UserRow } from "../../src/db/models/users";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildProduct } from "../helpers/factories";
import { testWecomConfig } from "../helpers/wecom";
import { FakeWecom, postCallback, settle, textFrom, type TemplateCardJson } from "../helpers/wecom-flow";

/**
 * The approval flow through WeCom itself: encrypted callbacks in, message/send, update_template_card and a
 * group robot out (all faked at WeCom's HTTP boundary). The same story as chat-flow.test.ts, which runs
 * it through the simulator.
 */
// Real-time pacing (per member, per robot) makes a whole story take several seconds; on a loaded CI
// machine more than the default 30 s, which would be a false failure.
jest.setTimeout(120_000);

describe("WeCom approval flow", () => {
  let t: TestApp;
  let warehouse: UserRow;
  const fake = new FakeWecom(testWecomConfig());
  // Letters only: digits at the end of a product name would read as a quantity in the rep's text.
  const uid = () => Array.from(crypto.randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join("");

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({ env: fake.env() });
    warehouse = await wecomUser(`wh-${uid()}`, "陈师傅", ["warehouse"]);
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await t.close();
  });

  const m = () => t.app.db.models;
  const api = () => request(t.callback);

  function wecomUser(userid: string, name: string, roles: UserRow["roles"], managerId: number | null = null) {
    return m().User.create({ platform: "wecom", platformUserId: userid, name, mobile: null, roles, managerId, department: null });
  }

  /** A rep whose direct leader is a manager, a product worth approving (6 × ¥1,000 > ¥5,000), and a customer with a robot. */
  async function story() {
    const id = uid();
    const leader = await wecomUser(`leader-${id}`, `李经理${id}`, ["manager"]);
    const rep = await wecomUser(`rep-${id}`, `王小明${id}`, ["sales"], leader.id);
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100_000, sku: `WX-${id}` });
    await m().Product.update({ name: `企微口罩${id}` }, { where: { id: product.id } });
    const robotKey = `robot-${id}`;
    const customerCode = `WXC-${id}`;
    const put = await api()
      .put("/api/v1/customers")
      .set(t.apiKeyHeader)
      .send([{ code: customerCode, name: `企微客户${id}`, chatPlatform: "wecom", chatTarget: fake.robotUrl(robotKey) }]);
    expect(put.status).toBe(200);
    return { id, leader, rep, robotKey, text: `下单 企微客户${id} 企微口罩${id} 6` };
  }

  async function callback(inner: string) {
    const res = await postCallback(t, fake.config, inner);
    // Answered at once with the plain ack; the bot works after the answer (wecom.md 2.3).
    expect(res.status).toBe(200);
    expect(res.text).toBe("success");
    return res;
  }

  /** The rep texts an order and taps 提交 on the preview: the leader gets the approval card. */
  async function toApproval(s: Awaited<ReturnType<typeof story>>) {
    const previewScope = fake.expect({ send: 1 });
    await callback(textFrom(s.rep.platformUserId, s.text));
    await settle(t);
    expect(previewScope.isDone()).toBe(true);
    const [preview] = fake.cardsTo(s.rep.platformUserId);
    const order = await m().Order.findOne({ where: { salesRepId: s.rep.id } });
    expect(order).toMatchObject({ status: "draft", totalFen: 600_000 });

    const submitScope = fake.expect({ send: 1, update: 1 });
    const submit = fake.clickXml(s.rep.platformUserId, preview, "提交");
    await callback(submit.xml);
    await settle(t);
    expect(submitScope.isDone()).toBe(true);
    const [approval] = fake.cardsTo(s.leader.platformUserId);
    expect(approval).toBeDefined();
    return { preview, approval, orderId: order!.id, orderNo: order!.orderNo };
  }

  const statusOf = async (orderId: number) => (await api().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status as string;
  const decisionsOn = async (orderId: number) => {
    const steps = await m().ApprovalStep.findAll({ where: { orderId } });
    return m().ApprovalDecision.findAll({ where: { stepId: steps.map((s) => s.id) } });
  };
  const buttonTexts = (card: TemplateCardJson | undefined) => (card?.button_list ?? []).map((b) => b.text);

  it("takes a rep's text through the leader's card, the warehouse and shipping to the customer's group robot", async () => {
    const s = await story();

    // 1. The rep texts an order: a draft, and its preview card through message/send.
    const textScope = fake.expect({ send: 1 });
    const answer = await callback(textFrom(s.rep.platformUserId, s.text));
    expect(answer.type).toBe("text/plain");
    await settle(t);
    expect(textScope.isDone()).toBe(true);
    const order = await m().Order.findOne({ where: { salesRepId: s.rep.id } });
    expect(order).toMatchObject({ status: "draft", totalFen: 600_000 });
    const previewSend = fake.sent[fake.sent.length - 1];
    expect(previewSend).toMatchObject({ touser: s.rep.platformUserId, msgtype: "template_card", agentid: fake.config.agentId });
    const preview = previewSend.template_card!;
    expect(preview.card_type).toBe("button_interaction");
    expect(JSON.stringify(preview)).toContain(order!.orderNo);
    expect(buttonTexts(preview)).toEqual(["提交", "取消", "在小程序中修改"]);

    // 2. The rep taps 提交: the EventKey is the one the card was sent with.
    const submitScope = fake.expect({ send: 1, update: 1 });
    const submit = fake.clickXml(s.rep.platformUserId, preview, "提交");
    await callback(submit.xml);
    await settle(t);
    expect(submitScope.isDone()).toBe(true);
    expect(await statusOf(order!.id)).toBe("pending_approval");

    const approvalSend = fake.sent[fake.sent.length - 1];
    expect(approvalSend).toMatchObject({ touser: s.leader.platformUserId, msgtype: "template_card", agentid: fake.config.agentId });
    const approval = approvalSend.template_card!;
    expect(approval.card_type).toBe("button_interaction");
    expect(JSON.stringify(approval)).toContain(order!.orderNo);
    expect(buttonTexts(approval)).toEqual(["同意", "驳回", "查看详情"]);
    // Keys only on the buttons that call back; 查看详情 is a url button (type 1) to the order's page.
    const keys = approval.button_list!.filter((b) => b.type !== 1).map((b) => b.key!);
    expect(new Set(keys).size).toBe(2);
    expect(approval.button_list![2]).toMatchObject({ type: 1, url: approval.card_action!.url });
    expect(approval.card_action!.url).toMatch(/\/wecom\/oauth\?next=%2Fm%2Forders%2F\d+$/);
    for (const key of keys) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    // task_id: digits, letters and _-@ only, at most 128 bytes, never used before (wecom.md 5.2, 5.7).
    expect(approval.task_id).toMatch(/^[A-Za-z0-9_@-]{1,128}$/);
    expect(fake.sent.filter((m) => m.template_card?.task_id === approval.task_id)).toHaveLength(1);
    expect(approval.task_id).not.toBe(preview.task_id);
    expect(approvalSend.answer.response_code).toBeDefined();

    // The preview closed in place with the code of the rep's own tap.
    expect(fake.updatesOf(preview.task_id)).toEqual([
      expect.objectContaining({ userids: [s.rep.platformUserId], agentid: fake.config.agentId, response_code: submit.responseCode }),
    ]);
    const closedPreview = fake.updatesOf(preview.task_id)[0].template_card!;
    expect(buttonTexts(closedPreview)).not.toContain("提交");
    expect(closedPreview.replace_text).toBeTruthy();

    // 3. The leader taps 同意: every copy is redrawn with the newest unspent code of its recipient.
    const approveScope = fake.expect({ send: 3, update: 2 });
    const approve = fake.clickXml(s.leader.platformUserId, approval, "同意");
    await callback(approve.xml);
    await settle(t);
    expect(approveScope.isDone()).toBe(true);
    expect(await statusOf(order!.id)).toBe("approved");

    expect(fake.updatesOf(approval.task_id)).toEqual([
      expect.objectContaining({ userids: [s.leader.platformUserId], response_code: approve.responseCode }),
    ]);
    const decided = fake.updatesOf(approval.task_id)[0].template_card!;
    expect(buttonTexts(decided)).not.toContain("同意");
    expect(decided.replace_text).toContain("已同意");
    // The rep's tap code is spent; what is left for the preview is the code its send came with.
    expect(fake.updatesOf(preview.task_id).map((u) => u.response_code)).toEqual([submit.responseCode, previewSend.answer.response_code]);
    expect(fake.violations).toEqual([]);

    const [pick] = fake.cardsTo(warehouse.platformUserId).slice(-1);
    expect(JSON.stringify(pick)).toContain(order!.orderNo);
    expect(pick.card_type).toBe("text_notice");
    const repTexts = fake.textsTo(s.rep.platformUserId);
    expect(repTexts).toHaveLength(2);
    expect(repTexts.join("\n")).toContain(s.leader.name);
    expect(repTexts.join("\n")).toContain(order!.orderNo);

    // 4. The ERP ships through the REST API: the customer's robot and the rep hear of it.
    const shipScope = fake.expect({ send: 1, robot: { key: s.robotKey, times: 1 } });
    for (const step of ["start-picking", "pack"]) {
      expect((await api().post(`/api/v1/orders/${order!.id}/${step}`).set(t.apiKeyHeader)).status).toBe(200);
    }
    const shipped = await api()
      .post(`/api/v1/orders/${order!.id}/shipments`)
      .set(t.apiKeyHeader)
      .send({ carrier: "顺丰速运", trackingNo: `SF${s.id}0001` });
    expect(shipped.status).toBe(201);
    expect(shipped.body.status).toBe("shipped");
    await settle(t);
    expect(shipScope.isDone()).toBe(true);

    const notice = fake.robot[fake.robot.length - 1];
    expect(notice).toMatchObject({ key: s.robotKey, msgtype: "markdown" });
    expect(notice.markdown!.content).toContain(`SF${s.id}0001`);
    expect(notice.markdown!.content).toContain("顺丰速运");
    expect(notice.markdown!.content).not.toContain("¥");
    expect(fake.textsTo(s.rep.platformUserId)).toHaveLength(3);
    expect(fake.textsTo(s.rep.platformUserId)[2]).toContain(`SF${s.id}0001`);

    // No code was left for another redraw: every card of the order is retired, none was updated again.
    expect(fake.updatesOf(preview.task_id)).toHaveLength(2);
    expect(await m().CardRef.count({ where: { orderId: order!.id, live: true } })).toBe(0);
    expect(await m().Outbox.count({ where: { status: "dead" } })).toBe(0);
  });

  it("takes one decision when WeCom delivers the same tap three times at once", async () => {
    const s = await story();
    const { approval, orderId } = await toApproval(s);

    const scope = fake.expect({ send: 3, update: 2 });
    const approve = fake.clickXml(s.leader.platformUserId, approval, "同意");
    await Promise.all([callback(approve.xml), callback(approve.xml), callback(approve.xml)]);
    await settle(t);
    expect(scope.isDone()).toBe(true);

    expect(await statusOf(orderId)).toBe("approved");
    expect(await decisionsOn(orderId)).toHaveLength(1);
    const taps = await m().InboundEvent.findAll({ where: { platform: "wecom", kind: "card_action" } });
    expect(taps.filter((e) => e.eventKey.includes(approval.task_id))).toHaveLength(1); // stored once
    expect(fake.updatesOf(approval.task_id)).toHaveLength(1);
    expect(fake.textsTo(s.rep.platformUserId)).toHaveLength(2);
    expect(fake.violations).toEqual([]);
  });

  it("answers a tap from someone who is not the approver politely and changes nothing", async () => {
    const s = await story();
    const { approval, orderId } = await toApproval(s);
    const stranger = await wecomUser(`other-${s.id}`, `张三${s.id}`, ["sales"]);

    const refusal = fake.expect({ send: 1 });
    const tap = fake.clickXml(stranger.platformUserId, approval, "同意");
    await callback(tap.xml);
    await settle(t);
    expect(refusal.isDone()).toBe(true);
    expect(fake.textsTo(stranger.platformUserId)).toEqual(["您不是该审批步骤的审批人，操作未生效"]);
    expect(await statusOf(orderId)).toBe("pending_approval");
    expect(await decisionsOn(orderId)).toHaveLength(0);
    expect(fake.updatesOf(approval.task_id)).toHaveLength(0);
    expect(await m().CardRef.count({ where: { orderId, kind: "approval", live: true } })).toBe(1);

    // The leader's own tap still decides, and their card is redrawn with their code, not the stranger's.
    const scope = fake.expect({ send: 3, update: 2 });
    const approve = fake.clickXml(s.leader.platformUserId, approval, "同意");
    await callback(approve.xml);
    await settle(t);
    expect(scope.isDone()).toBe(true);
    expect(await statusOf(orderId)).toBe("approved");
    expect(fake.updatesOf(approval.task_id).map((u) => u.response_code)).toEqual([approve.responseCode]);
    expect(fake.violations).toEqual([]);
  });

  // wecom.md documents no errcode for a spent or expired response_code; the update_template_card errcodes it
  // lists are 42015/42016 (3.2: the card cannot be updated), which the adapter reads as "gone". 42016 stands in.
  const CARD_GONE = 42016;

  it("retires a card whose update WeCom refuses, never retries the code, and the decision stands", async () => {
    const s = await story();
    const { approval, preview, orderId, orderNo } = await toApproval(s);

    const scope = fake.expect({ send: 3, update: 2 }, () => ({ errcode: CARD_GONE, errmsg: "invalid response_code" }));
    const approve = fake.clickXml(s.leader.platformUserId, approval, "同意");
    await callback(approve.xml);
    await settle(t);
    expect(scope.isDone()).toBe(true);

    expect(await statusOf(orderId)).toBe("approved");
    expect(await decisionsOn(orderId)).toHaveLength(1);
    // Each refused code reached WeCom once; both cards are retired rather than retried.
    expect(fake.updatesOf(approval.task_id).map((u) => u.answer.errcode)).toEqual([CARD_GONE]);
    expect(fake.updatesOf(preview.task_id).map((u) => u.answer.errcode)).toEqual([0, CARD_GONE]);
    expect(await m().CardRef.count({ where: { orderId, live: true } })).toBe(1); // the warehouse card only
    expect(await m().Outbox.count({ where: { status: "dead" } })).toBe(0);
    expect(fake.violations).toEqual([]);
    // The rep, whose preview could not be redrawn, reads the outcome as text.
    expect(fake.textsTo(s.rep.platformUserId).join("\n")).toContain(orderNo);
    expect(fake.cardsTo(warehouse.platformUserId).some((c) => JSON.stringify(c).includes(orderNo))).toBe(true);

    // Nothing is left to send: another round of background work makes no call.
    await settle(t);
    expect(fake.updatesOf(approval.task_id)).toHaveLength(1);
  });

  it("tells the approver by text when their card cannot be redrawn", async () => {
    const s = await story();
    const { approval, orderNo } = await toApproval(s);
    fake.expect({ send: 4, update: 2 }, () => ({ errcode: CARD_GONE }));
    await callback(fake.clickXml(s.leader.platformUserId, approval, "同意").xml);
    await settle(t);
    expect(fake.textsTo(s.leader.platformUserId)).toEqual([expect.stringContaining(orderNo)]);
  });
});
