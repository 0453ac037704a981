import path from "node:path";
import { decodeButtonKey, decodeSelection, encodeButtonKey, KeyTooLongError } from "../../src/channels/wecom/keys";
import { createWecomRenderer } from "../../src/channels/wecom/render";
import type { Card } from "../../src/domain/card";
import { approvalCard, chooseCard, orderStatusCard, shipmentNoticeCard } from "../../src/domain/cards";
import { buildLines, buildOrderView, buildShipment, buildStep } from "../helpers/order-view-fixture";

const render = createWecomRenderer(path.join(__dirname, "../../cards/wecom"));
const ctx = { taskId: "co-test-1", link: (p: string) => `https://open.example/auth?next=${encodeURIComponent(p)}` };
const zh = { locale: "zh-CN" as const };
const pending = buildOrderView({ status: "pending_approval", approval: { round: 1, autoApproved: false, reasons: [], steps: [buildStep()] } });
const chars = (s: unknown) => Array.from(String(s)).length;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("WeCom card renderer", () => {
  it("renders an approval request as button_interaction with decodable keys and a reject-reason selection", () => {
    const card = render.card(approvalCard(pending, 3, zh), ctx) as Json;
    expect(card).toMatchObject({ card_type: "button_interaction", task_id: "co-test-1", main_title: { title: "审批：SO-20261123-0001" } });
    expect(card.card_action).toEqual({ type: 1, url: ctx.link("/m/orders/12") });
    const [approve, reject, detail] = card.button_list as Json[];
    expect([approve, reject].map((b: Json) => [b.type, b.text, b.style, decodeButtonKey(b.key)])).toEqual([
      [0, "同意", 1, { action: "approval.approve", values: { orderId: "12", stepId: "3" } }],
      [0, "驳回", 3, { action: "approval.reject", values: { orderId: "12", stepId: "3" } }],
    ]);
    // 查看详情 opens the order in the mini-app: a url button, which calls nothing back and needs no key.
    expect(detail).toEqual({ type: 1, text: "查看详情", style: 2, url: ctx.link("/m/orders/12") });
    expect(card.button_list).toHaveLength(3);
    const selection = card.button_selection;
    expect(selection.option_list[0]).toEqual({ id: "0", text: "价格过低" });
    expect(decodeSelection(selection.question_key, "0")).toEqual({ action: "approval.reject", name: "reason", value: "价格过低" });
    expect(card.horizontal_content_list.length).toBeLessThanOrEqual(6);
    expect(card.quote_area.quote_text).toContain("¥");
  });

  it("keeps every text within WeCom's lengths however long the card is", () => {
    const long = "很长的文字".repeat(40);
    const card: Card = {
      kind: "notice",
      locale: "zh-CN",
      title: long,
      subtitle: long,
      banner: { text: long, tone: "danger" },
      fields: [
        ...Array.from({ length: 9 }, (_, i) => ({ label: `字段名称很长${i}`, value: "二".repeat(30) })),
        { label: "示例", value: "下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50" },
      ],
      lines: [{ name: long, qty: "1箱" }],
      notes: [long],
      buttons: Array.from({ length: 8 }, (_, i) => ({ action: `a.${i}`, label: long, style: "default" as const })),
    };
    const out = render.card(card, ctx) as Json;
    expect(chars(out.main_title.title)).toBeLessThanOrEqual(36);
    expect(chars(out.main_title.desc)).toBeLessThanOrEqual(44);
    expect(chars(out.sub_title_text)).toBeLessThanOrEqual(160);
    expect(chars(out.quote_area.quote_text)).toBeLessThanOrEqual(160);
    expect(out.source).toEqual({ desc: expect.any(String), desc_color: 2 });
    expect(out.horizontal_content_list).toHaveLength(6);
    for (const row of out.horizontal_content_list) {
      expect(chars(row.keyname)).toBeLessThanOrEqual(5);
      expect(chars(row.value)).toBeLessThanOrEqual(30);
    }
    // Rows past the sixth, and values too long for a row, move whole into the sub-title.
    expect(out.sub_title_text.startsWith(`${long.slice(0, 5)}`)).toBe(true);
    const roomy = render.card({ ...card, banner: undefined, notes: [] }, ctx) as Json;
    expect(roomy.sub_title_text).toContain("字段名称很长6：二二");
    const example = render.card({ ...card, banner: undefined, notes: [], fields: card.fields.slice(9) }, ctx) as Json;
    expect(example.sub_title_text).toBe("示例：下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50");
    expect(example).not.toHaveProperty("horizontal_content_list");
    expect(out.button_list).toHaveLength(6);
    for (const b of out.button_list) expect(chars(b.text)).toBeLessThanOrEqual(10);
    expect(new Set(out.button_list.map((b: Json) => b.key)).size).toBe(6);
  });

  it("writes valid JSON whatever the text holds", () => {
    const nasty = `"}, "x": 1, \\ \n\t </script> {{ 1 }} \u2028 😀`;
    const card: Card = { kind: "notice", locale: "zh-CN", title: nasty, fields: [{ label: nasty, value: nasty }], buttons: [], notes: [nasty] };
    const out = render.card(card, ctx) as Json;
    expect(out.card_type).toBe("text_notice");
    expect(out).not.toHaveProperty("x");
    expect(out.sub_title_text).toBe(`${nasty}：${nasty}\n${nasty}`);
    expect(out.main_title.title).toBe(`${Array.from(nasty).slice(0, 35).join("")}…`);
  });

  it("renders a card without buttons as text_notice that opens its link, or the mini-app", () => {
    const status = render.card(orderStatusCard(buildOrderView({ lines: buildLines(8) }), zh), ctx) as Json;
    expect(status.card_type).toBe("text_notice");
    expect(status.card_action).toEqual({ type: 1, url: ctx.link("/m/orders/12") });
    expect(status.jump_list).toEqual([{ type: 1, title: "查看详情", url: ctx.link("/m/orders/12") }]);
    expect(status.sub_title_text).toContain("另有 2 项未显示");
    const bare = render.card({ kind: "notice", locale: "zh-CN", title: "通知", fields: [], buttons: [] }, ctx) as Json;
    expect(bare.card_action).toEqual({ type: 1, url: ctx.link("/m") });
    expect(bare).not.toHaveProperty("jump_list");
  });

  it("renders a choice of many as multiple_interaction and a choice of few as buttons without a selection", () => {
    const options = Array.from({ length: 5 }, (_, i) => ({ value: `C${i}`, label: `客户${i}` }));
    const many = render.card(chooseCard({ ...zh, question: "哪个？", action: "order.pick_customer", name: "customerCode", options, values: { draftId: "5" } }), ctx) as Json;
    expect(many.card_type).toBe("multiple_interaction");
    expect(decodeButtonKey(many.submit_button.key)).toEqual({ action: "order.pick_customer", values: { draftId: "5" } });
    const [sel] = many.select_list;
    expect(sel.option_list).toHaveLength(5);
    expect(decodeSelection(sel.question_key, "4")).toEqual({ action: "order.pick_customer", name: "customerCode", value: "C4" });
    const few = render.card(chooseCard({ ...zh, question: "哪个？", action: "order.pick_customer", name: "customerCode", options: options.slice(0, 2) }), ctx) as Json;
    expect(few.card_type).toBe("button_interaction");
    expect(few).not.toHaveProperty("button_selection");
    expect(decodeButtonKey(few.button_list[1].key)).toEqual({ action: "order.pick_customer", values: { customerCode: "C1" } });
  });

  it("closes a decided card: same task_id, inert button, replace_text from the banner", () => {
    const decided = approvalCard(buildOrderView({ ...pending, status: "cancelled" }), 3, zh);
    const out = render.closed(decided, ctx) as Json;
    expect(out).toMatchObject({ card_type: "button_interaction", task_id: "co-test-1", replace_text: "订单已取消" });
    expect(out.button_list).toEqual([{ type: 0, text: "订单已取消", style: 2, key: "-" }]);
    expect(decodeButtonKey(out.button_list[0].key)).toBeNull();
  });

  it("refuses a button whose values cannot fit in a key instead of cutting them", () => {
    expect(() => encodeButtonKey(0, "x", { v: "数".repeat(200) })).toThrow(KeyTooLongError);
    const card: Card = { kind: "notice", locale: "zh-CN", title: "t", fields: [], buttons: [{ action: "x", label: "l", style: "default", values: { v: "数".repeat(200) } }] };
    expect(() => render.card(card, ctx)).toThrow(KeyTooLongError);
  });

  it("cuts text messages to 2048 bytes on a character boundary", () => {
    const { content } = render.text("订".repeat(1000));
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(2048);
    expect(content.endsWith("…")).toBe(true);
    expect(render.text("短").content).toBe("短");
  });

  it("renders a customer notice as robot markdown that card text cannot add markup to", () => {
    const view = buildOrderView({ status: "shipped", shipments: [buildShipment()], customer: { id: 5, code: "X", name: "<@all>华东", level: null } });
    const { content } = render.markdown(shipmentNoticeCard(view, 31, zh));
    expect(content).toContain("**您的订单已发货");
    expect(content).toContain("SF1234567890");
    expect(content).not.toContain("<@all>");
  });
});
