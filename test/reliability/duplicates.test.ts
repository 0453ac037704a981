import crypto from "node:crypto";
import nock from "nock";
import { Op } from "sequelize";
import request from "supertest";
import type { UserRow } from "../../src/db/models/users";
import { API_ACTOR } from "../helpers/factories";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buttonsOf } from "../helpers/console-driver";
import { FakeDingtalkApi, type DeliveredCard } from "../helpers/dingtalk-api";
import { FakeGateway, TOPIC_CARD, TOPIC_ROBOT, cardTap, dingtalkEnv, robotText } from "../helpers/dingtalk-gateway";
import { FakeWecom, settle, textFrom, type TemplateCardJson } from "../helpers/wecom-flow";
import { testWecomConfig, wecomPost } from "../helpers/wecom";
import { SESSION_COOKIE } from "../../src/http/session";

/**
 * Every platform callback delivered three times at once (as a platform retrying a slow answer does),
 * and an approval tapped on two devices and a card at the same moment: each must have one effect —
 * one inbound event, one order, one decision, and the same messages out as a single delivery makes.
 * Each story runs once delivered singly (the control) and once delivered three times; the figures
 * printed are the control's and the repeat's, side by side.
 */
jest.setTimeout(180_000);

const letters = () => Array.from(crypto.randomBytes(6), (b) => String.fromCharCode(65 + (b % 26))).join("");

