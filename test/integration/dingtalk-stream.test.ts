import nock from "nock";
import { rememberButtons, encodeKey } from "../../src/channels/dingtalk/keys";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { DT_CORP, FakeGateway, TOPIC_CARD, TOPIC_ROBOT, cardTap, dingtalkEnv, robotText } from "../helpers/dingtalk-gateway";

/** The real dingtalk-stream client against a local gateway (dingtalk.md 1): frames in, acks out. */
describe("DingTalk Stream inbound", () => {
  let t: TestApp;
  let gw: FakeGateway;
  const m = () => t.app.db.models;

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    gw = await new FakeGateway().start();
    t = await createTestApp({ env: dingtalkEnv({ DINGTALK_API_BASE: "https://dt-api.test", DINGTALK_OAPI_BASE: "https://dt-oapi.test" }) });
    // Known members: no directory lookups on first contact.
    for (const id of ["rep1", "rep2", "rep3", "rep4", "rep5", "rep6"]) {
      await m().User.create({ platform: "dingtalk", platformUserId: id, name: id, mobile: null, roles: ["sales"], managerId: null, department: null });
    }
    t.app.dingtalkStream!.start();
    await gw.waitConnections(1);
    await gw.waitFor(() => t.app.dingtalkStream!.state() === "registered", "registered");
  });
  afterAll(async () => {
    await t.close();
    await gw.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const eventsFrom = (from: string) => m().InboundEvent.findAll({ where: { platform: "dingtalk" } }).then((rows) => rows.filter((r) => (r.payload as { from?: string }).from === from));

  it("opens the connection with its client id and subscribes to robot messages and card callbacks", () => {
    expect(gw.opens[0].clientId).toBe("dingclientid");
    expect(gw.opens[0].subscriptions).toEqual(expect.arrayContaining([{ type: "CALLBACK", topic: TOPIC_ROBOT }, { type: "CALLBACK", topic: TOPIC_CARD }]));
  });

  it("acknowledges a robot message only after it is persisted, as the protocol's callback answer", async () => {
    const id = gw.callback(TOPIC_ROBOT, robotText("rep1", "帮助"));
    await gw.waitAck(id);
    // The ack follows receive(): the event is in inbound_events by the time the gateway hears back.
    const [row] = await eventsFrom("rep1");
    expect(row).toMatchObject({ kind: "text" });
    expect(row.payload).toMatchObject({ kind: "text", platform: "dingtalk", from: "rep1", text: "帮助" });
    const ack = gw.acks.get(id)!;
    expect(ack).toMatchObject({ code: 200, message: "OK", headers: { messageId: id, contentType: "application/json" } });
    expect(JSON.parse(ack.data)).toEqual({ response: {} });
    await t.app.inbound.drain();
  });

  it("acts once on a frame delivered twice, and on the same msgId in two frames", async () => {
    const data = robotText("rep2", "我的订单");
    const id = gw.callback(TOPIC_ROBOT, data);
    await gw.waitAck(id);
    gw.acks.delete(id);
    gw.callback(TOPIC_ROBOT, data, id); // re-delivery: same frame messageId
    await gw.waitAck(id);
    const other = gw.callback(TOPIC_ROBOT, data); // a new frame for the same message
    await gw.waitAck(other);
    await t.app.inbound.drain();
    expect(await eventsFrom("rep2")).toHaveLength(1);
  });

  it("acknowledges and ignores frames for another robot or corp, and messages that are not text", async () => {
    const ids = [
      gw.callback(TOPIC_ROBOT, robotText("rep3", "帮助", { robotCode: "someone-else" })),
      gw.callback(TOPIC_ROBOT, robotText("rep3", "帮助", { chatbotCorpId: "dingother", senderCorpId: "dingother" })),
      gw.callback(TOPIC_ROBOT, robotText("rep3", "", { msgtype: "picture", text: undefined })),
      gw.callback(TOPIC_CARD, { ...cardTap({ outTrackId: "co-x", userId: "rep3", actionId: "btn1" }), corpId: "dingother" }),
    ];
    for (const id of ids) await gw.waitAck(id);
    expect(await eventsFrom("rep3")).toHaveLength(0);
  });

  it("maps a card tap whose params carry our key, and one that brings only the action id", async () => {
    const key = encodeKey("approval.approve", { orderId: "12", stepId: "3" });
    const a = gw.callback(TOPIC_CARD, cardTap({ outTrackId: "co-card-a", userId: "rep4", actionId: "btn1", params: { key } }));
    await rememberButtons(t.app.cache, "co-card-b", [encodeKey("order.submit", { orderId: "7", version: "1" }), encodeKey("order.discard", { orderId: "7" })]);
    const b = gw.callback(TOPIC_CARD, cardTap({ outTrackId: "co-card-b", userId: "rep4", actionId: "btn2", contentAsObject: true }));
    const c = gw.callback(TOPIC_CARD, cardTap({ outTrackId: "co-unknown", userId: "rep4", actionId: "btn1" }));
    for (const id of [a, b, c]) await gw.waitAck(id);
    await t.app.inbound.drain();
    const payloads = (await eventsFrom("rep4")).map((r) => r.payload);
    expect(payloads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "card_action", action: "approval.approve", values: { orderId: "12", stepId: "3" } }),
        expect.objectContaining({ kind: "card_action", action: "order.discard", values: { orderId: "7" } }),
      ]),
    );
    expect(payloads).toHaveLength(2);
    expect(DT_CORP).toBeTruthy();
  });

  it("leaves a frame unacknowledged when it could not be persisted, and takes its re-delivery", async () => {
    const receive = jest.spyOn(t.app.inbound, "receive");
    receive.mockRejectedValueOnce(new Error("database is locked"));
    const data = robotText("rep6", "帮助");
    const id = gw.callback(TOPIC_ROBOT, data);
    await gw.waitFor(() => receive.mock.calls.length === 1, "receive called");
    receive.mockImplementationOnce(() => {
      throw new Error("thrown before any promise");
    });
    gw.callback(TOPIC_ROBOT, data, id); // DingTalk delivers it again: this time receive throws at once
    await gw.waitFor(() => receive.mock.calls.length === 2, "receive called again");
    await new Promise((r) => setTimeout(r, 200));
    expect(gw.acks.has(id)).toBe(false);
    expect(await eventsFrom("rep6")).toHaveLength(0);
    receive.mockRestore();
    gw.callback(TOPIC_ROBOT, data, id); // and again: now it is stored, then acknowledged
    await gw.waitAck(id);
    expect(await eventsFrom("rep6")).toHaveLength(1);
    await t.app.inbound.drain();
  });

  it("re-establishes a dropped connection and keeps receiving", async () => {
    const before = gw.connections;
    gw.drop();
    await gw.waitConnections(before + 1, 8000);
    await gw.waitFor(() => t.app.dingtalkStream!.state() === "registered", "registered again", 8000);
    const id = gw.callback(TOPIC_ROBOT, robotText("rep5", "帮助"));
    await gw.waitAck(id);
    expect(await eventsFrom("rep5")).toHaveLength(1);
    expect(gw.opens.length).toBeGreaterThanOrEqual(2); // a fresh ticket for the new connection
    await t.app.inbound.drain();
  });

  it("closes cleanly and does not reconnect afterwards", async () => {
    const before = gw.connections;
    await t.app.dingtalkStream!.close();
    expect(t.app.dingtalkStream!.state()).toBe("closed");
    await new Promise((r) => setTimeout(r, 1500));
    expect(gw.connections).toBe(before);
    expect(gw.open).toBe(0);
  });
});
