import nock from "nock";
import { Op } from "sequelize";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { FakeGateway, TOPIC_ROBOT, dingtalkEnv, robotText } from "../helpers/dingtalk-gateway";

/**
 * Two instances of the service on one database, both connected to the Stream gateway. DingTalk may hand
 * the same frame to either (or, after a lost ack, to both): it must be acted on once.
 */
describe("DingTalk Stream with two instances", () => {
  let a: TestApp;
  let b: TestApp;
  let gw: FakeGateway;

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    gw = await new FakeGateway().start();
    const env = dingtalkEnv({ DINGTALK_API_BASE: "https://dt-api.test", DINGTALK_OAPI_BASE: "https://dt-oapi.test" });
    a = await createTestApp({ env });
    // The second instance shares the first one's database and cache prefix (on SQLite each has its own
    // memory cache, so only the database's unique key stands between them: the harder case).
    b = await createTestApp({ env: { ...env, DATABASE_URL: a.app.config.database.url, CACHE_KEY_PREFIX: a.app.config.cacheKeyPrefix } });
    await a.app.db.models.User.create({ platform: "dingtalk", platformUserId: "twin", name: "twin", mobile: null, roles: ["sales"], managerId: null, department: null });
    a.app.dingtalkStream!.start();
    b.app.dingtalkStream!.start();
    await gw.waitConnections(2);
    await gw.waitFor(() => [a, b].every((t) => t.app.dingtalkStream!.state() === "registered"), "both registered");
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await gw.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("stores and answers a frame both instances received exactly once", async () => {
    const id = gw.callback(TOPIC_ROBOT, robotText("twin", "帮助"));
    await gw.waitAck(id);
    // The first ack may be the instance that found it a duplicate: wait until the other has handled it.
    const handled = () => a.app.db.models.InboundEvent.count({ where: { platform: "dingtalk", status: "processed" } });
    for (let i = 0; i < 100 && (await handled()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await Promise.all([a.app.inbound.drain(), b.app.inbound.drain()]);
    expect(gw.open).toBe(2);
    const events = await a.app.db.models.InboundEvent.findAll({ where: { platform: "dingtalk" } });
    expect(events.filter((e) => (e.payload as { from?: string }).from === "twin")).toHaveLength(1);
    const twin = await a.app.db.models.User.findOne({ where: { platform: "dingtalk", platformUserId: "twin" } });
    const replies = await a.app.db.models.Outbox.findAll({ where: { topic: { [Op.in]: ["chat.text", "chat.card"] } } });
    const toTwin = replies.filter((r) => (r.payload as { userId?: number }).userId === twin!.id);
    expect(toTwin).toHaveLength(1);
  });
});
