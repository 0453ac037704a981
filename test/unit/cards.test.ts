import { MAX_BUTTON_LABEL, MAX_CARD_BUTTONS, MAX_CARD_LINES, type Card } from "../../src/domain/card";
import {
  approvalCard,
  chooseCard,
  helpCard,
  newOrderCard,
  noticeText,
  orderConfirmedNoticeCard,
  orderListCard,
  orderPreviewCard,
  orderStatusCard,
  shipmentNoticeCard,
  stockCard,
  warehousePickCard,
} from "../../src/domain/cards";
import { DomainError } from "../../src/domain/errors";
import { localeOf, statusLabel, t } from "../../src/domain/i18n";
import { ORDER_STATUSES } from "../../src/domain/order-state";
import type { ApprovalStepView } from "../../src/domain/order-view";
import {
  DECIDED_AT,
  buildLine,
  buildLines,
  buildOrderView,
  buildShipment,
  buildStep,
} from "../helpers/order-view-fixture";

const zh = { locale: "zh-CN" as const };
const en = { locale: "en" as const };
const stock = { 1: 500, 2: 100 };

function field(card: Card, label: string): string | undefined {
  return card.fields.find((f) => f.label === label)?.value;
}

function decision(approverId: number, approverName: string, kind: "approve" | "reject", comment: string | null = null) {
  return { approverId, approverName, decision: kind, comment, decidedAt: DECIDED_AT };
}

function pendingOrder(step: Partial<ApprovalStepView> = {}) {
  return buildOrderView({
    status: "pending_approval",
    approval: { round: 1, autoApproved: false, reasons: [], steps: [buildStep(step)] },
  });
}

describe("i18n", () => {
  it("reads anything starting with en as English and everything else as Chinese", () => {
    expect([localeOf("en"), localeOf("EN-us"), localeOf("zh-CN"), localeOf(null), localeOf("")]).toEqual([
      "en",
      "en",
      "zh-CN",
      "zh-CN",
      "zh-CN",
    ]);
  });

  it("names every order status in both languages", () => {
    expect(ORDER_STATUSES.map((s) => statusLabel(s, "zh-CN"))).toEqual([
      "草稿", "待审批", "已审批", "已驳回", "拣货中", "已打包", "部分发货", "已发货", "已签收", "已完成", "已取消", "已归档",
    ]);
    expect(statusLabel("partially_shipped", "en")).toBe("Partially shipped");
  });

  it("fills {name} placeholders and leaves unknown ones visible", () => {
    expect(t("zh-CN", "preview.title", { orderNo: "SO-1" })).toBe("订单预览：SO-1");
    expect(t("en", "preview.title")).toBe("Order preview: {orderNo}");
  });
});

