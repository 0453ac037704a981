import crypto from "node:crypto";
import { Op } from "sequelize";
import type { InboundEvent, PlatformUser } from "../../src/channels/channel";
import { createChannelRegistry, type ChannelRegistry } from "../../src/channels/registry";
import { createSimulatorChannel } from "../../src/channels/simulator";
import { createBot } from "../../src/bot/conversation";
import type { Card } from "../../src/domain/card";
import { noticeText } from "../../src/domain/cards";
import type { Role } from "../../src/domain/roles";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { API_ACTOR, actorFor, buildTeam, buildUser } from "../helpers/factories";

type User = Awaited<ReturnType<typeof buildUser>>;
/** An event without its key and platform, per kind (Omit on the union itself would merge the kinds). */
type EventInput = InboundEvent extends infer E ? (E extends InboundEvent ? Omit<E, "key" | "platform"> & { key?: string } : never) : never;
interface ReplyRow {
  topic: string;
  dedupeKey: string;
  payload: { userId: number; text?: string; card?: Card; orderId?: number; refKind?: string };
}

// Letters only, and no "x" (a quantity sign to the order parser), so a tag never reads as a number or unit.
const tag = () => Array.from(crypto.randomBytes(5), (b) => "BCDFGHJKLMNPQRSTVWZ"[b % 19]).join("");

