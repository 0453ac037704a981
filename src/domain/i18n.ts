import { MINIAPP_MESSAGES } from "./i18n-miniapp";
import type { OrderStatus } from "./order-state";

/** What people read is Chinese unless they ask for English. */
export type Locale = "zh-CN" | "en";

export const DEFAULT_LOCALE: Locale = "zh-CN";

/** "en", "en-US", "EN_gb" → en; anything else (including nothing) → zh-CN. */
export function localeOf(s: string | null | undefined): Locale {
  return s && s.trim().toLowerCase().startsWith("en") ? "en" : DEFAULT_LOCALE;
}

// [zh-CN, en] side by side, so a message can never exist in one language only.
const CORE_MESSAGES = {
  "status.draft": ["草稿", "Draft"],
  "status.pending_approval": ["待审批", "Pending approval"],
  "status.approved": ["已审批", "Approved"],
  "status.rejected": ["已驳回", "Rejected"],
  "status.picking": ["拣货中", "Picking"],
  "status.packed": ["已打包", "Packed"],
  "status.partially_shipped": ["部分发货", "Partially shipped"],
  "status.shipped": ["已发货", "Shipped"],
  "status.delivered": ["已签收", "Delivered"],
  "status.completed": ["已完成", "Completed"],
  "status.cancelled": ["已取消", "Cancelled"],
  "status.archived": ["已归档", "Archived"],

  "step.waiting": ["等待中", "Waiting"],
  "step.pending": ["待审批", "Pending"],
  "step.approved": ["已同意", "Approved"],
  "step.rejected": ["已驳回", "Rejected"],
  "step.cancelled": ["已撤销", "Withdrawn"],

  "field.customer": ["客户", "Customer"],
  "field.salesRep": ["销售", "Sales rep"],
  "field.total": ["合计", "Total"],
  "field.paid": ["已付 / 合计", "Paid / total"],
  "field.createdAt": ["下单时间", "Placed at"],
  "field.orderNo": ["订单号", "Order no."],
  "field.consignee": ["收货人", "Consignee"],
  "field.address": ["收货地址", "Address"],
  "field.route": ["审批流程", "Approval route"],
  "field.reasons": ["审批原因", "Why approval"],
  "field.credit": ["信用额度", "Credit"],
  "field.maxDiscount": ["最大折扣", "Max discount"],
  "field.approver": ["审批人", "Approver"],
  "field.decidedAt": ["审批时间", "Decided at"],
  "field.comment": ["意见", "Comment"],
  "field.countersign": ["会签进度", "Countersign"],
  "field.approval": ["审批进度", "Approval"],
  "field.shipment": ["物流", "Shipment"],
  "field.carrier": ["物流公司", "Carrier"],
  "field.trackingNo": ["运单号", "Tracking no."],
  "field.shippedAt": ["发货时间", "Shipped at"],
  "field.confirmedAt": ["确认时间", "Confirmed at"],
  "field.cancelledAt": ["取消时间", "Cancelled at"],
  "field.cancelReason": ["取消原因", "Reason"],
  "field.recentCustomers": ["最近客户", "Recent customers"],

  "value.none": ["无", "none"],
  "value.unassigned": ["未指定", "unassigned"],
  "fmt.note": ["备注：{note}", "Note: {note}"],
  "fmt.credit": ["已用 {used} / 额度 {limit}", "Used {used} / limit {limit}"],
  "fmt.creditUnlimited": ["已用 {used} / 不限额度", "Used {used} / no limit"],
  "fmt.creditOver": ["（超出 {over}）", " ({over} over)"],
  "fmt.discount": ["低于标价 {pct}%", "{pct}% below list"],
  "fmt.countersign": ["{done}/{total} 已同意", "{done}/{total} approved"],
  "fmt.round": ["第 {n} 轮", "round {n}"],
  "fmt.countersignMode": ["会签", "all must approve"],
  "fmt.shippedQty": ["已发 {qty}", "{qty} shipped"],
  "fmt.reasonSuffix": [" · 原因：{reason}", " · Reason: {reason}"],

  "btn.submit": ["提交", "Submit"],
  "btn.discard": ["取消", "Discard"],
  "btn.approve": ["同意", "Approve"],
  "btn.reject": ["驳回", "Reject"],
  "btn.detail": ["查看详情", "Details"],
  "link.edit": ["在小程序中修改", "Edit in mini-app"],
  "link.detail": ["查看详情", "View details"],
  "link.startPick": ["开始拣货", "Start picking"],
  "link.allOrders": ["查看全部", "View all"],
  "link.newOrder": ["打开下单表单", "Open order form"],
  "link.miniApp": ["打开小程序", "Open mini-app"],

  "preview.title": ["订单预览：{orderNo}", "Order preview: {orderNo}"],
  "preview.autoApprove": ["无需审批，提交后自动通过", "No approval needed: approved on submit"],
  "preview.stockShort": ["库存不足：可用 {available}", "Short of stock: {available} available"],
  "preview.stockOk": ["可用 {available}", "{available} available"],
  "preview.stockUnknown": ["库存未知", "Stock unknown"],
  "preview.shortBanner": ["{n} 行库存不足，请调整数量后再提交", "{n} line(s) exceed available stock: adjust before submitting"],

  "approval.title": ["审批：{orderNo}", "Approval: {orderNo}"],
  "approval.rejectSelect": ["驳回原因", "Reject reason"],
  "approval.orderCancelled": ["订单已取消", "Order cancelled"],
  "approval.stepCancelled": ["审批已撤销，无需处理", "Approval withdrawn: nothing to do"],
  "approval.waiting": ["等待前序审批", "Waiting for earlier steps"],
  "approval.auto": ["自动通过", "Auto-approved"],
  "approval.notSubmitted": ["未提交", "Not submitted"],
  "reject.price": ["价格过低", "Price too low"],
  "reject.credit": ["信用超限", "Over credit limit"],
  "reject.stock": ["库存不足", "Out of stock"],
  "reject.info": ["信息有误", "Wrong details"],
  "reject.other": ["其他", "Other"],
  "reject.question": ["请选择驳回订单 {orderNo} 的原因", "Why are you rejecting order {orderNo}?"],

  "pick.title": ["新订单待拣货", "New order to pick"],
  "pick.cancelled": ["订单已取消，请停止拣货", "Order cancelled: stop picking"],
  "status.title": ["订单 {orderNo}", "Order {orderNo}"],
  "list.title": ["我的订单", "My orders"],
  "list.empty": [
    "您还没有订单。直接发送「下单 客户 商品 数量」，或打开下单表单。",
    'You have no orders yet. Send something like "order ACME: 20 x SKU-1001", or open the order form.',
  ],
  "ship.title": ["您的订单已发货", "Your order has shipped"],
  "ship.partial": ["本次为部分发货，其余商品将尽快发出", "This is a partial shipment: the rest will follow soon"],
  "confirm.title": ["您的订单已确认", "Your order is confirmed"],
  "confirm.next": [
    "我们将尽快为您备货发货，发货后会再通知您物流公司和运单号。",
    "We will pick and ship it soon, and send you the carrier and tracking number once it ships.",
  ],

  "help.title": ["我能帮您做什么", "What I can do"],
  "help.subtitle": ["直接给我发消息即可，例如：", "Just message me, for example:"],
  "help.order": ["下单", "Place an order"],
  "help.orderExample": ["下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50", "order ACME: 20 x SKU-1001, 5 x SKU-2002 @ 12.5"],
  "help.orderOther": ["英文下单", "In Chinese"],
  "help.orderOtherExample": ["order ACME: 20 x SKU-1001, 5 x SKU-2002 @ 12.5", "下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50"],
  "help.myOrders": ["我的订单", "My orders"],
  "help.myOrdersExample": ["我的订单", "my orders"],
  "help.lookup": ["查订单", "Look up an order"],
  "help.lookupExample": ["查 SO-20261123-0001", "status SO-20261123-0001"],
  "help.stock": ["查库存", "Check stock"],
  "help.stockExample": ["库存 N95", "stock N95"],
  "help.manager": [
    "审批：审批卡片会推送给您，在卡片上点「同意」或「驳回」即可",
    "Approvals: approval cards are pushed to you; tap Approve or Reject on the card",
  ],
  "help.finance": [
    "财务：大额或超出信用额度的订单会推送给您审批；收款在小程序中登记",
    "Finance: large and over-credit orders come to you for approval; record payments in the mini-app",
  ],
  "help.warehouse": [
    "仓库：新订单会推送给您，点「开始拣货」打开拣货单，扫码确认后打包、发货",
    "Warehouse: new orders are pushed to you; tap Start picking to open the pick list, scan, pack and ship",
  ],
  "help.admin": [
    "管理员：在小程序管理页导入商品、客户和库存，维护审批规则",
    "Admin: import products, customers and stock and edit approval rules in the mini-app admin pages",
  ],
  "help.language": ["发送「English」可切换为英文", 'Send "中文" to switch to Chinese'],
  "help.noRole": ["您还没有开通权限，请联系管理员", "You have no role yet: please ask your admin"],

  "new.title": ["新建订单", "New order"],
  "new.hint": [
    "选择最近的客户，或打开下单表单；也可以直接发送，例如：下单 华东医疗 N95口罩 200箱",
    'Pick a recent customer or open the order form; or just send e.g. "order ACME: 20 x SKU-1001"',
  ],
  "new.moreCustomers": ["其他最近客户：{names}", "Other recent customers: {names}"],

  "choose.title": ["您指的是哪一个？", "Which one did you mean?"],
  "choose.select": ["请选择", "Choose"],
  "choose.more": ["还有 {n} 项未列出，请输入更完整的名称", "{n} more not shown: type a more specific name"],

  "stock.title": ["库存查询", "Stock"],
  "stock.available": ["可用 {qty}", "{qty} available"],
  "stock.detail": [
    "在库 {onHand} · 预留 {reserved} · 安全库存 {safety}",
    "On hand {onHand} · reserved {reserved} · safety {safety}",
  ],
  "stock.low": ["库存偏低", "Low stock"],
  "stock.lowBanner": ["{n} 个商品库存偏低", "{n} item(s) low on stock"],
  "stock.empty": ["没有找到匹配的商品", "No matching products"],

  "notice.stepApproved": ["订单 {orderNo} 已被 {approver} 同意", "Order {orderNo} was approved by {approver}"],
  "notice.stepRejected": ["订单 {orderNo} 已被 {approver} 驳回", "Order {orderNo} was rejected by {approver}"],
  "notice.stepLabel": ["（{step}）", " ({step})"],
  "notice.reason": ["，原因：{reason}", ". Reason: {reason}"],
  "notice.orderApproved": [
    "订单 {orderNo} 已审批通过，仓库将尽快拣货发货",
    "Order {orderNo} is approved; the warehouse will pick and ship it soon",
  ],
  "notice.orderRejected": ["订单 {orderNo} 已被驳回", "Order {orderNo} was rejected"],
  "notice.reviseHint": [
    "。回复「修改 {orderNo}」或在小程序中修改后重新提交",
    '. Reply "revise {orderNo}" or edit it in the mini-app, then submit again',
  ],
  "notice.orderShipped": [
    "订单 {orderNo} 已发货：{carrier}，运单号 {trackingNo}",
    "Order {orderNo} has shipped: {carrier}, tracking no. {trackingNo}",
  ],
  "notice.partial": ["（部分发货）", " (partial shipment)"],
  "notice.digest": ["以下 {n} 条通知合并发送：", "{n} notices in one message:"],
  "customer.digest": ["您有 {n} 条订单通知：", "{n} order notices for you:"],
  "notice.orderCancelled": ["订单 {orderNo} 已取消", "Order {orderNo} was cancelled"],
  "notice.notUnderstood": [
    "抱歉，没看懂这条消息。发送「帮助」查看用法和示例。",
    'Sorry, I didn\'t understand that. Send "help" to see what I can do.',
  ],
  "notice.forbiddenApproval": ["您不是该审批步骤的审批人，操作未生效", "You are not an approver of this step: nothing was changed"],
  "notice.forbidden": ["您没有权限执行此操作，操作未生效", "You are not allowed to do that: nothing was changed"],
  "notice.alreadyDecided": [
    "订单 {orderNo} 的该审批已处理（{status}），无需重复操作",
    "This approval of order {orderNo} was already decided ({status}): nothing more to do",
  ],
  "notice.alreadyDecidedOrder": [
    "订单 {orderNo} 的该审批已处理，无需重复操作",
    "This approval of order {orderNo} was already decided: nothing more to do",
  ],
  "notice.alreadyDecidedBare": ["该审批已处理，无需重复操作", "This approval is already decided: nothing more to do"],

  "ui.confirm": ["确认", "Confirm"],
  "ui.moreLines": ["另有 {n} 项未显示", "{n} more not shown"],
} as const satisfies Record<string, readonly [string, string]>;

const MESSAGES = { ...CORE_MESSAGES, ...MINIAPP_MESSAGES };

export type MessageKey = keyof typeof MESSAGES;
export type MessageParams = Record<string, string | number>;

/** The message in `locale` with each `{name}` replaced; an unknown `{name}` stays visible rather than vanishing. */
export function t(locale: Locale, key: MessageKey, params?: MessageParams): string {
  const text: string = MESSAGES[key][locale === "en" ? 1 : 0];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** 草稿, 待审批, … / Draft, Pending approval, … */
export function statusLabel(status: OrderStatus, locale: Locale): string {
  return t(locale, `status.${status}`);
}

/** True for a key of the table: templates name keys as text, and an unknown one must fail loudly. */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(MESSAGES, key);
}