describe("orderPreviewCard", () => {
  it("shows each line with price, line total and available stock, in Chinese by default", () => {
    const card = orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: stock });
    expect(card).toMatchObject({ kind: "order_preview", locale: "zh-CN", title: "订单预览：SO-20261123-0001" });
    expect(card.lines?.[0]).toEqual({ name: "N95口罩", sku: "N95-001", qty: "200箱", price: "¥30.00", total: "¥6,000.00", note: "可用 500箱" });
    expect(field(card, "合计")).toBe("¥6,625.00");
    expect(card.banner).toBeUndefined();
  });

  it("flags lines that ask for more than is available and warns in the banner", () => {
    const card = orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: { 1: 12, 2: 100 } });
    expect(card.lines?.[0]).toMatchObject({ flag: "warning", note: "库存不足：可用 12箱" });
    expect(card.lines?.[1].flag).toBeUndefined();
    expect(card.banner).toEqual({ text: "1 行库存不足，请调整数量后再提交", tone: "warning" });
  });

  it("says no approval is needed when the route has no steps", () => {
    const card = orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: stock });
    expect(field(card, "审批流程")).toBe("无需审批，提交后自动通过");
    expect(field(card, "审批原因")).toBeUndefined();
  });

  it("shows the route it will take and each distinct reason once", () => {
    const reason = { code: "total_above" as const, ruleId: "a", params: { totalFen: 662_500, thresholdFen: 500_000 } };
    const view = buildOrderView({
      approval: {
        round: 1,
        autoApproved: false,
        reasons: [reason, { ...reason, ruleId: "b" }],
        steps: [buildStep({ status: "waiting" }), buildStep({ id: 4, stepNo: 2, label: "财务审批", status: "waiting" })],
      },
    });
    const card = orderPreviewCard(view, { ...zh, availableByProductId: stock });
    expect(field(card, "审批流程")).toBe("直属主管审批（张经理） → 财务审批（张经理）");
    expect(field(card, "审批原因")).toBe("订单金额 ¥6,625.00 超过 ¥5,000.00");
  });

  it("offers submit and discard carrying the order id and version, and a link to edit", () => {
    const card = orderPreviewCard(buildOrderView(), { ...zh, availableByProductId: stock });
    expect(card.buttons).toEqual([
      { action: "order.submit", label: "提交", style: "primary", values: { orderId: "12", version: "4" } },
      { action: "order.discard", label: "取消", style: "danger", values: { orderId: "12", version: "4" } },
    ]);
    expect(card.link).toEqual({ label: "在小程序中修改", path: "/m/orders/12/edit" });
    expect(card.ref).toEqual({ orderId: "12" });
  });

  it("drops the buttons once the order has been submitted", () => {
    const card = orderPreviewCard(pendingOrder(), { ...zh, availableByProductId: stock });
    expect(card.buttons).toEqual([]);
    expect(card.banner).toEqual({ text: "待审批", tone: "warning" });
    expect(card.link?.path).toBe("/m/orders/12");
  });

  it("speaks English when asked", () => {
    const card = orderPreviewCard(buildOrderView(), { ...en, availableByProductId: { 1: 12 } });
    expect(card.title).toBe("Order preview: SO-20261123-0001");
    expect(card.buttons.map((b) => b.label)).toEqual(["Submit", "Discard"]);
    expect(card.lines?.[0].note).toBe("Short of stock: 12 箱 available");
    expect(card.lines?.[1]).toMatchObject({ note: "Stock unknown", flag: "muted" });
    expect(field(card, "Approval route")).toBe("No approval needed: approved on submit");
  });

  it("keeps at most six lines and counts the rest", () => {
    const card = orderPreviewCard(buildOrderView({ lines: buildLines(9) }), { ...zh, availableByProductId: {} });
    expect(card.lines).toHaveLength(MAX_CARD_LINES);
    expect(card.lines?.map((l) => l.sku)).toEqual(["SKU-1001", "SKU-1002", "SKU-1003", "SKU-1004", "SKU-1005", "SKU-1006"]);
    expect(card.moreLines).toBe(3);
  });
});