describe("chat bot", () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  let bot: ReturnType<typeof createBot>;
  let seq = 0;

  /** A bot over `channels`; by default the app's own, whose simulator directory is the users table. */
  const botWith = (channels: ChannelRegistry) =>
    createBot({ services: t.app.services, serviceDeps: t.app.deps, channels, log: t.app.log, now: () => new Date() });

  beforeAll(async () => {
    t = await createTestApp();
    team = await buildTeam(t.app);
    bot = botWith(t.app.channels);
  });
  afterAll(() => t.close());

  const m = () => t.app.db.models;

  async function replies(key: string): Promise<ReplyRow[]> {
    const rows = await m().Outbox.findAll({ where: { dedupeKey: { [Op.like]: `reply:simulator:${key}:%` } }, order: [["id", "ASC"]] });
    return rows.map((r) => ({ topic: r.topic, dedupeKey: r.dedupeKey, payload: r.payload as ReplyRow["payload"] }));
  }

  async function send(event: EventInput, via = bot): Promise<ReplyRow[]> {
    const key = event.key ?? `evt-${++seq}-${tag()}`;
    await via.handle({ ...event, key, platform: "simulator" } as InboundEvent);
    return replies(key);
  }
  const say = (user: User, text: string) => send({ kind: "text", from: user.platformUserId, text });
  const tap = (user: User, action: string, values: Record<string, string>) =>
    send({ kind: "card_action", from: user.platformUserId, action, values });

  async function userWith(roles: Role[], opts: { locale?: string; managerId?: number } = {}): Promise<User> {
    const user = await buildUser(t.app, roles, opts.managerId ?? team.manager.id);
    if (opts.locale) await user.update({ locale: opts.locale });
    return user;
  }

  /** A customer and products with unique names; each product has its stock. */
  async function catalog(products: Array<{ name: string; priceFen?: number; onHand?: number }>) {
    const id = tag();
    const [customer] = await t.app.services.upsertCustomers([{ code: `K${id}`, name: `华东医疗${id}`, ownerUserId: team.rep.id }], API_ACTOR);
    const made = [];
    for (const [i, p] of products.entries()) {
      const sku = `S${id}${i}`;
      const [product] = await t.app.services.upsertProducts([{ sku, name: `${p.name}${id}`, unit: "箱", listPriceFen: p.priceFen ?? 1000 }], API_ACTOR);
      await t.app.services.setStock({ sku, onHand: p.onHand ?? 100 }, API_ACTOR);
      made.push(product);
    }
    return { id, customer, products: made };
  }

  /** A draft by `rep` priced under list, so the manager must approve it once submitted. */
  async function pendingOrder(rep: User = team.rep) {
    const { customer, products } = await catalog([{ name: "口罩" }]);
    const draft = await t.app.services.placeOrder(
      { customerId: customer.id, lines: [{ productId: products[0].id, qty: 2, unitPriceFen: 900 }], source: "chat", salesRepId: rep.id },
      actorFor(rep),
    );
    const view = await t.app.services.submitOrder({ orderId: draft.id }, actorFor(rep));
    expect(view.status).toBe("pending_approval");
    return { view, stepId: view.approval.steps[0].id };
  }

  const cardOf = (row: ReplyRow) => row.payload.card as Card;
  const ordersOf = (customerId: number) => m().Order.findAll({ where: { customerId }, order: [["id", "ASC"]] });

  describe("help and small talk", () => {
    it("answers 帮助 with the Chinese help card for a rep", async () => {
      const rows = await say(team.rep, "帮助");
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ topic: "chat.card", payload: { userId: team.rep.id } });
      expect(cardOf(rows[0])).toMatchObject({ kind: "help", title: "我能帮您做什么" });
      expect(cardOf(rows[0]).fields.map((f) => f.label)).toContain("下单");
    });

    it("answers help in English for a user whose locale is English, ignoring a leading @mention", async () => {
      const tom = await userWith(["sales"], { locale: "en" });
      const rows = await say(tom, "@ChatOrder help");
      expect(rows.map((r) => cardOf(r).title)).toEqual(["What I can do"]);
    });

    it("switches a person's language on 'English' and back on '中文', for later replies too", async () => {
      const may = await userWith(["sales"]);
      const toEnglish = await say(may, "English");
      expect(toEnglish.map((r) => r.payload.text)).toEqual(['OK, I will use English from now on, in the mini-app too. Send "中文" to switch back to Chinese.']);
      expect((await m().User.findByPk(may.id))?.locale).toBe("en");
      expect((await say(may, "帮助")).map((r) => cardOf(r).title)).toEqual(["What I can do"]);

      const toChinese = await say(may, "切换中文");
      expect(toChinese[0].payload.text).toMatch(/^好的，以后用中文和您交流/);
      expect((await m().User.findByPk(may.id))?.locale).toBe("zh-CN");
      expect((await say(may, "help")).map((r) => cardOf(r).title)).toEqual(["我能帮您做什么"]);
    });

    it("lets someone with no role choose their language, and says how in the help card", async () => {
      const guest = await userWith([]);
      const help = cardOf((await say(guest, "帮助"))[0]);
      expect(help.notes).toContain("发送「English」可切换为英文");
      await say(guest, "language: en");
      expect((await m().User.findByPk(guest.id))?.locale).toBe("en");
      expect(cardOf((await say(guest, "help"))[0]).notes).toContain('Send "中文" to switch to Chinese');
    });

    it("creates a first-time sender from the directory without roles when it grants none, and tells them to ask for one", async () => {
      // The app's simulator reads its "directory" from our users table, so this one has its own.
      const uid = `new-${tag()}`;
      const person: PlatformUser = {
        platform: "simulator",
        platformUserId: uid,
        found: true,
        name: "新同事",
        mobile: "13800000000",
        managerPlatformUserId: team.manager.platformUserId,
        department: "华东",
        active: true,
        roles: { granted: [], managed: [] },
      };
      const simulator = createSimulatorChannel({
        sequelize: t.app.db.sequelize,
        publicUrl: "http://localhost",
        now: () => new Date(),
        findUser: async (id) => (id === uid ? person : null),
      });
      const rows = await send({ kind: "text", from: uid, text: "帮助" }, botWith(createChannelRegistry([simulator])));
      const user = await m().User.findOne({ where: { platform: "simulator", platformUserId: uid } });
      expect(user).toMatchObject({ name: "新同事", mobile: "13800000000", managerId: team.manager.id, roles: [] });
      expect(rows).toHaveLength(1);
      expect(rows[0].payload.userId).toBe(user?.id);
      expect(cardOf(rows[0]).notes).toContain("您还没有开通权限，请联系管理员");
    });

    it("lets a deactivated user talk but act with no role, and ignores a role name it does not know", async () => {
      const gone = await userWith(["sales", "manager"]);
      await gone.update({ active: false });
      const refused = await say(gone, "下单");
      expect(refused.map((r) => r.topic)).toEqual(["chat.text", "chat.card"]);
      expect(refused[0].payload.text).toBe(noticeText("forbidden_action", {}, "zh-CN")); // not the one for other roles
      // A role the code does not know grants nothing: stored by hand, next to a real one.
      const odd = await userWith(["warehouse"]);
      await t.app.db.sequelize.query("UPDATE users SET roles = 'auditor,warehouse' WHERE id = ?", { replacements: [odd.id] });
      const told = await say(odd, "下单");
      expect(told[0].payload.text).toContain("下单功能面向销售人员");
      expect(cardOf(told[1]).kind).toBe("help");
    });

    it("stores each reply as an outbox row the dispatcher picks up: pending, due now, the event's position in its key", async () => {
      const before = Date.now();
      const key = `rows-${tag()}`;
      await send({ kind: "text", key, from: team.warehouse.platformUserId, text: "下单" });
      const rows = await m().Outbox.findAll({ where: { dedupeKey: { [Op.like]: `reply:simulator:${key}:%` } }, order: [["id", "ASC"]] });
      expect(rows.map((r) => [r.topic, r.dedupeKey, r.status, r.attempts, r.sentAt, r.leaseUntil])).toEqual([
        ["chat.text", `reply:simulator:${key}:0`, "pending", 0, null, null],
        ["chat.card", `reply:simulator:${key}:1`, "pending", 0, null, null],
      ]);
      for (const row of rows) {
        // Whole seconds on MariaDB's DATETIME, milliseconds on SQLite.
        expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
        expect(row.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
        expect(row.createdAt.getTime()).toBe(row.nextAttemptAt.getTime());
        expect(row.payload).toMatchObject({ userId: team.warehouse.id });
      }
      const due = await m().Outbox.count({ where: { id: rows.map((r) => r.id), status: "pending", nextAttemptAt: { [Op.lte]: new Date() } } });
      expect(due).toBe(2);
    });

    it("says it did not understand small talk, politely and in text", async () => {
      const rows = await say(team.rep, "今天天气怎么样");
      expect(rows).toEqual([expect.objectContaining({ topic: "chat.text", payload: { userId: team.rep.id, text: expect.stringContaining("没看懂") } })]);
    });

    it("tells a warehouse user that ordering is for sales, and shows what they can do", async () => {
      const rows = await say(team.warehouse, "下单");
      expect(rows.map((r) => r.topic)).toEqual(["chat.text", "chat.card"]);
      expect(rows[0].payload.text).toContain("下单功能面向销售人员");
      expect(cardOf(rows[1]).kind).toBe("help");
    });

    it("offers the rep's recent customers on 下单", async () => {
      const rep = await userWith(["sales"]);
      const { customer, products } = await catalog([{ name: "口罩" }]);
      await t.app.services.placeOrder({ customerId: customer.id, lines: [{ productId: products[0].id, qty: 1 }], source: "chat", salesRepId: rep.id }, actorFor(rep));
      const [row] = await say(rep, "下单");
      expect(cardOf(row)).toMatchObject({ kind: "new_order", buttons: [{ action: "order.new_for_customer", values: { customerCode: customer.code } }] });
      const [hint] = await tap(rep, "order.new_for_customer", { customerCode: customer.code });
      expect(hint.payload.text).toContain(`下单 ${customer.name}`);
    });
  });

  describe("typed orders", () => {
    it("turns a Chinese order into a draft and replies with its preview", async () => {
      const { customer, products } = await catalog([{ name: "N95口罩", priceFen: 1000 }]);
      const rows = await say(team.rep, `下单 ${customer.name} ${products[0].name} 20箱 单价9.5`);
      const [order] = await ordersOf(customer.id);
      expect(order).toMatchObject({ status: "draft", source: "chat", salesRepId: team.rep.id, totalFen: 19000 });
      const lines = await m().OrderLine.findAll({ where: { orderId: order.id } });
      expect(lines.map((l) => [l.productId, l.qty, l.unitPriceFen])).toEqual([[products[0].id, 20, 950]]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ topic: "chat.card", payload: { orderId: order.id, refKind: "preview" } });
      const card = cardOf(rows[0]);
      expect(card).toMatchObject({ kind: "order_preview", title: `订单预览：${order.orderNo}` });
      expect(card.buttons.map((b) => b.action)).toEqual(["order.submit", "order.discard"]);
    });

    it("turns an English order into a draft with an English preview", async () => {
      const tom = await userWith(["sales"], { locale: "en" });
      const { customer, products } = await catalog([{ name: "Gloves" }]);
      const rows = await say(tom, `order ${customer.code}: 5 x ${products[0].sku}`);
      const [order] = await ordersOf(customer.id);
      expect(order).toMatchObject({ status: "draft", salesRepId: tom.id, totalFen: 5000 });
      expect(cardOf(rows[0]).title).toBe(`Order preview: ${order.orderNo}`);
    });

    it("asks which product was meant when a name matches two, then places the chosen one", async () => {
      // Both names are 丁腈手套<colour><tag>; "丁腈手套" alone matches both.
      const { customer, products } = await catalog([{ name: "丁腈手套蓝色" }, { name: "丁腈手套白色" }]);
      const rows = await say(team.rep, `下单 ${customer.name} 丁腈手套 50盒`);
      expect(await ordersOf(customer.id)).toHaveLength(0);
      expect(rows).toHaveLength(1);
      const choose = cardOf(rows[0]);
      expect(choose.kind).toBe("choose");
      expect(choose.select?.options.map((o) => o.value).sort()).toEqual(products.map((p) => String(p.id)).sort());
      const white = choose.buttons.find((b) => b.values?.value === String(products[1].id));
      expect(white).toMatchObject({ action: "bot.choose", values: { field: "line", index: "0" } });

      const after = await tap(team.rep, white!.action, white!.values!);
      const [order] = await ordersOf(customer.id);
      expect(order.status).toBe("draft");
      const lines = await m().OrderLine.findAll({ where: { orderId: order.id } });
      expect(lines.map((l) => [l.productId, l.qty])).toEqual([[products[1].id, 50]]);
      expect(after.map((r) => cardOf(r).kind)).toEqual(["order_preview"]);
    });

    it("asks which customer was meant, then which product, before placing the draft", async () => {
      const { id, products } = await catalog([{ name: "隔离衣长款" }, { name: "隔离衣短款" }]);
      const [east, south] = await t.app.services.upsertCustomers(
        [
          { code: `E${id}`, name: `客户${id}华东分公司` },
          { code: `S${id}`, name: `客户${id}华南分公司` },
        ],
        API_ACTOR,
      );
      const [askCustomer] = await say(team.rep, `下单 客户${id} 隔离衣 4箱`);
      expect(cardOf(askCustomer).subtitle).toBe(`「客户${id}」匹配到多个客户`);
      const pickSouth = cardOf(askCustomer).buttons.find((b) => b.values?.value === String(south.id))!;
      expect(pickSouth.values).toMatchObject({ field: "customer" });

      const [askProduct] = await tap(team.rep, pickSouth.action, pickSouth.values!);
      expect(cardOf(askProduct).subtitle).toBe("「隔离衣」匹配到多个商品");
      const pickShort = cardOf(askProduct).buttons.find((b) => b.values?.value === String(products[1].id))!;
      const [previewRow] = await tap(team.rep, pickShort.action, pickShort.values!);

      expect(await ordersOf(east.id)).toHaveLength(0);
      const [order] = await ordersOf(south.id);
      expect(previewRow.payload).toMatchObject({ orderId: order.id, refKind: "preview" });
      // A late second tap on an old choice card shows the same draft rather than placing another.
      await tap(team.rep, pickShort.action, pickShort.values!);
      expect(await ordersOf(south.id)).toHaveLength(1);
    });

    it("refuses a forged choice that was never offered, and places nothing", async () => {
      const { customer, products } = await catalog([{ name: "防护服甲" }, { name: "防护服乙" }]);
      const [row] = await say(team.rep, `下单 ${customer.name} 防护服 3箱`);
      const values = { ...cardOf(row).select!.values!, value: String(products[0].id + 100000) };
      const rows = await tap(team.rep, "bot.choose", values);
      expect(rows[0].payload.text).toContain("已过期");
      expect(await ordersOf(customer.id)).toHaveLength(0);
    });

    it("names every unknown product and places no order", async () => {
      const { customer, products } = await catalog([{ name: "护目镜" }]);
      const rows = await say(team.rep, `下单 ${customer.name} ${products[0].name} 2箱，量子口罩 5箱`);
      expect(rows).toEqual([expect.objectContaining({ topic: "chat.text" })]);
      expect(rows[0].payload.text).toContain("商品「量子口罩」");
      expect(rows[0].payload.text).toContain("订单未创建");
      expect(await ordersOf(customer.id)).toHaveLength(0);
    });

    it("lists what it could not read in the order text", async () => {
      const { customer, products } = await catalog([{ name: "面罩" }]);
      const rows = await say(team.rep, `下单 ${customer.name} ${products[0].name}`);
      expect(rows[0].payload.text).toContain("缺少数量");
      expect(await ordersOf(customer.id)).toHaveLength(0);
    });

    it("asks for the customer when the order names none, offering recent ones", async () => {
      const rep = await userWith(["sales"]);
      const { customer, products } = await catalog([{ name: "消毒液" }]);
      await t.app.services.placeOrder({ customerId: customer.id, lines: [{ productId: products[0].id, qty: 1 }], source: "chat", salesRepId: rep.id }, actorFor(rep));
      const rows = await say(rep, `下单 ${products[0].name} 3箱`);
      expect(rows.map((r) => r.topic)).toEqual(["chat.card", "chat.text"]);
      const option = cardOf(rows[0]).buttons[0];
      expect(option.values).toMatchObject({ field: "customer", value: String(customer.id) });
      await tap(rep, option.action, option.values!);
      expect((await ordersOf(customer.id)).map((o) => o.status)).toEqual(["draft", "draft"]);
    });
  });

  describe("preview buttons", () => {
    async function draftByChat(priceText: string, onHand = 100) {
      const { customer, products } = await catalog([{ name: "口罩", onHand }]);
      const [row] = await say(team.rep, `下单 ${customer.name} ${products[0].name} 10箱${priceText}`);
      const submit = cardOf(row).buttons.find((b) => b.action === "order.submit")!;
      return { customer, products, submit, orderId: row.payload.orderId! };
    }

    it("submits a discounted draft for approval and says nothing more (the preview redraws itself)", async () => {
      const { submit, orderId } = await draftByChat(" 单价9");
      const rows = await tap(team.rep, submit.action, submit.values!);
      expect(rows).toEqual([]);
      expect((await m().Order.findByPk(orderId))?.status).toBe("pending_approval");
      const steps = await m().ApprovalStep.findAll({ where: { orderId } });
      expect(steps.map((s) => [s.status, s.approverIds])).toEqual([["pending", [team.manager.id]]]);
    });

    it("approves a small list-price order on submit", async () => {
      const { submit, orderId } = await draftByChat("");
      await tap(team.rep, submit.action, submit.values!);
      expect((await m().Order.findByPk(orderId))?.status).toBe("approved");
    });

    it("lists the short sku when stock ran out, and leaves the draft as it was", async () => {
      const { submit, orderId, products } = await draftByChat("", 4);
      const rows = await tap(team.rep, submit.action, submit.values!);
      expect(rows[0].payload.text).toContain(`${products[0].sku}（需要 10，可用 4）`);
      expect((await m().Order.findByPk(orderId))?.status).toBe("draft");
    });

    it("answers an outdated preview with a conflict and submits nothing", async () => {
      const { submit, orderId } = await draftByChat("");
      const rows = await tap(team.rep, submit.action, { ...submit.values!, version: "99" });
      expect(rows[0].payload.text).toBe("订单已被修改，请重新查看");
      expect((await m().Order.findByPk(orderId))?.status).toBe("draft");
    });

    it("discards a draft, and refuses to discard one that was already submitted", async () => {
      const first = await draftByChat("");
      await tap(team.rep, "order.discard", first.submit.values!);
      expect(await m().Order.findByPk(first.orderId)).toMatchObject({ status: "cancelled", cancelReason: "草稿已撤销" });

      const second = await draftByChat(" 单价9");
      await tap(team.rep, second.submit.action, second.submit.values!);
      const rows = await tap(team.rep, "order.discard", second.submit.values!);
      expect(rows[0].payload.text).toContain("不能再作为草稿撤销");
      expect((await m().Order.findByPk(second.orderId))?.status).toBe("pending_approval");
    });
  });

  describe("approvals", () => {
    it("approves when the manager taps 同意, with no extra reply", async () => {
      const { view, stepId } = await pendingOrder();
      const rows = await tap(team.manager, "approval.approve", { orderId: String(view.id), stepId: String(stepId) });
      expect(rows).toEqual([]);
      expect((await m().Order.findByPk(view.id))?.status).toBe("approved");
    });

    it("politely refuses someone who is not an approver of the step, and changes nothing", async () => {
      const { view, stepId } = await pendingOrder();
      const other = await userWith(["manager"]);
      const rows = await tap(other, "approval.approve", { orderId: String(view.id), stepId: String(stepId) });
      expect(rows).toEqual([expect.objectContaining({ topic: "chat.text", payload: { userId: other.id, text: "您不是该审批步骤的审批人，操作未生效" } })]);
      expect((await m().Order.findByPk(view.id))?.status).toBe("pending_approval");
      expect(await m().ApprovalDecision.count({ where: { stepId } })).toBe(0);
    });

    it("says the step was already decided when a second approval arrives after a rejection", async () => {
      const { view, stepId } = await pendingOrder();
      const values = { orderId: String(view.id), stepId: String(stepId) };
      await tap(team.manager, "approval.reject", { ...values, reason: "价格过低" });
      const rows = await tap(team.manager, "approval.approve", values);
      expect(rows[0].payload.text).toBe(`订单 ${view.orderNo} 的该审批已处理（已驳回），无需重复操作`);
    });

    it("asks for a reason on 驳回 without one, then takes the next text as the reason", async () => {
      const { view, stepId } = await pendingOrder();
      const values = { orderId: String(view.id), stepId: String(stepId) };
      const asked = await tap(team.manager, "approval.reject", values);
      expect(asked.map((r) => r.topic)).toEqual(["chat.card", "chat.text"]);
      expect(cardOf(asked[0]).select).toMatchObject({ action: "approval.reject", name: "reason", values });
      expect(cardOf(asked[0]).select?.options.map((o) => o.value)).toEqual(["价格过低", "信用超限", "库存不足", "信息有误"]);
      expect(asked[1].payload.text).toBe("也可以直接回复驳回原因");
      // Kept as a card of the step, so the decision redraws it with the outcome.
      expect(asked[0].payload).toMatchObject({ orderId: view.id, refKind: "reject_reason", stepId });
      expect((await m().Order.findByPk(view.id))?.status).toBe("pending_approval");

      const done = await say(team.manager, "折扣太大，请按标价重新下单");
      expect((await m().Order.findByPk(view.id))?.status).toBe("rejected");
      const decision = await m().ApprovalDecision.findOne({ where: { stepId } });
      expect(decision).toMatchObject({ decision: "reject", comment: "折扣太大，请按标价重新下单", approverId: team.manager.id });
      expect(done[0].payload.text).toContain(`已驳回订单 ${view.orderNo}`);

      // The reason was used up: the next message is an ordinary one again.
      const next = await say(team.manager, "帮助");
      expect(cardOf(next[0]).kind).toBe("help");
    });

    it("names the pending step on the reason card when the tap named only the order", async () => {
      const { view, stepId } = await pendingOrder();
      const asked = await tap(team.manager, "approval.reject", { orderId: String(view.id) });
      expect(cardOf(asked[0]).select?.values).toEqual({ orderId: String(view.id), stepId: String(stepId) });
      expect(asked[0].payload).toMatchObject({ refKind: "reject_reason", stepId });
    });

    it("drops a waiting reject when the approver replies 取消", async () => {
      const { view, stepId } = await pendingOrder();
      await tap(team.manager, "approval.reject", { orderId: String(view.id), stepId: String(stepId) });
      const rows = await say(team.manager, "取消");
      expect(rows[0].payload.text).toBe("已取消驳回，订单未作改动");
      expect((await m().Order.findByPk(view.id))?.status).toBe("pending_approval");
      expect(cardOf((await say(team.manager, "帮助"))[0]).kind).toBe("help");
    });

    it("rejects at once when the card's select carries the reason", async () => {
      const { view, stepId } = await pendingOrder();
      await tap(team.manager, "approval.reject", { orderId: String(view.id), stepId: String(stepId), reason: "信用超限" });
      expect((await m().Order.findByPk(view.id))?.status).toBe("rejected");
      expect((await m().ApprovalDecision.findOne({ where: { stepId } }))?.comment).toBe("信用超限");
    });

    it("does not ask a non-approver for a reject reason", async () => {
      const { view, stepId } = await pendingOrder();
      const rows = await tap(team.rep, "approval.reject", { orderId: String(view.id), stepId: String(stepId) });
      expect(rows.map((r) => r.payload.text)).toEqual(["您不是该审批步骤的审批人，操作未生效"]);
      const later = await say(team.rep, "帮助");
      expect(cardOf(later[0]).kind).toBe("help");
    });
  });

  describe("re-handled events", () => {
    it("writes the replies of an event handled twice only once, and places one order", async () => {
      const { customer, products } = await catalog([{ name: "口罩" }]);
      const key = `dup-${tag()}`;
      const event = { kind: "text" as const, key, from: team.rep.platformUserId, text: `下单 ${customer.name} ${products[0].name} 3箱` };
      await send(event);
      const rows = await send(event);
      expect(rows).toHaveLength(1);
      expect(rows[0].dedupeKey).toBe(`reply:simulator:${key}:0`);
      expect(await ordersOf(customer.id)).toHaveLength(1);
    });
  });

  describe("lookups", () => {
    it("lists my orders, newest first; a manager also sees the team's", async () => {
      const rep = await userWith(["sales"]);
      const { customer, products } = await catalog([{ name: "口罩" }]);
      const place = () =>
        t.app.services.placeOrder({ customerId: customer.id, lines: [{ productId: products[0].id, qty: 1 }], source: "chat", salesRepId: rep.id }, actorFor(rep));
      const older = await place();
      const newer = await place();
      const [mine] = await say(rep, "我的订单");
      expect(cardOf(mine)).toMatchObject({ kind: "order_list" });
      expect(cardOf(mine).lines?.map((l) => l.name)).toEqual([newer.orderNo, older.orderNo]);

      const [managers] = await say(team.manager, "我的订单");
      expect(cardOf(managers).lines?.map((l) => l.name)).toContain(newer.orderNo);
      const [outsider] = await say(await userWith(["sales"]), "我的订单");
      expect(cardOf(outsider).lines).toBeUndefined();
    });

    it("shows an order's status to its rep, refuses another rep, and says when a number is unknown", async () => {
      const { view } = await pendingOrder();
      const [own] = await say(team.rep, `查 ${view.orderNo}`);
      expect(cardOf(own)).toMatchObject({ kind: "order_status", title: `订单 ${view.orderNo}` });

      const stranger = await userWith(["sales"]);
      const [refused] = await say(stranger, `查 ${view.orderNo}`);
      expect(refused.payload.text).toBe("您没有权限执行此操作，操作未生效");

      const [missing] = await say(team.rep, "查 SO-20000101-9999");
      expect(missing.payload.text).toBe("没有找到订单 SO-20000101-9999，请核对订单号");
    });

    it("shows stock for a sku, and every match for an ambiguous name", async () => {
      const { products } = await catalog([{ name: "医用口罩", onHand: 30 }, { name: "医用口罩加厚", onHand: 7 }]);
      const [one] = await say(team.rep, `库存 ${products[0].sku}`);
      expect(cardOf(one)).toMatchObject({ kind: "stock", lines: [{ sku: products[0].sku, qty: "可用 30箱" }] });

      const [both] = await say(team.warehouse, "库存 医用口罩");
      const skus = cardOf(both).lines?.map((l) => l.sku) ?? [];
      expect(skus).toEqual(expect.arrayContaining(products.map((p) => p.sku)));
    });
  });

  describe("opening the chat", () => {
    it("greets once a day with the approvals waiting, then stays quiet", async () => {
      const manager = await userWith(["manager"], { managerId: team.director.id });
      const rep = await userWith(["sales"], { managerId: manager.id });
      await pendingOrder(rep);
      const first = await send({ kind: "open", from: manager.platformUserId });
      expect(first.map((r) => r.topic)).toEqual(["chat.card"]);
      const card = cardOf(first[0]);
      expect(card).toMatchObject({ kind: "help", title: `${manager.name}，您好！`, link: { label: "去处理", path: "/m/approvals" } });
      expect(card.banner).toEqual({ text: "您有 1 个订单待审批。", tone: "warning" });
      expect(await send({ kind: "open", from: manager.platformUserId })).toEqual([]);
    });

    it("reminds a rep of drafts not yet submitted", async () => {
      const rep = await userWith(["sales"]);
      const { customer, products } = await catalog([{ name: "口罩" }]);
      await t.app.services.placeOrder({ customerId: customer.id, lines: [{ productId: products[0].id, qty: 1 }], source: "chat", salesRepId: rep.id }, actorFor(rep));
      const [greeting] = await send({ kind: "open", from: rep.platformUserId });
      expect(cardOf(greeting).banner?.text).toBe("您有 1 个草稿订单尚未提交。");
      expect(cardOf(greeting).link).toEqual({ label: "去处理", path: "/m/orders?status=draft" });
      expect(cardOf(greeting).fields.map((f) => f.label)).toContain("下单");
    });

    it("greets with the help card alone when nothing waits", async () => {
      const clerk = await userWith(["warehouse"]);
      const [greeting] = await send({ kind: "open", from: clerk.platformUserId });
      expect(cardOf(greeting)).toMatchObject({ kind: "help", title: `${clerk.name}，您好！`, link: { path: "/m" } });
      expect(cardOf(greeting).banner).toBeUndefined();
    });
  });
});
