import crypto from "node:crypto";
import nock from "nock";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct } from "../helpers/factories";
import { testWecomConfig } from "../helpers/wecom";
import { FakeWecom, postCallback, settle, textFrom } from "../helpers/wecom-flow";

/**
 * A WeCom member's first message to the bot: they are read from the directory (user/get, wecom.md 8.1)
 * and created as a first sign-in creates them, with the roles WECOM_ROLE_MAP gives them, and with their
 * direct leader, who is created from the directory too when not yet a user. WeCom is faked at its HTTP
 * boundary; every directory call a test expects is declared.
 */
// Per-member pacing makes a story with two sends take a few seconds.
jest.setTimeout(60_000);

const ok = (body: Record<string, unknown> = {}) => ({ errcode: 0, errmsg: "ok", ...body });
// Letters only: digits at the end of a product name would read as a quantity in the rep's text.
const uid = () => Array.from(crypto.randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join("");

type LogLine = Record<string, unknown> & { msg?: string };

describe("a WeCom member's first message", () => {
  let t: TestApp;
  let fake: FakeWecom;
  let logs: LogLine[];

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });
  // Each test its own app: its own token, and its own cache of department trees and names.
  beforeEach(async () => {
    fake = new FakeWecom(testWecomConfig());
    logs = [];
    const logDestination = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };
    // Department 2 (and below) are sales.
    t = await createTestApp({ env: { ...fake.env(), WECOM_ROLE_MAP: "dept:2=sales", LOG_LEVEL: "info" }, logDestination });
  });
  afterEach(async () => {
    nock.cleanAll();
    await t.close();
  });
  afterAll(() => nock.enableNetConnect());

  const m = () => t.app.db.models;
  const userOf = (userid: string) => m().User.findOne({ where: { platform: "wecom", platformUserId: userid } });

  /** The directory answers for a rep in department 21 (under 2, the sales department) whose leader is `leader`. */
  function repInDirectory(scope: nock.Scope, rep: string, leader?: string): nock.Scope {
    return scope
      .get("/cgi-bin/user/get").query({ access_token: fake.accessToken, userid: rep })
      .reply(200, ok({ userid: rep, name: "王小明", department: [21], main_department: 21, direct_leader: leader ? [leader] : [], status: 1 }))
      .get("/cgi-bin/department/simplelist").query({ access_token: fake.accessToken, id: "2" })
      .reply(200, ok({ department_id: [{ id: 2, parentid: 1 }, { id: 21, parentid: 2 }] }))
      .get("/cgi-bin/department/get").query({ access_token: fake.accessToken, id: "21" })
      .reply(200, ok({ department: { id: 21, name: "华东销售", parentid: 2 } }));
  }

  /** A customer and a product worth a manager's approval (6 × ¥1,000 > ¥5,000), and the text ordering them. */
  async function orderText(): Promise<string> {
    const id = uid();
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 100_000, sku: `WX-${id}` });
    await m().Product.update({ name: `企微口罩${id}` }, { where: { id: product.id } });
    const customer = await buildCustomer(t.app);
    await m().Customer.update({ name: `企微客户${id}` }, { where: { id: customer.id } });
    return `下单 企微客户${id} 企微口罩${id} 6`;
  }

  it("gives a member whose department maps to sales the sales role at once: their first text is an order", async () => {
    const rep = `rep-${uid()}`;
    const text = await orderText();
    const scope = repInDirectory(fake.expect({ send: 1 }), rep);

    expect((await postCallback(t, fake.config, textFrom(rep, text))).status).toBe(200);
    await settle(t);
    expect(scope.isDone()).toBe(true);

    const user = await userOf(rep);
    expect(user).toMatchObject({ name: "王小明", department: "华东销售", roles: ["sales"], managerId: null, active: true });
    const order = await m().Order.findOne({ where: { salesRepId: user!.id } });
    expect(order).toMatchObject({ status: "draft", totalFen: 600_000 });
    expect(JSON.stringify(fake.cardsTo(rep))).toContain(order!.orderNo);
    // Created the way a first sign-in creates them, in the audit trail too.
    expect(await m().AuditEvent.findOne({ where: { entity: "user", entityId: String(user!.id) } })).toMatchObject({
      action: "created",
      actor: "system:directory",
      after: expect.objectContaining({ roles: ["sales"] }),
    });
  });

  it("creates a leader who is not yet a user from the directory, and sends them the approval card", async () => {
    const rep = `rep-${uid()}`;
    const boss = `boss-${uid()}`;
    const text = await orderText();
    const scope = repInDirectory(fake.expect({ send: 1 }), rep, boss)
      // One level only: the leader's own leader is not looked up.
      .get("/cgi-bin/user/get").query({ access_token: fake.accessToken, userid: boss })
      .reply(200, ok({ userid: boss, name: "李经理", department: [1], main_department: 1, direct_leader: [`their-boss-${uid()}`], status: 1 }))
      .get("/cgi-bin/department/get").query({ access_token: fake.accessToken, id: "1" })
      .reply(200, ok({ department: { id: 1, name: "总部", parentid: 0 } }));

    await postCallback(t, fake.config, textFrom(rep, text));
    await settle(t);
    expect(scope.isDone()).toBe(true);

    const leader = await userOf(boss);
    expect(leader).toMatchObject({ name: "李经理", department: "总部", roles: [], managerId: null, active: true });
    const user = await userOf(rep);
    expect(user).toMatchObject({ roles: ["sales"], managerId: leader!.id });
    expect(logs.some((l) => l.msg === "direct leader created from the directory" && l.userId === leader!.id)).toBe(true);

    // The rep taps 提交 on the preview: "the rep's manager" is the leader just created.
    const [preview] = fake.cardsTo(rep);
    const submitScope = fake.expect({ send: 1, update: 1 });
    await postCallback(t, fake.config, fake.clickXml(rep, preview, "提交").xml);
    await settle(t);
    expect(submitScope.isDone()).toBe(true);
    const order = await m().Order.findOne({ where: { salesRepId: user!.id } });
    expect(order!.status).toBe("pending_approval");
    const [approval] = fake.cardsTo(boss);
    expect(JSON.stringify(approval)).toContain(order!.orderNo);
    expect(fake.violations).toEqual([]);
  });

  it.each([
    ["WeCom does not know the leader (60111)", { status: 200, body: { errcode: 60111, errmsg: "userid not found" } }],
    ["WeCom answers HTTP 502", { status: 502, body: { message: "bad gateway" } }],
  ])("still answers the rep when %s, without a manager, and logs it", async (_case, answer) => {
    const rep = `rep-${uid()}`;
    const boss = `boss-${uid()}`;
    const text = await orderText();
    const scope = repInDirectory(fake.expect({ send: 1 }), rep, boss)
      .get("/cgi-bin/user/get").query({ access_token: fake.accessToken, userid: boss })
      .reply(answer.status, answer.body);

    await postCallback(t, fake.config, textFrom(rep, text));
    await settle(t);
    expect(scope.isDone()).toBe(true);

    const user = await userOf(rep);
    expect(user).toMatchObject({ roles: ["sales"], managerId: null });
    expect(await userOf(boss)).toBeNull();
    expect(await m().Order.findOne({ where: { salesRepId: user!.id } })).toMatchObject({ status: "draft" });
    expect(fake.cardsTo(rep)).toHaveLength(1);
    expect(logs.some((l) => l.msg === "direct leader could not be added; going on without a manager" && l.leader === boss)).toBe(true);
    expect(await m().InboundEvent.findOne({ where: { platform: "wecom" } })).toMatchObject({ status: "processed" });
  });
});