describe("approvalCard", () => {
  const credit = { limitFen: 10_000_000, openFen: 9_500_000 };

  it("while pending shows the facts an approver needs and the approve/reject buttons", () => {
    const card = approvalCard(pendingOrder(), 3, { ...zh, credit });
    expect(card).toMatchObject({ kind: "approval", title: "审批：SO-20261123-0001", subtitle: "直属主管审批" });
    expect(card.fields).toEqual([
      { label: "客户", value: "华东医疗" },
      { label: "销售", value: "王小明" },
      { label: "合计", value: "¥6,625.00" },
      { label: "信用额度", value: "已用 ¥95,000.00 / 额度 ¥100,000.00" },
      { label: "最大折扣", value: "6.25%" },
      { label: "审批原因", value: "订单金额 ¥6,625.00 超过 ¥5,000.00" },
    ]);
    expect(card.lines?.[0]).toMatchObject({ note: "低于标价 6.25%", flag: "warning" });
    expect(card.buttons).toEqual([
      { action: "approval.approve", label: "同意", style: "primary", values: { orderId: "12", stepId: "3" } },
      { action: "approval.reject", label: "驳回", style: "danger", values: { orderId: "12", stepId: "3" } },
    ]);
    expect(card.select).toMatchObject({ action: "approval.reject", name: "reason", values: { orderId: "12", stepId: "3" } });
    expect(card.select?.options.map((o) => o.label)).toEqual(["价格过低", "信用超限", "库存不足", "信息有误", "其他"]);
    expect(card.link).toEqual({ label: "查看详情", path: "/m/orders/12" });
    expect(card.ref).toEqual({ orderId: "12", stepId: "3" });
    expect(card.banner).toBeUndefined();
  });

  it("says how far over the limit an order goes, and when credit is unlimited", () => {
    const over = approvalCard(pendingOrder(), 3, { ...zh, credit: { limitFen: 10_000_000, openFen: 10_500_000 } });
    expect(field(over, "信用额度")).toBe("已用 ¥105,000.00 / 额度 ¥100,000.00（超出 ¥5,000.00）");
    const unlimited = approvalCard(pendingOrder(), 3, { ...zh, credit: { limitFen: null, openFen: 0 } });
    expect(field(unlimited, "信用额度")).toBe("已用 ¥0.00 / 不限额度");
  });

  it("becomes the decision once approved: who, when, comment, and no buttons", () => {
    const view = pendingOrder({ status: "approved", decidedAt: DECIDED_AT, decisions: [decision(7, "张经理", "approve", "可以")] });
    const card = approvalCard(view, 3, zh);
    expect(card.banner).toEqual({ text: "已同意 · 张经理 · 2026/11/23 14:05", tone: "success" });
    expect(field(card, "审批人")).toBe("张经理");
    expect(field(card, "审批时间")).toBe("2026/11/23 14:05");
    expect(field(card, "意见")).toBe("可以");
    expect(card.buttons).toEqual([]);
    expect(card.select).toBeUndefined();
  });

  it("shows the rejection with its reason", () => {
    const view = buildOrderView({
      status: "rejected",
      approval: {
        round: 1,
        autoApproved: false,
        reasons: [],
        steps: [buildStep({ status: "rejected", decidedAt: DECIDED_AT, decisions: [decision(7, "张经理", "reject", "价格过低")] })],
      },
    });
    const card = approvalCard(view, 3, zh);
    expect(card.banner).toEqual({ text: "已驳回 · 张经理 · 2026/11/23 14:05 · 原因：价格过低", tone: "danger" });
    expect(card.buttons).toEqual([]);
    expect(card.select).toBeUndefined();
  });

  it("shows a cancelled order as cancelled even if its step was still pending", () => {
    const view = { ...pendingOrder(), status: "cancelled" as const, cancelledAt: DECIDED_AT, cancelReason: "客户取消" };
    const card = approvalCard(view, 3, zh);
    expect(card.banner).toEqual({ text: "订单已取消", tone: "muted" });
    expect(field(card, "取消原因")).toBe("客户取消");
    expect(field(card, "取消时间")).toBe("2026/11/23 14:05");
    expect(card.buttons).toEqual([]);
    expect(card.select).toBeUndefined();
  });

  it("shows each countersigner's answer so far and keeps the buttons while the step is pending", () => {
    const approvers = [{ id: 7, name: "张经理" }, { id: 8, name: "李总监" }, { id: 9, name: "王总" }];
    const view = pendingOrder({
      mode: "all",
      approvers,
      decisions: [decision(7, "张经理", "approve"), decision(8, "李总监", "approve", "同意，注意回款")],
    });
    const card = approvalCard(view, 3, zh);
    expect(card.subtitle).toBe("直属主管审批 · 会签");
    expect(field(card, "会签进度")).toBe("2/3 已同意");
    expect(field(card, "张经理")).toBe("已同意 · 2026/11/23 14:05");
    expect(field(card, "李总监")).toBe("已同意 · 2026/11/23 14:05 · 同意，注意回款");
    expect(field(card, "王总")).toBe("待审批");
    expect(card.buttons.map((b) => b.action)).toEqual(["approval.approve", "approval.reject"]);
  });

  it("names every countersigner once the step is approved", () => {
    const approvers = [{ id: 7, name: "张经理" }, { id: 8, name: "李总监" }];
    const view = pendingOrder({
      mode: "all",
      status: "approved",
      approvers,
      decidedAt: DECIDED_AT,
      decisions: [decision(7, "张经理", "approve"), decision(8, "李总监", "approve")],
    });
    const card = approvalCard(view, 3, zh);
    expect(card.banner?.text).toBe("已同意 · 张经理、李总监 · 2026/11/23 14:05");
    expect(field(card, "会签进度")).toBe("2/2 已同意");
    expect(card.buttons).toEqual([]);
  });

  it("speaks English when asked", () => {
    const pending = approvalCard(pendingOrder(), 3, { ...en, credit });
    expect(pending.title).toBe("Approval: SO-20261123-0001");
    expect(pending.buttons.map((b) => b.label)).toEqual(["Approve", "Reject"]);
    expect(field(pending, "Credit")).toBe("Used ¥95,000.00 / limit ¥100,000.00");
    const decided = approvalCard(pendingOrder({ status: "approved", decidedAt: DECIDED_AT, decisions: [decision(7, "Zhang", "approve")] }), 3, en);
    expect(decided.banner?.text).toBe("Approved · Zhang · 2026/11/23 14:05");
  });

  it("refuses a step the order does not have", () => {
    expect(() => approvalCard(pendingOrder(), 99, zh)).toThrow(DomainError);
    expect(() => approvalCard(pendingOrder(), 99, zh)).toThrow(expect.objectContaining({ code: "not_found" }));
  });
});

