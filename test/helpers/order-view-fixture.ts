import type { ApprovalStepView, OrderLineView, OrderView, ShipmentView } from "../../src/domain/order-view";

/** OrderView fixtures for card tests: a realistic order that each test bends with overrides. */

/** 2026-11-23 14:05 in Shanghai. */
export const DECIDED_AT = "2026-11-23T06:05:00.000Z";

export function buildLine(overrides: Partial<OrderLineView> = {}): OrderLineView {
  const line: OrderLineView = {
    id: 101,
    lineNo: 1,
    productId: 1,
    sku: "N95-001",
    name: "N95口罩",
    unit: "箱",
    listPriceFen: 3_200,
    unitPriceFen: 3_000,
    qty: 200,
    discountBp: 625,
    lineTotalFen: 600_000,
    pickedQty: 0,
    shippedQty: 0,
    ...overrides,
  };
  return { ...line, lineTotalFen: overrides.lineTotalFen ?? line.unitPriceFen * line.qty };
}

/** Lines 1..n with distinct ids, products and SKUs. */
export function buildLines(n: number): OrderLineView[] {
  return Array.from({ length: n }, (_, i) =>
    buildLine({ id: 101 + i, lineNo: i + 1, productId: i + 1, sku: `SKU-${1001 + i}`, name: `商品${i + 1}`, qty: 10 }),
  );
}

export function buildStep(overrides: Partial<ApprovalStepView> = {}): ApprovalStepView {
  return {
    id: 3,
    stepNo: 1,
    label: "直属主管审批",
    mode: "any",
    status: "pending",
    approvers: [{ id: 7, name: "张经理" }],
    reasons: [{ code: "total_above", ruleId: "manager-review", params: { totalFen: 662_500, thresholdFen: 500_000 } }],
    decisions: [],
    activatedAt: "2026-11-23T05:00:00.000Z",
    decidedAt: null,
    ...overrides,
  };
}

export function buildShipment(overrides: Partial<ShipmentView> = {}): ShipmentView {
  return {
    id: 31,
    carrier: "顺丰速运",
    trackingNo: "SF1234567890",
    shippedAt: DECIDED_AT,
    lines: [{ orderLineId: 101, sku: "N95-001", name: "N95口罩", qty: 200 }],
    ...overrides,
  };
}

export function buildOrderView(overrides: Partial<OrderView> = {}): OrderView {
  const lines = overrides.lines ?? [
    buildLine(),
    buildLine({
      id: 102,
      lineNo: 2,
      productId: 2,
      sku: "GLV-050",
      name: "丁腈手套",
      unit: "盒",
      listPriceFen: 1_250,
      unitPriceFen: 1_250,
      qty: 50,
      discountBp: 0,
    }),
  ];
  return {
    id: 12,
    orderNo: "SO-20261123-0001",
    status: "draft",
    version: 4,
    source: "chat",
    customer: { id: 5, code: "HDYL", name: "华东医疗", level: "A" },
    salesRep: { id: 9, name: "王小明" },
    totalFen: lines.reduce((sum, l) => sum + l.lineTotalFen, 0),
    paidFen: 0,
    paymentTermsDays: 30,
    note: null,
    shipTo: { name: "李四", phone: "13800000000", address: "上海市浦东新区张江路 1 号" },
    lines,
    approval: { round: 1, autoApproved: false, reasons: [], steps: [] },
    shipments: [],
    payments: [],
    createdAt: "2026-11-23T02:00:00.000Z",
    submittedAt: null,
    approvedAt: null,
    shippedAt: null,
    deliveredAt: null,
    completedAt: null,
    cancelledAt: null,
    cancelReason: null,
    dueAt: null,
    ...overrides,
  };
}
