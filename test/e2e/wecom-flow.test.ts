import nock from "nock";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct } from "../helpers/factories";
import { testWecomConfig, textXml, wecomPost } from "../helpers/wecom";

/** A WeCom member talks to the bot through encrypted callbacks; replies leave through the WeCom API. */
// Real-time pacing (per member, per robot) makes a whole story take several seconds; on a loaded CI
// machine more than the default 30 s, which would be a false failure.
jest.setTimeout(120_000);

describe("WeCom channel wired into the app", () => {
  let t: TestApp;
  const wecom = testWecomConfig();
  const sent: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({
      env: {
        WECOM_CORP_ID: wecom.corpId,
        WECOM_AGENT_ID: String(wecom.agentId),
        WECOM_SECRET: wecom.secret,
        WECOM_TOKEN: wecom.token,
        WECOM_AES_KEY: wecom.aesKey,
        WECOM_API_BASE: "https://wecom.test",
        // Members of department 2 (and below) are sales reps.
        WECOM_ROLE_MAP: "dept:2=sales",
      },
    });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await t.close();
  });

  async function callback(inner: string) {
    const { query, body } = wecomPost(t.app.config.wecom!, inner);
    return request(t.callback).post("/wecom/callback").query(query).set("Content-Type", "text/xml").send(body);
  }

  async function settle() {
    for (let i = 0; i < 20; i++) {
      await t.app.inbound.drain();
      if ((await t.app.dispatcher.runOnce()).claimed === 0) return;
    }
  }

  it("creates the member from the directory on first contact with their mapped role, orders in words at once, and replies through message/send", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 1000, sku: "WX-1001" });
    await t.app.db.models.Product.update({ name: "测试口罩" }, { where: { id: product.id } });
    const customer = await buildCustomer(t.app);
    await t.app.db.models.Customer.update({ name: "企微测试客户" }, { where: { id: customer.id } });
    const leader = await t.app.db.models.User.create({ platform: "wecom", platformUserId: "lisi", name: "李四", mobile: null, roles: ["manager"], managerId: null, department: null });

    const api = nock("https://wecom.test")
      .get("/cgi-bin/gettoken")
      .query(true)
      .reply(200, { errcode: 0, errmsg: "ok", access_token: "TOKEN-1", expires_in: 7200 })
      .get("/cgi-bin/user/get")
      .query({ access_token: "TOKEN-1", userid: "zhangsan" })
      .reply(200, { errcode: 0, errmsg: "ok", userid: "zhangsan", name: "张三", department: [2], direct_leader: ["lisi"] })
      .get("/cgi-bin/department/simplelist")
      .query({ access_token: "TOKEN-1", id: "2" })
      .reply(200, { errcode: 0, errmsg: "ok", department_id: [{ id: 2, parentid: 1 }] })
      .get("/cgi-bin/department/get")
      .query(true)
      .reply(200, { errcode: 0, errmsg: "ok", department: { id: 2, name: "华东销售部" } })
      .post("/cgi-bin/message/send")
      .query({ access_token: "TOKEN-1" })
      .reply(200, (_uri, body) => {
        sent.push(body as Record<string, unknown>);
        return { errcode: 0, errmsg: "ok", msgid: "MSG-1", response_code: "RC-1" };
      });

    // WeCom retries a callback it thinks was slow: the same message three times is one order.
    const inner = textXml("zhangsan", "下单 企微测试客户 测试口罩 3", "7000000000000000001");
    const answers = await Promise.all([callback(inner), callback(inner), callback(inner)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await settle();
    expect(api.isDone()).toBe(true);

    // WECOM_ROLE_MAP makes them a sales rep on first contact, as a first sign-in would: no admin step first.
    const member = await t.app.db.models.User.findOne({ where: { platform: "wecom", platformUserId: "zhangsan" } });
    expect(member).toMatchObject({ name: "张三", managerId: leader.id, department: "华东销售部", roles: ["sales"] });
    expect(await t.app.db.models.InboundEvent.count({ where: { platform: "wecom" } })).toBe(1);
    const orders = await t.app.db.models.Order.findAll({ where: { customerId: customer.id } });
    expect(orders).toHaveLength(1);
    const [order] = orders;
    expect(order).toMatchObject({ status: "draft", salesRepId: member!.id, totalFen: 3000 });
    const preview = sent[sent.length - 1] as { touser: string; msgtype: string; template_card?: { main_title?: { title?: string } } };
    expect(preview).toMatchObject({ touser: "zhangsan", msgtype: "template_card" });
    expect(JSON.stringify(preview.template_card)).toContain(order.orderNo);
  });
});