describe("warehousePickCard", () => {
  it("lists what to pick and where it goes, without prices", () => {
    const card = warehousePickCard(buildOrderView({ status: "approved" }), zh);
    expect(card.title).toBe("新订单待拣货");
    expect(field(card, "客户")).toBe("华东医疗");
    expect(field(card, "收货地址")).toBe("上海市浦东新区张江路 1 号");
    expect(card.lines?.[0]).toEqual({ name: "N95口罩", sku: "N95-001", qty: "200箱" });
    expect(card.link).toEqual({ label: "开始拣货", path: "/m/warehouse/orders/12" });
    expect(JSON.stringify(card)).not.toContain("¥");
  });

  it("tells the warehouse to stop when the order is cancelled", () => {
    const card = warehousePickCard(buildOrderView({ status: "cancelled" }), zh);
    expect(card.banner).toEqual({ text: "订单已取消，请停止拣货", tone: "danger" });
    expect(card.link).toBeUndefined();
  });
});

describe("orderStatusCard", () => {
  it("shows status, approval progress, shipments with tracking numbers and what is paid", () => {
    const view = buildOrderView({
      status: "shipped",
      paidFen: 100_000,
      approval: {
        round: 1,
        autoApproved: false,
        reasons: [],
        steps: [buildStep({ status: "approved", decidedAt: DECIDED_AT, decisions: [decision(7, "张经理", "approve")] })],
      },
      shipments: [buildShipment()],
    });
    const card = orderStatusCard(view, zh);
    expect(card.banner).toEqual({ text: "已发货", tone: "success" });
    expect(field(card, "审批进度")).toBe("直属主管审批（已同意）");
    expect(field(card, "物流")).toBe("顺丰速运 SF1234567890 · 2026/11/23 14:05");
    expect(field(card, "已付 / 合计")).toBe("¥1,000.00 / ¥6,625.00");
    expect(field(card, "下单时间")).toBe("2026/11/23 10:00");
    expect(card.link).toEqual({ label: "查看详情", path: "/m/orders/12" });
  });

  it("gives the rejection reason in the banner", () => {
    const view = buildOrderView({
      status: "rejected",
      approval: {
        round: 1,
        autoApproved: false,
        reasons: [],
        steps: [buildStep({ status: "rejected", decisions: [decision(7, "张经理", "reject", "价格过低")] })],
      },
    });
    expect(orderStatusCard(view, zh).banner).toEqual({ text: "已驳回 · 原因：价格过低", tone: "danger" });
    expect(orderStatusCard(view, en).banner?.text).toBe("Rejected · Reason: 价格过低");
  });

  it("notes how much of a partly shipped line has gone", () => {
    const view = buildOrderView({ status: "partially_shipped", lines: [buildLine({ shippedQty: 50 })] });
    const card = orderStatusCard(view, zh);
    expect(card.lines?.[0].note).toBe("已发 50");
    expect(field(card, "审批进度")).toBe("未提交");
  });
});

