import path from "node:path";
import { createSimulatorCardRenderer } from "../../src/channels/simulator/render";
import type { Card, CardKind } from "../../src/domain/card";
import {
  approvalCard,
  chooseCard,
  helpCard,
  newOrderCard,
  orderListCard,
  orderPreviewCard,
  orderStatusCard,
  shipmentNoticeCard,
  stockCard,
  warehousePickCard,
} from "../../src/domain/cards";
import { buildLines, buildOrderView, buildShipment, buildStep } from "../helpers/order-view-fixture";

const render = createSimulatorCardRenderer(path.join(__dirname, "../../cards/simulator"));
const BASE = "http://localhost:3000";
const zh = { locale: "zh-CN" as const };

const pending = buildOrderView({
  status: "pending_approval",
  approval: { round: 1, autoApproved: false, reasons: [], steps: [buildStep()] },
});
const shipped = buildOrderView({ status: "shipped", shipments: [buildShipment()] });

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** Every [data-action] element's action and parsed data-values, in document order. */
function actions(html: string): Array<{ tag: string; action: string; values: unknown }> {
  const found: Array<{ tag: string; action: string; values: unknown }> = [];
  for (const m of html.matchAll(/<(button|select)\b[^>]*data-action="([^"]*)"[^>]*>/g)) {
    const values = /data-values='([^']*)'/.exec(m[0]);
    found.push({ tag: m[1], action: unescapeHtml(m[2]), values: values ? JSON.parse(unescapeHtml(values[1])) : undefined });
  }
  return found;
}

describe("simulator card renderer", () => {
  it("renders a preview with its title, lines, banner, buttons and an absolute link", () => {
    const html = render(orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: { 1: 12, 2: 100 } }), BASE);
    expect(html).toContain("订单预览：SO-20261123-0001");
    expect(html).toContain('class="co-card__banner co-card__banner--warning"');
    expect(html).toContain("库存不足：可用 12箱");
    expect(html).toContain("co-card__line co-card__line--warning");
    expect(html).toContain("¥6,000.00");
    expect(actions(html)).toEqual([
      { tag: "button", action: "order.submit", values: { orderId: "12", version: "4" } },
      { tag: "button", action: "order.discard", values: { orderId: "12", version: "4" } },
    ]);
    expect(html).toContain('<a class="co-card__link" href="http://localhost:3000/m/orders/12/edit"');
    expect(html).toContain(">在小程序中修改</a>");
  });

  it("renders the approval select with its options and a confirm button that names the select", () => {
    const html = render(approvalCard(pending, 3, zh), `${BASE}/`);
    expect(html).toContain('<select data-action="approval.reject" name="reason">');
    expect(html).toContain('<option value="价格过低">价格过低</option>');
    expect(html).toMatch(/<button[^>]*data-action="approval.reject"[^>]*data-select="reason"[^>]*>确认<\/button>/);
    expect(actions(html).map((a) => `${a.tag}:${a.action}`)).toEqual([
      "button:approval.approve",
      "button:approval.reject",
      "select:approval.reject",
      "button:approval.reject",
    ]);
    expect(actions(html)[0].values).toEqual({ orderId: "12", stepId: "3" });
    expect(html).toContain('href="http://localhost:3000/m/orders/12"');
  });

  it("renders a decided approval with no buttons or select", () => {
    const decided = buildOrderView({ ...pending, status: "cancelled" });
    const html = render(approvalCard(decided, 3, zh), BASE);
    expect(html).toContain("co-card__banner--muted");
    expect(html).toContain("订单已取消");
    expect(actions(html)).toEqual([]);
    expect(html).not.toContain("<select");
  });

  it("says how many lines were left off", () => {
    const html = render(orderStatusCard(buildOrderView({ lines: buildLines(9) }), zh), BASE);
    expect(html.match(/<tr class="co-card__line/g)).toHaveLength(6);
    expect(html).toContain("另有 3 项未显示");
    const en = render(orderStatusCard(buildOrderView({ lines: buildLines(8) }), { locale: "en" }), BASE);
    expect(en).toContain("2 more not shown");
  });

  it("renders every kind of card with its own title and data-kind", () => {
    const notice: Card = { kind: "notice", locale: "zh-CN", title: "系统通知", fields: [], buttons: [], notes: ["今晚 22:00 维护"] };
    const cards: Array<[CardKind, Card, string]> = [
      ["order_preview", orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: {} }), "订单预览"],
      ["approval", approvalCard(pending, 3, zh), "审批：SO-20261123-0001"],
      ["warehouse_pick", warehousePickCard(buildOrderView({ status: "approved" }), zh), "新订单待拣货"],
      ["order_status", orderStatusCard(shipped, zh), "顺丰速运 SF1234567890"],
      ["order_list", orderListCard([shipped], zh), "我的订单"],
      ["shipment_notice", shipmentNoticeCard(shipped, 31, zh), "您的订单已发货"],
      ["help", helpCard({ ...zh, roles: ["sales"] }), "下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50"],
      ["new_order", newOrderCard({ ...zh, recentCustomers: [{ code: "HDYL", name: "华东医疗" }] }), "新建订单"],
      ["choose", chooseCard({ ...zh, question: "哪个华东？", action: "order.pick_customer", name: "customerCode", options: [{ value: "HDYL", label: "华东医疗" }] }), "您指的是哪一个？"],
      ["stock", stockCard([{ sku: "N95-001", name: "N95口罩", unit: "箱", onHand: 5, reserved: 0, available: 5, safetyStock: 10 }], zh), "库存偏低"],
      ["notice", notice, "今晚 22:00 维护"],
    ];
    for (const [kind, card, text] of cards) {
      const html = render(card, BASE);
      expect(html).toContain(`data-kind="${kind}"`);
      expect(html).toContain(`<div class="co-card__title">${card.title}</div>`);
      expect(html).toContain(text);
    }
  });

  it("sends the chosen customer code with a choose button", () => {
    const card = chooseCard({
      ...zh,
      question: "?",
      action: "order.pick_customer",
      name: "customerCode",
      options: [{ value: "HDYL", label: "华东医疗" }],
      values: { draftId: "5" },
    });
    expect(actions(render(card, BASE))[0]).toEqual({
      tag: "button",
      action: "order.pick_customer",
      values: { draftId: "5", customerCode: "HDYL" },
    });
  });

  it("escapes text from customers and reps so it can never become markup", () => {
    const evil = `<script>alert("x")</script>`;
    const view = buildOrderView({ customer: { id: 5, code: "X", name: evil, level: null }, note: `<img src=x onerror=alert(1)>` });
    const html = render(orderPreviewCard(view, { ...zh, availableByProductId: {} }), BASE);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("keeps quotes in values inside their attribute", () => {
    const card = chooseCard({
      ...zh,
      question: "?",
      action: "order.pick_customer",
      name: "customerCode",
      options: [{ value: `O'Brien "&" <Co>`, label: "O'Brien" }],
    });
    const html = render(card, BASE);
    expect(html).not.toContain(`O'Brien "&"`);
    expect(actions(html)[0].values).toEqual({ customerCode: `O'Brien "&" <Co>` });
  });
});
