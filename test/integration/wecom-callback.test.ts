import Koa from "koa";
import nock from "nock";
import pino from "pino";
import request from "supertest";
import { wecomCallbackRoutes } from "../../src/channels/wecom";
import { createCardCodes } from "../../src/channels/wecom/card-codes";
import { encodeButtonKey } from "../../src/channels/wecom/keys";
import { errorHandler } from "../../src/http/middleware/errors";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { cardEventXml, testWecomConfig, textXml, wecomHandshake, wecomPost } from "../helpers/wecom";

describe("/wecom/callback", () => {
  const config = testWecomConfig();
  let t: TestApp;
  let server: ReturnType<Koa["callback"]>;
  let seq = 0;
  // The routes' own log, to check each refusal is logged once and says why.
  const logged: Array<{ msg: string; reason?: string; detail?: string }> = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const refusals = () => logged.filter((l) => l.msg === "wecom callback refused");
  const msgId = () => `${Date.now()}${String(seq++).padStart(6, "0")}`;
  const rows = () => t.app.db.models.InboundEvent.count({ where: { platform: "wecom" } });
  const post = (cb: { query: Record<string, string>; body: string }) =>
    request(server).post("/wecom/callback").query(cb.query).set("Content-Type", "text/xml").send(cb.body);

  beforeAll(async () => {
    // Nothing here may reach WeCom: callbacks are answered from what they carry.
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp();
    // The sender exists already, so the bot answers without asking WeCom's directory.
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: "zhangsan", name: "张三", mobile: null, roles: [], managerId: null, department: null });
    const koa = new Koa({ proxy: true });
    koa.use(errorHandler(t.app.log));
    const router = wecomCallbackRoutes({ config, inbound: t.app.inbound, cache: t.app.cache, log, now: () => new Date() });
    koa.use(router.routes()).use(router.allowedMethods());
    server = koa.callback();
  });
  afterAll(async () => {
    await t.app.inbound.drain();
    await t.close();
    nock.enableNetConnect();
  });

  it("answers the URL handshake with exactly the decrypted echostr, as plain text", async () => {
    const res = await request(server).get("/wecom/callback").query(wecomHandshake(config, "1288432023552776189"));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.text).toBe("1288432023552776189");
  });

  it("refuses a handshake with a forged signature or a stale timestamp", async () => {
    const forged = { ...wecomHandshake(config, "x"), msg_signature: "0".repeat(40) };
    expect((await request(server).get("/wecom/callback").query(forged)).status).toBe(401);
    const stale = wecomHandshake(config, "x", Math.floor(Date.now() / 1000) - 3600);
    const res = await request(server).get("/wecom/callback").query(stale);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: "unauthorized", message: "callback timestamp is outside the replay window" });
    expect((await request(server).get("/wecom/callback")).status).toBe(422);
  });

  it("persists a valid text message and answers success", async () => {
    const id = msgId();
    const before = await rows();
    const res = await post(wecomPost(config, textXml("zhangsan", "帮助", id)));
    expect(res.status).toBe(200);
    expect(res.text).toBe("success");
    expect(await rows()).toBe(before + 1);
    const row = await t.app.db.models.InboundEvent.findOne({ where: { platform: "wecom", eventKey: `msg:${id}` } });
    expect(row?.payload).toMatchObject({ kind: "text", from: "zhangsan", text: "帮助" });
  });

  it("stores one row when WeCom delivers the same message three times at once", async () => {
    const id = msgId();
    const before = await rows();
    // Each retry is signed afresh (new nonce) but carries the same MsgId.
    const results = await Promise.all([1, 2, 3].map(() => post(wecomPost(config, textXml("zhangsan", "我的订单", id)))));
    expect(results.map((r) => [r.status, r.text])).toEqual([[200, "success"], [200, "success"], [200, "success"]]);
    expect(await rows()).toBe(before + 1);
  });

  it("keeps a card click's response code for the next update and persists the action", async () => {
    const key = encodeButtonKey(0, "approval.approve", { orderId: "999999", stepId: "1" });
    const res = await post(wecomPost(config, cardEventXml({ from: "zhangsan", key, taskId: "co-click-1", responseCode: "RC-click", createTime: 1700000123 })));
    expect(res.status).toBe(200);
    const row = await t.app.db.models.InboundEvent.findOne({ where: { platform: "wecom", eventKey: `ev:zhangsan:1700000123:template_card_event:co-click-1:${key}` } });
    expect(row?.payload).toMatchObject({ kind: "card_action", action: "approval.approve", values: { orderId: "999999", stepId: "1" } });
    // The code is stored with the event before the answer: it outlives a crash until it is recorded in card_refs.
    expect(row?.payload).toMatchObject({ cardCode: { taskId: "co-click-1", code: "RC-click", at: expect.any(String) } });
    const codes = createCardCodes(config, t.app.cache);
    expect(await codes.claim({ taskId: "co-click-1", userId: "ZhangSan", sendCode: null, sentAt: null }, new Date())).toBe("RC-click");
  });

  it("answers success for a message it does not act on, storing nothing", async () => {
    const before = await rows();
    const image = `<xml><FromUserName>zhangsan</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><MsgId>${msgId()}</MsgId></xml>`;
    const res = await post(wecomPost(config, image));
    expect([res.status, res.text]).toEqual([200, "success"]);
    expect(await rows()).toBe(before);
  });

  describe("refuses without storing anything", () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ["a forged signature", () => wecomPost(config, textXml("zhangsan", "hi", msgId()), { token: "Forged" }), 401, "unauthorized"],
      ["another corp id", () => wecomPost(config, textXml("zhangsan", "hi", msgId()), { receiveId: "wwother" }), 403, "forbidden"],
      ["a stale timestamp", () => wecomPost(config, textXml("zhangsan", "hi", msgId()), { timestamp: now() - 301 }), 401, "unauthorized"],
      ["truncated inner XML", () => wecomPost(config, textXml("zhangsan", "hi", msgId()).slice(0, 80)), 422, "validation_failed"],
      ["an envelope that is not XML", () => ({ ...wecomPost(config, textXml("zhangsan", "hi", msgId())), body: "{\"Encrypt\":\"x\"}" }), 422, "validation_failed"],
      ["a truncated envelope", () => { const cb = wecomPost(config, textXml("zhangsan", "hi", msgId())); return { ...cb, body: cb.body.slice(0, -20) }; }, 422, "validation_failed"],
      ["an empty body", () => ({ ...wecomPost(config, textXml("zhangsan", "hi", msgId())), body: "" }), 422, "validation_failed"],
    ])("%s", async (_what, build, status, code) => {
      const before = await rows();
      const logsBefore = refusals().length;
      const res = await post(build());
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await rows()).toBe(before);
      expect(refusals().length).toBe(logsBefore + 1);
    });

    it("a body over 64 KB, declared or streamed", async () => {
      const before = await rows();
      const cb = wecomPost(config, textXml("zhangsan", "x".repeat(70 * 1024), msgId()));
      const declared = await post(cb);
      expect(declared.status).toBe(413);
      expect(declared.body.error.code).toBe("payload_too_large");
      // Chunked, with no Content-Length to refuse up front.
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = request(server).post("/wecom/callback").query(cb.query).set("Transfer-Encoding", "chunked");
        req.write(cb.body.slice(0, 40_000));
        req.write(cb.body.slice(40_000));
        req.end((err, res) => (err ? reject(err) : resolve(res.status)));
      });
      expect(chunked).toBe(413);
      expect(await rows()).toBe(before);
      expect(refusals().slice(-2).map((l) => [l.reason, l.detail])).toEqual([
        ["too_large", expect.stringMatching(/^declared \d+ bytes$/)],
        ["too_large", "over 65536 bytes"],
      ]);
    });
  });
});