describe("orderListCard", () => {
  it("shows one line per order with number, customer, total and status", () => {
    const card = orderListCard([buildOrderView({ status: "pending_approval" })], zh);
    expect(card.title).toBe("我的订单");
    expect(card.lines).toEqual([
      { name: "SO-20261123-0001", note: "华东医疗", qty: "待审批", total: "¥6,625.00", flag: "warning" },
    ]);
    expect(card.link?.path).toBe("/m/orders");
  });

  it("gives a friendly hint when there are no orders", () => {
    const card = orderListCard([], zh);
    expect(card.lines).toBeUndefined();
    expect(card.notes?.[0]).toContain("您还没有订单");
    expect(card.link).toEqual({ label: "打开下单表单", path: "/m/orders/new" });
  });

  it("keeps at most six orders and counts the rest", () => {
    const views = Array.from({ length: 8 }, (_, i) => buildOrderView({ id: i + 1, orderNo: `SO-20261123-000${i + 1}` }));
    const card = orderListCard(views, en);
    expect(card.lines).toHaveLength(6);
    expect(card.moreLines).toBe(2);
    expect(card.lines?.[0].qty).toBe("Draft");
  });
});

describe("shipmentNoticeCard", () => {
  const shipped = buildOrderView({
    status: "partially_shipped",
    lines: [buildLine({ shippedQty: 200 }), buildLine({ id: 102, productId: 2, sku: "GLV-050", name: "丁腈手套", unit: "盒", qty: 50 })],
    shipments: [buildShipment()],
  });

  it("tells the customer what shipped and how to track it", () => {
    const card = shipmentNoticeCard(shipped, 31, zh);
    expect(card.title).toBe("您的订单已发货");
    expect(field(card, "物流公司")).toBe("顺丰速运");
    expect(field(card, "运单号")).toBe("SF1234567890");
    expect(field(card, "发货时间")).toBe("2026/11/23 14:05");
    expect(card.lines).toEqual([{ name: "N95口罩", qty: "200箱" }]);
    expect(card.notes).toEqual(["本次为部分发货，其余商品将尽快发出"]);
    expect(card.buttons).toEqual([]);
  });

  it("shows no prices, SKUs, sales rep or approval details", () => {
    const text = JSON.stringify(shipmentNoticeCard(shipped, 31, zh));
    for (const secret of ["¥", "N95-001", "王小明", "审批", "6000", "30.00"]) expect(text).not.toContain(secret);
  });

  it("refuses a shipment the order does not have", () => {
    expect(() => shipmentNoticeCard(shipped, 99, zh)).toThrow(expect.objectContaining({ code: "not_found" }));
  });
});

describe("orderConfirmedNoticeCard", () => {
  const confirmed = buildOrderView({ status: "approved", approvedAt: DECIDED_AT, lines: [buildLine(), ...buildLines(7).slice(1)] });

  it("tells the customer the order number, what they ordered, the total and what happens next", () => {
    const card = orderConfirmedNoticeCard(confirmed, zh);
    expect(card).toMatchObject({ kind: "order_confirmed_notice", title: "您的订单已确认", subtitle: "华东医疗", buttons: [] });
    expect(card.fields).toEqual([
      { label: "订单号", value: "SO-20261123-0001" },
      { label: "合计", value: "¥7,800.00" }, // 200 × ¥30.00 + 6 × 10 × ¥30.00
      { label: "确认时间", value: "2026/11/23 14:05" },
    ]);
    expect(card.lines?.[0]).toEqual({ name: "N95口罩", qty: "200箱" });
    expect(card.lines).toHaveLength(6);
    expect(card.moreLines).toBe(1);
    expect(card.notes).toEqual(["我们将尽快为您备货发货，发货后会再通知您物流公司和运单号。"]);
  });

  it("speaks English to an English reader", () => {
    const card = orderConfirmedNoticeCard(confirmed, en);
    expect(card.title).toBe("Your order is confirmed");
    expect(field(card, "Total")).toBe("¥7,800.00");
    expect(card.lines?.[0].qty).toBe("200 箱");
    expect(card.notes?.[0]).toMatch(/^We will pick and ship it soon/);
  });

  it("shows no unit prices, discounts, SKUs, sales rep or approval details", () => {
    const text = JSON.stringify(orderConfirmedNoticeCard(confirmed, zh));
    for (const secret of ["N95-001", "SKU-1002", "王小明", "审批", "30.00", "32.00", "%"]) expect(text).not.toContain(secret);
  });
});

