import crypto from "node:crypto";
import nock from "nock";
import request from "supertest";
import type { UserRow } from "../../src/db/models/users";
import { buildProduct } from "../helpers/factories";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { settle } from "../helpers/wecom-flow";
import { FakeDingtalkApi, expectedSign, type DeliveredCard } from "../helpers/dingtalk-api";
import { FakeGateway, TOPIC_CARD, TOPIC_ROBOT, cardTap, dingtalkEnv, robotText } from "../helpers/dingtalk-gateway";

/**
 * The approval flow through DingTalk: robot messages and card taps over the Stream gateway, cards created
 * and updated through the OpenAPI, the customer's group robot told of the shipment (all faked at the
 * HTTP/WS boundary). The same story as wecom-approval-flow.test.ts.
 */
// Real-time pacing (per member, per robot) makes a whole story take several seconds; on a loaded CI
// machine more than the default 30 s, which would be a false failure.
jest.setTimeout(120_000);

describe("DingTalk approval flow", () => {
  let t: TestApp;
  let gw: FakeGateway;
  let warehouse: UserRow;
  const api = new FakeDingtalkApi();
  const uid = () => Array.from(crypto.randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join("");
  const SECRET = `SEC${crypto.randomBytes(16).toString("hex")}`;

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    gw = await new FakeGateway().start();
    api.install();
    t = await createTestApp({
      env: dingtalkEnv({ ...api.env(), DINGTALK_CARD_TEMPLATE_APPROVAL: "tpl-approval.schema", DINGTALK_CARD_TEMPLATE_ACTION: "tpl-action.schema" }),
    });
    warehouse = await dtUser(`wh-${uid()}`, "陈师傅", ["warehouse"]);
    t.app.dingtalkStream!.start();
    await gw.waitFor(() => t.app.dingtalkStream!.state() === "registered", "registered");
  });
  afterAll(async () => {
    await t.close();
    await gw.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const m = () => t.app.db.models;
  const http = () => request(t.callback);
  const dtUser = (userid: string, name: string, roles: UserRow["roles"], managerId: number | null = null) =>
    m().User.create({ platform: "dingtalk", platformUserId: userid, name, mobile: null, roles, managerId, department: null });

  async function story() {
    const id = uid();
    const leader = await dtUser(`leader-${id}`, `李经理${id}`, ["manager"]);
    const rep = await dtUser(`rep-${id}`, `王小明${id}`, ["sales"], leader.id);
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100_000, sku: `DT-${id}` });
    await m().Product.update({ name: `钉钉口罩${id}` }, { where: { id: product.id } });
    const robotToken = `robot${id}`;
    const put = await http()
      .put("/api/v1/customers")
      .set(t.apiKeyHeader)
      .send([{ code: `DTC-${id}`, name: `钉钉客户${id}`, dingtalkWebhookUrl: api.webhookUrl(robotToken), dingtalkWebhookSecret: SECRET }]);
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain(SECRET);
    expect(JSON.stringify(put.body)).not.toContain(robotToken);
    return { id, leader, rep, robotToken, text: `下单 钉钉客户${id} 钉钉口罩${id} 6` };
  }

  async function frame(topic: string, data: Record<string, unknown>) {
    const id = gw.callback(topic, data);
    await gw.waitAck(id);
    await settle(t);
  }

  /** The tap DingTalk sends when `userId` presses the button labelled `label` (template contract: btnN + params.key). */
  function tap(card: DeliveredCard, userId: string, label: string, paramMap = card.cardData.cardParamMap) {
    const n = [1, 2, 3, 4, 5, 6].find((i) => paramMap[`btn${i}_label`] === label);
    if (!n) throw new Error(`card has no button ${label}: ${JSON.stringify(paramMap)}`);
    return cardTap({ outTrackId: card.outTrackId, userId, actionId: `btn${n}`, params: { key: paramMap[`btn${n}_key`] } });
  }

  const statusOf = async (orderId: number) => (await http().get(`/api/v1/orders/${orderId}`).set(t.apiKeyHeader)).body.status as string;

  it("takes a rep's message through the manager's card, its update, shipping and the customer's group robot", async () => {
    const s = await story();

    // 1. The rep messages the robot: a draft and its preview card, from the action template.
    await frame(TOPIC_ROBOT, robotText(s.rep.platformUserId, s.text));
    const order = await m().Order.findOne({ where: { salesRepId: s.rep.id } });
    expect(order).toMatchObject({ status: "draft", totalFen: 600_000 });
    const [preview] = api.cardsTo(s.rep.platformUserId);
    expect(preview).toMatchObject({ cardTemplateId: "tpl-action.schema", callbackType: "STREAM", imRobotOpenDeliverModel: { spaceType: "IM_ROBOT", robotCode: "dingrobot0123" } });
    expect(preview.cardData.cardParamMap).toMatchObject({ btn1_label: "提交", btn2_label: "取消", status: "open" });
    expect(JSON.stringify(preview.cardData)).toContain(order!.orderNo);
    for (const v of Object.values(preview.cardData.cardParamMap)) expect(typeof v).toBe("string");

    // 2. The rep taps 提交: the manager gets the approval card; the preview is redrawn in place.
    await frame(TOPIC_CARD, tap(preview, s.rep.platformUserId, "提交"));
    expect(await statusOf(order!.id)).toBe("pending_approval");
    const [approval] = api.cardsTo(s.leader.platformUserId);
    expect(approval.cardTemplateId).toBe("tpl-approval.schema");
    expect(approval.cardData.cardParamMap).toMatchObject({ btn1_label: "同意", btn2_label: "驳回", link_label: "查看详情" });
    expect(approval.cardData.cardParamMap.link_url).toMatch(/^https:\/\/order\.example\.com\/dingtalk\/h5\?next=%2Fm%2Forders%2F\d+$/);
    expect(approval.outTrackId).not.toBe(preview.outTrackId);
    const ref = await m().CardRef.findOne({ where: { orderId: order!.id, kind: "approval" } });
    expect(ref!.platformRef).toMatchObject({ outTrackId: approval.outTrackId, templateId: "tpl-approval.schema" });
    expect(api.updatesOf(preview.outTrackId).length).toBeGreaterThanOrEqual(1);

    // 3. The manager taps 同意: the card is updated for everyone, buttons gone, the decision shown.
    await frame(TOPIC_CARD, tap(approval, s.leader.platformUserId, "同意"));
    expect(await statusOf(order!.id)).toBe("approved");
    const [decided] = api.updatesOf(approval.outTrackId);
    expect(decided.cardUpdateOptions).toEqual({ updateCardDataByKey: true });
    expect(decided.cardData.cardParamMap).toMatchObject({ btn1_label: "", btn2_label: "", status: "closed" });
    expect(decided.cardData.cardParamMap.banner).toContain("已同意");
    expect(api.textsTo(s.rep.platformUserId).join("\n")).toContain(order!.orderNo);
    expect(api.cardsTo(warehouse.platformUserId).some((c) => JSON.stringify(c).includes(order!.orderNo))).toBe(true);
    // The customer's group robot is told the order is confirmed, signed with its secret.
    const toCustomer = () => api.webhooks.filter((w) => w.query.access_token === s.robotToken);
    const [confirmed] = toCustomer();
    expect(confirmed.body.msgtype).toBe("markdown");
    expect(confirmed.body.markdown!.text).toMatch(/^#### 您的订单已确认\n/);
    expect(confirmed.body.markdown!.text).toContain(`- 订单号：${order!.orderNo}`);
    expect(confirmed.body.markdown!.text).toContain("- 合计：¥6,000.00");
    expect(confirmed.query.sign).toBe(expectedSign(SECRET, confirmed.query.timestamp));

    // 4. The ERP ships: the customer's group robot is told, signed with its secret.
    for (const step of ["start-picking", "pack"]) expect((await http().post(`/api/v1/orders/${order!.id}/${step}`).set(t.apiKeyHeader)).status).toBe(200);
    const shipped = await http().post(`/api/v1/orders/${order!.id}/shipments`).set(t.apiKeyHeader).send({ carrier: "顺丰速运", trackingNo: `SF${s.id}0001` });
    expect(shipped.status).toBe(201);
    await settle(t);
    expect(toCustomer()).toHaveLength(2);
    const notice = toCustomer()[1];
    expect(notice.body.msgtype).toBe("markdown");
    expect(notice.body.markdown!.text).toMatch(/^#### 您的订单已发货\n/);
    expect(notice.body.markdown!.text).toContain(`SF${s.id}0001`);
    expect(notice.body.markdown!.text).toContain("顺丰速运");
    expect(notice.query.sign).toBe(expectedSign(SECRET, notice.query.timestamp));
    expect(Math.abs(Number(notice.query.timestamp) - Date.now())).toBeLessThan(60_000);
    const detail = await http().get(`/api/v1/orders/${order!.id}`).set(t.apiKeyHeader);
    expect(detail.body.customerNotices.map((n: { kind: string; state: string; channel: string }) => [n.kind, n.state, n.channel])).toEqual([
      ["confirmed", "sent", "dingtalk_robot"],
      ["shipment", "sent", "dingtalk_robot"],
    ]);
    expect(await m().Outbox.count({ where: { status: "dead" } })).toBe(0);
    expect(api.violations).toEqual([]);
    expect(api.tokenFetches).toBe(1);
  });

  it("takes one decision when the same tap arrives three times", async () => {
    const s = await story();
    await frame(TOPIC_ROBOT, robotText(s.rep.platformUserId, s.text));
    const [preview] = api.cardsTo(s.rep.platformUserId);
    await frame(TOPIC_CARD, tap(preview, s.rep.platformUserId, "提交"));
    const [approval] = api.cardsTo(s.leader.platformUserId);
    const data = tap(approval, s.leader.platformUserId, "同意");
    const ids = [gw.callback(TOPIC_CARD, data), gw.callback(TOPIC_CARD, data), gw.callback(TOPIC_CARD, data)];
    for (const id of ids) await gw.waitAck(id);
    await settle(t);
    const order = await m().Order.findOne({ where: { salesRepId: s.rep.id } });
    expect(order!.status).toBe("approved");
    expect(api.updatesOf(approval.outTrackId)).toHaveLength(1);
  });
});