describe("duplicates and races: one effect per intended action", () => {
  let t: TestApp;
  let gw: FakeGateway;
  const wecom = new FakeWecom(testWecomConfig());
  const dingtalk = new FakeDingtalkApi();
  const report: string[] = [];

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    gw = await new FakeGateway().start();
    dingtalk.install();
    // Every WeCom call these stories make, however many: the assertions count what arrived.
    wecom.expect({ send: 10_000, update: 10_000 });
    t = await createTestApp({
      env: {
        ...wecom.env(),
        ...dingtalkEnv({ ...dingtalk.env(), DINGTALK_CARD_TEMPLATE_APPROVAL: "tpl-approval.schema", DINGTALK_CARD_TEMPLATE_ACTION: "tpl-action.schema" }),
      },
    });
    t.app.dingtalkStream!.start();
    await gw.waitFor(() => t.app.dingtalkStream!.state() === "registered", "registered");
    // A warehouse person on every platform, so an approval tells someone to pick.
    for (const platform of ["wecom", "dingtalk", "simulator"] as const) await person(platform, `wh-${letters()}`, "陈师傅", ["warehouse"]);
  });
  afterAll(async () => {
    console.log(["duplicates and races", ...report].join("\n"));
    await t?.close();
    await gw?.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const m = () => t.app.db.models;
  const person = (platform: "wecom" | "dingtalk" | "simulator", userid: string, name: string, roles: UserRow["roles"], managerId: number | null = null) =>
    m().User.create({ platform, platformUserId: userid, name, mobile: null, roles, managerId, department: null });

  /** A rep whose leader approves orders over ¥5,000, a product and a customer the bot can find by name. */
  async function story(platform: "wecom" | "dingtalk" | "simulator") {
    const id = letters();
    const leader = await person(platform, `leader-${id}`, `李经理${id}`, ["manager"]);
    const rep = await person(platform, `rep-${id}`, `王小明${id}`, ["sales"], leader.id);
    const [product] = await t.app.services.upsertProducts([{ sku: `DUP-${id}`, name: `口罩${id}`, listPriceFen: 100_000, floorPriceFen: null, category: null, barcode: null }], API_ACTOR);
    await t.app.services.setStock({ sku: product.sku, onHand: 1000 }, API_ACTOR);
    await t.app.services.upsertCustomers([{ code: `DUPC-${id}`, name: `客户${id}`, creditLimitFen: null, ownerUserId: rep.id, level: null }], API_ACTOR);
    return { id, leader, rep, text: `下单 客户${id} 口罩${id} 6` };
  }

  /** What one step changed: outbox rows by topic, and calls each fake platform received. */
  async function effects<T>(run: () => Promise<T>): Promise<{ result: T; outbox: Record<string, number>; wecomSent: number; wecomUpdates: number; dtCards: number; dtUpdates: number; dtSends: number }> {
    const before = await outboxByTopic();
    const w = [wecom.sent.length, wecom.updates.length];
    const d = [dingtalk.cards.length, dingtalk.updates.length, dingtalk.sends.length];
    const result = await run();
    await settle(t);
    const after = await outboxByTopic();
    const outbox: Record<string, number> = {};
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) if ((after[k] ?? 0) - (before[k] ?? 0)) outbox[k] = (after[k] ?? 0) - (before[k] ?? 0);
    return {
      result,
      outbox,
      wecomSent: wecom.sent.length - w[0],
      wecomUpdates: wecom.updates.length - w[1],
      dtCards: dingtalk.cards.length - d[0],
      dtUpdates: dingtalk.updates.length - d[1],
      dtSends: dingtalk.sends.length - d[2],
    };
  }
  async function outboxByTopic(): Promise<Record<string, number>> {
    const rows = (await m().Outbox.findAll({ attributes: ["topic"] })).map((r) => r.topic);
    return rows.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});
  }
  const shape = (e: Awaited<ReturnType<typeof effects>>) => ({ ...e, result: undefined });
  const line = (label: string, single: Awaited<ReturnType<typeof effects>>, triple: Awaited<ReturnType<typeof effects>>, repeated = "3× at once") =>
    report.push(`  ${label.padEnd(40)} ${"single:".padStart(18)} ${JSON.stringify(shape(single))}\n  ${"".padEnd(40)} ${`${repeated}:`.padStart(18)} ${JSON.stringify(shape(triple))}`);

  const orderOf = (repId: number) => m().Order.findOne({ where: { salesRepId: repId } });
  async function decisionsOn(orderId: number) {
    const steps = await m().ApprovalStep.findAll({ where: { orderId } });
    return m().ApprovalDecision.count({ where: { stepId: steps.map((s) => s.id) } });
  }

  // ---- WeCom ------------------------------------------------------------------------------------

  function wecomPostOnce(xml: string) {
    // The same signed request each time, as WeCom re-sends it.
    const signed = wecomPost(wecom.config, xml);
    return () => request(t.callback).post("/wecom/callback").query(signed.query).set("Content-Type", "text/xml").send(signed.body);
  }
  async function wecomTimes(xml: string, times: number) {
    const send = wecomPostOnce(xml);
    const answers = await Promise.all(Array.from({ length: times }, () => send()));
    for (const a of answers) expect([a.status, a.text]).toEqual([200, "success"]);
  }

  async function wecomStory(times: number) {
    const s = await story("wecom");
    const text = textFrom(s.rep.platformUserId, s.text);
    const msgId = /<MsgId>(\d+)<\/MsgId>/.exec(text)![1];
    const said = await effects(() => wecomTimes(text, times));
    expect(await m().InboundEvent.count({ where: { platform: "wecom", eventKey: { [Op.like]: `%${msgId}%` } } })).toBe(1);
    expect(await m().Order.count({ where: { salesRepId: s.rep.id } })).toBe(1);
    const preview = wecom.cardsTo(s.rep.platformUserId)[0];
    const submitted = await effects(() => wecomTimes(wecom.clickXml(s.rep.platformUserId, preview, "提交").xml, times));
    const order = (await orderOf(s.rep.id))!;
    expect(order.status).toBe("pending_approval");
    const approval: TemplateCardJson = wecom.cardsTo(s.leader.platformUserId)[0];
    expect(wecom.cardsTo(s.leader.platformUserId)).toHaveLength(1);
    const approved = await effects(() => wecomTimes(wecom.clickXml(s.leader.platformUserId, approval, "同意").xml, times));
    expect((await orderOf(s.rep.id))!.status).toBe("approved");
    expect(await decisionsOn(order.id)).toBe(1);
    return { said, submitted, approved };
  }

  it("WeCom: a text and two card taps, each delivered three times at once", async () => {
    const single = await wecomStory(1);
    const triple = await wecomStory(3);
    line("wecom text", single.said, triple.said);
    line("wecom template_card_event 提交", single.submitted, triple.submitted);
    line("wecom template_card_event 同意", single.approved, triple.approved);
    for (const k of ["said", "submitted", "approved"] as const) expect(shape(triple[k])).toEqual(shape(single[k]));
    expect(wecom.violations).toEqual([]);
  });

  // ---- DingTalk ---------------------------------------------------------------------------------

  function dtTap(card: DeliveredCard, userId: string, label: string) {
    const map = card.cardData.cardParamMap;
    const n = [1, 2, 3, 4, 5, 6].find((i) => map[`btn${i}_label`] === label)!;
    return cardTap({ outTrackId: card.outTrackId, userId, actionId: `btn${n}`, params: { key: map[`btn${n}_key`] } });
  }
  async function dtTimes(topic: string, data: Record<string, unknown>, times: number) {
    // The gateway re-delivers a frame it got no ack for with the same messageId.
    const messageId = `msg-${crypto.randomUUID()}`;
    for (let i = 0; i < times; i++) gw.callback(topic, data, messageId);
    await gw.waitAck(messageId);
  }

  async function dingtalkStory(times: number) {
    const s = await story("dingtalk");
    const said = await effects(() => dtTimes(TOPIC_ROBOT, robotText(s.rep.platformUserId, s.text), times));
    expect(await m().Order.count({ where: { salesRepId: s.rep.id } })).toBe(1);
    const [preview] = dingtalk.cardsTo(s.rep.platformUserId);
    const submitted = await effects(() => dtTimes(TOPIC_CARD, dtTap(preview, s.rep.platformUserId, "提交"), times));
    const order = (await orderOf(s.rep.id))!;
    expect(order.status).toBe("pending_approval");
    expect(dingtalk.cardsTo(s.leader.platformUserId)).toHaveLength(1);
    const [approval] = dingtalk.cardsTo(s.leader.platformUserId);
    const approved = await effects(() => dtTimes(TOPIC_CARD, dtTap(approval, s.leader.platformUserId, "同意"), times));
    expect((await orderOf(s.rep.id))!.status).toBe("approved");
    expect(await decisionsOn(order.id)).toBe(1);
    return { said, submitted, approved };
  }

  it("DingTalk: a robot frame and two card callbacks, each delivered three times at once", async () => {
    const single = await dingtalkStory(1);
    const triple = await dingtalkStory(3);
    line("dingtalk robot frame", single.said, triple.said);
    line("dingtalk card callback 提交", single.submitted, triple.submitted);
    line("dingtalk card callback 同意", single.approved, triple.approved);
    for (const k of ["said", "submitted", "approved"] as const) expect(shape(triple[k])).toEqual(shape(single[k]));
    expect(dingtalk.violations).toEqual([]);
  });

  // ---- Simulator --------------------------------------------------------------------------------

  async function simTimes(user: string, action: string, values: Record<string, string>, times: number) {
    const answers = await Promise.all(Array.from({ length: times }, () => request(t.callback).post("/dev/chat/action").send({ user, action, values })));
    for (const a of answers) expect(a.status).toBe(202);
  }
  async function lastCardButtons(platformUserId: string) {
    const res = await request(t.callback).get("/dev/chat/messages").query({ conversation: `user:${platformUserId}`, limit: 200 });
    const cards = (res.body.items as Array<{ kind: string; direction: string; html: string | null }>).filter((b) => b.kind === "card" && b.direction === "out");
    return buttonsOf(cards[cards.length - 1]?.html ?? null);
  }

  async function simulatorStory(times: number) {
    const s = await story("simulator");
    expect((await request(t.callback).post("/dev/chat/send").send({ user: s.rep.platformUserId, text: s.text })).status).toBe(202);
    await settle(t);
    const submit = (await lastCardButtons(s.rep.platformUserId)).find((b) => b.action === "order.submit")!;
    const submitted = await effects(() => simTimes(s.rep.platformUserId, submit.action, submit.values, times));
    const order = (await orderOf(s.rep.id))!;
    expect(order.status).toBe("pending_approval");
    const approve = (await lastCardButtons(s.leader.platformUserId)).find((b) => b.action === "approval.approve")!;
    const approved = await effects(() => simTimes(s.leader.platformUserId, approve.action, approve.values, times));
    expect((await orderOf(s.rep.id))!.status).toBe("approved");
    expect(await decisionsOn(order.id)).toBe(1);
    return { submitted, approved };
  }

  it("simulator: a card's submit and approve tapped three times at once", async () => {
    const single = await simulatorStory(1);
    const triple = await simulatorStory(3);
    line("simulator 提交 tap", single.submitted, triple.submitted);
    line("simulator 同意 tap", single.approved, triple.approved);
    // The simulator gives every tap its own event (no platform retry to collapse): the repeats are
    // handled, and must change nothing.
    expect(shape(triple.submitted)).toEqual(shape(single.submitted));
    expect(shape(triple.approved)).toEqual(shape(single.approved));
  });

  // ---- Two devices and a card -------------------------------------------------------------------

  /** The mini-app session of a WeCom member, as the OAuth sign-in would have issued it. */
  function sessionOf(userId: number) {
    const exp = String(Math.floor(Date.now() / 1000) + 3600);
    const mac = crypto.createHmac("sha256", t.app.config.session.secret).update(`${SESSION_COOKIE}:v1:${userId}.${exp}`).digest("base64url");
    const cookie = `${userId}.${exp}.${mac}`;
    const csrf = crypto.createHmac("sha256", t.app.config.session.secret).update(`csrf:v1:${cookie}`).digest("base64url");
    return { cookie: `${SESSION_COOKIE}=${cookie}`, csrf };
  }

  async function toApproval() {
    const s = await story("wecom");
    await wecomTimes(textFrom(s.rep.platformUserId, s.text), 1);
    await settle(t);
    await wecomTimes(wecom.clickXml(s.rep.platformUserId, wecom.cardsTo(s.rep.platformUserId)[0], "提交").xml, 1);
    await settle(t);
    const order = (await orderOf(s.rep.id))!;
    expect(order.status).toBe("pending_approval");
    return { s, order, approval: wecom.cardsTo(s.leader.platformUserId)[0] };
  }

  it("double tap: approve from the mini-app on two devices and on the card at the same moment → one decision", async () => {
    const control = await toApproval();
    const single = await effects(() => wecomTimes(wecom.clickXml(control.s.leader.platformUserId, control.approval, "同意").xml, 1));

    const { s, order, approval } = await toApproval();
    const session = sessionOf(s.leader.id);
    const fromPhone = () =>
      request(t.callback)
        .post(`/m/orders/${order.id}/decision`)
        .set("Cookie", session.cookie)
        .type("form")
        .send({ decision: "approve", _csrf: session.csrf });
    const raced = await effects(async () => {
      const card = wecomPostOnce(wecom.clickXml(s.leader.platformUserId, approval, "同意").xml);
      return Promise.all([fromPhone(), fromPhone(), card()]);
    });
    const [phoneA, phoneB, card] = raced.result;
    expect([phoneA.status, phoneB.status]).toEqual([302, 302]);
    expect(card.text).toBe("success");
    expect((await orderOf(s.rep.id))!.status).toBe("approved");
    expect(await decisionsOn(order.id)).toBe(1);
    line("approve (decisions = 1)", single, raced, "2 phones + card");
    // One set of notices: the rep is told once, the warehouse gets one pick card, whichever tap won.
    expect(raced.outbox["chat.text"] ?? 0).toBe(single.outbox["chat.text"] ?? 0);
    expect(raced.outbox["card.send"] ?? 0).toBe(single.outbox["card.send"] ?? 0);
    expect(raced.wecomSent).toBe(single.wecomSent);
    expect(wecom.violations).toEqual([]);
  });
});