describe("helpCard", () => {
  it("shows sales reps how to order, in Chinese and in English", () => {
    const card = helpCard({ ...zh, roles: ["sales"] });
    expect(field(card, "下单")).toBe("下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50");
    expect(field(card, "英文下单")).toBe("order ACME: 20 x SKU-1001, 5 x SKU-2002 @ 12.5");
    expect(field(card, "我的订单")).toBe("我的订单");
    expect(field(card, "查订单")).toBe("查 SO-20261123-0001");
    expect(field(card, "查库存")).toBe("库存 N95");
    expect(card.notes).toEqual([t("zh-CN", "help.language")]);
  });

  it("gives the warehouse its own hint and no ordering examples", () => {
    const card = helpCard({ ...zh, roles: ["warehouse"] });
    expect(field(card, "下单")).toBeUndefined();
    expect(card.notes).toEqual([t("zh-CN", "help.warehouse"), t("zh-CN", "help.language")]);
    expect(card.notes?.[0]).toContain("开始拣货");
  });

  it("tells managers to approve on the cards and finance about payments", () => {
    const card = helpCard({ ...en, roles: ["manager", "finance"] });
    expect(card.title).toBe("What I can do");
    expect(field(card, "Place an order")).toBe("order ACME: 20 x SKU-1001, 5 x SKU-2002 @ 12.5");
    expect(card.notes).toHaveLength(3);
    expect(card.notes?.[0]).toContain("Approve or Reject");
    expect(card.notes?.[1]).toContain("record payments");
  });

  it("tells someone without a role to ask the admin", () => {
    const card = helpCard({ ...zh, roles: [] });
    expect(card.fields).toEqual([]);
    expect(card.notes).toEqual(["您还没有开通权限，请联系管理员", "发送「English」可切换为英文"]);
  });
});

describe("newOrderCard", () => {
  const customers = [
    { code: "HDYL", name: "华东医疗" },
    { code: "ACME", name: "ACME Medical Supplies International" },
    { code: "BJKF", name: "北京康复" },
    { code: "SZJK", name: "深圳健康" },
  ];

  it("offers the form and the three most recent customers as buttons, listing the rest", () => {
    const card = newOrderCard({ ...zh, recentCustomers: customers });
    expect(card.link).toEqual({ label: "打开下单表单", path: "/m/orders/new" });
    expect(card.buttons.map((b) => b.values)).toEqual([{ customerCode: "HDYL" }, { customerCode: "ACME" }, { customerCode: "BJKF" }]);
    expect(card.buttons.every((b) => b.action === "order.new_for_customer")).toBe(true);
    expect(card.buttons[1].label).toBe("ACME Medi…");
    expect(card.notes).toContain("其他最近客户：深圳健康 (SZJK)");
  });

  it("still opens the form when there are no recent customers", () => {
    const card = newOrderCard({ ...en, recentCustomers: [] });
    expect(card.title).toBe("New order");
    expect(card.buttons).toEqual([]);
    expect(card.link?.path).toBe("/m/orders/new");
  });
});

