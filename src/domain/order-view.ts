import type { OrderStatus } from "./order-state";
import type { RouteReason } from "./approval-rules";

/** The one read model of an order: what the API presents, cards show and the mini-app renders. */
export interface OrderView {
  id: number;
  orderNo: string;
  status: OrderStatus;
  version: number;
  source: OrderSource;
  customer: { id: number; code: string; name: string; level: string | null };
  salesRep: { id: number; name: string } | null;
  totalFen: number;
  paidFen: number;
  paymentTermsDays: number;
  note: string | null;
  shipTo: { name: string | null; phone: string | null; address: string | null };
  lines: OrderLineView[];
  approval: ApprovalView;
  shipments: ShipmentView[];
  payments: PaymentView[];
  /** Notices to the customer (order confirmed, shipped) and how far each got; present once the order is approved. */
  customerNotices?: CustomerNoticeView[];
  /** ISO-8601 UTC instants; null until the event happens. */
  createdAt: string;
  submittedAt: string | null;
  approvedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  dueAt: string | null;
}

export type OrderSource = "chat" | "miniapp" | "api";

export interface OrderLineView {
  id: number;
  lineNo: number;
  productId: number;
  sku: string;
  name: string;
  unit: string;
  listPriceFen: number;
  unitPriceFen: number;
  qty: number;
  /** Discount below list price in basis points (1500 = 15%). */
  discountBp: number;
  lineTotalFen: number;
  pickedQty: number;
  shippedQty: number;
}

export interface ApprovalView {
  /** Each submission is a round; a revised and re-submitted order starts round 2. */
  round: number;
  autoApproved: boolean;
  reasons: RouteReason[];
  steps: ApprovalStepView[];
}

export type StepStatus = "waiting" | "pending" | "approved" | "rejected" | "cancelled";

export interface ApprovalStepView {
  id: number;
  stepNo: number;
  label: string;
  mode: "any" | "all";
  status: StepStatus;
  approvers: Array<{ id: number; name: string }>;
  reasons: RouteReason[];
  decisions: Array<{
    approverId: number;
    approverName: string;
    decision: "approve" | "reject";
    comment: string | null;
    decidedAt: string;
  }>;
  activatedAt: string | null;
  decidedAt: string | null;
}

export interface ShipmentView {
  id: number;
  carrier: string;
  trackingNo: string;
  shippedAt: string;
  lines: Array<{ orderLineId: number; sku: string; name: string; qty: number }>;
}

export interface PaymentView {
  id: number;
  amountFen: number;
  paidAt: string;
  method: string | null;
  reference: string | null;
}

/** What a customer notice tells them: their order was confirmed, or a shipment left. */
export type CustomerNoticeKind = "confirmed" | "shipment";

/**
 * One notice to the customer. `awaiting_owner`: WeCom made a mass-send task that reaches the customer only
 * after the member who owns the contact confirms it; `queued`: waiting for a retry, a rate or a cap;
 * `expired`: the owner never confirmed the task (jobs/customer-notice-results.ts gave up asking).
 */
export interface CustomerNoticeView {
  id: number;
  /** `confirmed`: the order was approved; `shipment`: shipmentId left the warehouse. */
  kind: CustomerNoticeKind;
  shipmentId: number | null;
  /** How it goes: wecom_external, wecom_robot, or the customer's chat platform. */
  channel: string;
  /** Who it goes to, never a credential: an external_userid, or a webhook URL without its query. */
  target: string;
  msgid: string | null;
  state: "queued" | "awaiting_owner" | "sent" | "failed" | "expired";
  error: string | null;
  createdAt: string;
  updatedAt: string;
}