describe("chooseCard", () => {
  const base = { ...zh, question: "「华东」匹配到多个客户", action: "order.pick_customer", name: "customerCode", values: { draftId: "5" } };

  it("asks with buttons and a select when the options fit on buttons", () => {
    const options = [{ value: "HDYL", label: "华东医疗" }, { value: "HDWL", label: "华东物流" }];
    const card = chooseCard({ ...base, options });
    expect(card).toMatchObject({ kind: "choose", title: "您指的是哪一个？", subtitle: "「华东」匹配到多个客户" });
    expect(card.buttons.map((b) => b.values)).toEqual([{ draftId: "5", customerCode: "HDYL" }, { draftId: "5", customerCode: "HDWL" }]);
    expect(card.select).toEqual({ action: "order.pick_customer", label: "请选择", name: "customerCode", options, values: { draftId: "5" } });
  });

  it("uses the select alone when there are more options than buttons", () => {
    const options = ["A", "B", "C", "D"].map((v) => ({ value: v, label: v }));
    const card = chooseCard({ ...base, options });
    expect(card.buttons).toEqual([]);
    expect(card.select?.options).toHaveLength(4);
  });

  it("still asks when only one option matched, rather than guessing", () => {
    const card = chooseCard({ ...base, options: [{ value: "HDYL", label: "华东医疗" }] });
    expect(card.buttons).toHaveLength(1);
    expect(card.select?.options).toHaveLength(1);
  });

  it("shows at most ten options and says how many more there are", () => {
    const options = Array.from({ length: 12 }, (_, i) => ({ value: `C${i}`, label: `客户${i}` }));
    const card = chooseCard({ ...base, options });
    expect(card.select?.options).toHaveLength(10);
    expect(card.notes).toEqual(["还有 2 项未列出，请输入更完整的名称"]);
  });

  it("refuses an empty choice", () => {
    expect(() => chooseCard({ ...base, options: [] })).toThrow(expect.objectContaining({ code: "validation_failed" }));
  });
});

describe("stockCard", () => {
  const items = [
    { sku: "N95-001", name: "N95口罩", unit: "箱", onHand: 520, reserved: 20, available: 500, safetyStock: 50 },
    { sku: "N95-002", name: "N95口罩（儿童）", unit: "箱", onHand: 40, reserved: 10, available: 30, safetyStock: 30 },
    { sku: "N95-003", name: "N95口罩（灰）", unit: "箱", onHand: 5, reserved: 5, available: 0, safetyStock: 10 },
  ];

  it("shows availability per item and flags low stock", () => {
    const card = stockCard(items, { ...zh, query: "N95" });
    expect(card.subtitle).toBe("N95");
    expect(card.lines?.[0]).toEqual({
      name: "N95口罩",
      sku: "N95-001",
      qty: "可用 500箱",
      note: "在库 520箱 · 预留 20箱 · 安全库存 50箱",
    });
    expect(card.lines?.[1]).toMatchObject({ flag: "warning", note: "库存偏低 · 在库 40箱 · 预留 10箱 · 安全库存 30箱" });
    expect(card.lines?.[2].flag).toBe("danger");
    expect(card.banner).toEqual({ text: "2 个商品库存偏低", tone: "warning" });
  });

  it("says so when nothing matched", () => {
    const card = stockCard([], en);
    expect(card.notes).toEqual(["No matching products"]);
    expect(card.banner).toBeUndefined();
  });
});

describe("noticeText", () => {
  it("tells the rep who decided a step", () => {
    expect(noticeText("step_decided", { orderNo: "SO-1", approverName: "张经理", decision: "approve" }, "zh-CN")).toBe(
      "订单 SO-1 已被 张经理 同意",
    );
    const rejected = { orderNo: "SO-1", approverName: "张经理", decision: "reject" as const, stepLabel: "财务审批", comment: "信用超限" };
    expect(noticeText("step_decided", rejected, "zh-CN")).toBe("订单 SO-1 已被 张经理 驳回（财务审批），原因：信用超限");
    expect(noticeText("step_decided", rejected, "en")).toBe("Order SO-1 was rejected by 张经理 (财务审批). Reason: 信用超限");
  });

  it("tells the rep how to revise a rejected order", () => {
    expect(noticeText("order_rejected", { orderNo: "SO-1", reason: "价格过低" }, "zh-CN")).toBe(
      "订单 SO-1 已被驳回，原因：价格过低。回复「修改 SO-1」或在小程序中修改后重新提交",
    );
    expect(noticeText("order_rejected", { orderNo: "SO-1" }, "zh-CN")).toBe(
      "订单 SO-1 已被驳回。回复「修改 SO-1」或在小程序中修改后重新提交",
    );
  });

  it("writes the other notices in both languages", () => {
    expect(noticeText("order_approved", { orderNo: "SO-1" }, "zh-CN")).toContain("订单 SO-1 已审批通过");
    expect(noticeText("order_shipped", { orderNo: "SO-1", carrier: "顺丰速运", trackingNo: "SF1", partial: true }, "zh-CN")).toBe(
      "订单 SO-1 已发货：顺丰速运，运单号 SF1（部分发货）",
    );
    expect(noticeText("order_cancelled", { orderNo: "SO-1", reason: "客户取消" }, "en")).toBe(
      "Order SO-1 was cancelled. Reason: 客户取消",
    );
    expect(noticeText("not_understood", {}, "zh-CN")).toContain("帮助");
    expect(noticeText("forbidden_action", { scope: "approval" }, "zh-CN")).toBe("您不是该审批步骤的审批人，操作未生效");
    expect(noticeText("forbidden_action", {}, "en")).toBe("You are not allowed to do that: nothing was changed");
    expect(noticeText("already_decided", { orderNo: "SO-1", status: "approved" }, "zh-CN")).toBe(
      "订单 SO-1 的该审批已处理（已同意），无需重复操作",
    );
    expect(noticeText("already_decided", { orderNo: "SO-1", status: "rejected" }, "en")).toBe(
      "This approval of order SO-1 was already decided (Rejected): nothing more to do",
    );
    expect(noticeText("already_decided", {}, "zh-CN")).toBe("该审批已处理，无需重复操作");
  });
});

describe("every card", () => {
  const approvers = [{ id: 7, name: "张经理" }, { id: 8, name: "李总监" }];
  const views = [
    buildOrderView({ lines: buildLines(9), note: "周五前送达" }),
    pendingOrder({ mode: "all", approvers, decisions: [decision(7, "张经理", "approve")] }),
    pendingOrder({ status: "rejected", decidedAt: DECIDED_AT, decisions: [decision(7, "张经理", "reject", "价格过低")] }),
    buildOrderView({ status: "shipped", shipments: [buildShipment()], cancelledAt: null }),
  ];
  const cards: Card[] = [];
  for (const ctx of [zh, en]) {
    cards.push(
      ...views.map((v) => orderPreviewCard(v, { ...ctx, availableByProductId: { 1: 3 } })),
      ...views.map((v) => orderStatusCard(v, ctx)),
      ...views.map((v) => warehousePickCard(v, ctx)),
      approvalCard(views[1], 3, { ...ctx, credit: { limitFen: 1_000_000, openFen: 900_000 } }),
      approvalCard(views[2], 3, ctx),
      orderListCard(views, ctx),
      shipmentNoticeCard(views[3], 31, ctx),
      orderConfirmedNoticeCard({ ...views[0], status: "approved", approvedAt: DECIDED_AT }, ctx),
      helpCard({ ...ctx, roles: ["sales", "manager", "finance", "warehouse", "admin"] }),
      newOrderCard({ ...ctx, recentCustomers: [1, 2, 3, 4].map((i) => ({ code: `C${i}`, name: `非常非常长的客户名称第${i}号` })) }),
      chooseCard({ ...ctx, question: "?", action: "x.pick", name: "v", options: [1, 2, 3].map((i) => ({ value: `${i}`, label: `选项${i}` })) }),
    );
  }

  it("has at most three buttons with labels of at most ten characters", () => {
    for (const card of cards) {
      expect(card.buttons.length).toBeLessThanOrEqual(MAX_CARD_BUTTONS);
      for (const b of card.buttons) expect(Array.from(b.label).length).toBeLessThanOrEqual(MAX_BUTTON_LABEL);
    }
    expect(cards.some((c) => c.buttons.length === MAX_CARD_BUTTONS)).toBe(true);
  });

  it("keeps lines to the limit and never shows raw ISO times or fen amounts", () => {
    for (const card of cards) {
      expect((card.lines ?? []).length).toBeLessThanOrEqual(MAX_CARD_LINES);
      const text = JSON.stringify({ ...card, ref: undefined, buttons: [], select: undefined });
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
      expect(text).not.toMatch(/662500|600000|62500/);
    }
  });

  it("is Chinese unless English was asked for", () => {
    const half = cards.length / 2;
    expect(cards.slice(0, half).every((c) => c.locale === "zh-CN")).toBe(true);
    expect(cards.slice(half).every((c) => c.locale === "en")).toBe(true);
  });
});
