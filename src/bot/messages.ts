import type { Locale } from "../domain/i18n";

/**
 * The bot's own chat texts, [zh-CN, en] side by side like domain/i18n.ts. They live here (not in
 * i18n.ts) because only the conversation says them; move them there if a second user appears.
 */
const TEXTS = {
  problems: [
    "这张订单有几处没看懂：\n{list}\n请修改后重新发送，发送「帮助」查看示例。",
    'I could not read all of that order:\n{list}\nPlease fix it and send it again; send "help" for examples.',
  ],
  unknownItems: [
    "没有找到：{list}。订单未创建，请核对名称或编号后重新发送。",
    "Not found: {list}. No order was created; check the names or codes and send it again.",
  ],
  unknownCustomer: ["客户「{name}」", 'customer "{name}"'],
  unknownProduct: ["商品「{name}」", 'product "{name}"'],
  askCustomer: ["这张订单是哪个客户的？", "Which customer is this order for?"],
  askCustomerHint: [
    "请在消息里写上客户，例如：下单 华东医疗 N95口罩 200箱",
    'Please name the customer in your message, e.g. "order ACME: 20 x SKU-1001"',
  ],
  ambiguousCustomer: ["「{query}」匹配到多个客户", '"{query}" matches several customers'],
  ambiguousProduct: ["「{query}」匹配到多个商品", '"{query}" matches several products'],
  choiceExpired: ["这个选择已过期，请重新发送订单", "That choice has expired: please send the order again"],
  orderingForSales: [
    "下单功能面向销售人员，您当前的角色不能下单。以下是您可以使用的功能：",
    "Ordering is for sales staff, and your role cannot place orders. Here is what you can do:",
  ],
  stockShort: ["库存不足，订单未提交：{list}", "Not enough stock, so the order was not submitted: {list}"],
  stockShortItem: ["{sku}（需要 {requested}，可用 {available}）", "{sku} ({requested} needed, {available} available)"],
  conflict: ["订单已被修改，请重新查看", "The order was changed by someone else: please check it again"],
  orderNotFound: ["没有找到订单 {orderNo}，请核对订单号", "Order {orderNo} was not found: please check the number"],
  notFound: ["没有找到相关记录，操作未生效", "That was not found: nothing was changed"],
  rejectTypeHint: ["也可以直接回复驳回原因", "Or just reply with the reason for rejecting"],
  rejectDone: ["已驳回订单 {orderNo}，原因：{reason}", "Order {orderNo} was rejected. Reason: {reason}"],
  rejectCancelled: ["已取消驳回，订单未作改动", "Rejection cancelled: the order was not changed"],
  newForCustomer: [
    "请直接发送订单，例如：\n下单 {name}：N95口罩 200箱，丁腈手套 50盒",
    'Send the order, for example:\norder {name}: 20 x SKU-1001, 5 x SKU-2002',
  ],
  greeting: ["{name}，您好！", "Hi {name}!"],
  todoApprovals: ["您有 {n} 个订单待审批。", "{n} order(s) are waiting for your approval."],
  todoDrafts: ["您有 {n} 个草稿订单尚未提交。", "{n} draft order(s) are not submitted yet."],
  todoOpen: ["去处理", "Open"],
  discardNotDraft: [
    "订单 {orderNo} 当前为「{status}」，不能再作为草稿撤销",
    "Order {orderNo} is {status}: it can no longer be discarded as a draft",
  ],
  invalidTransition: ["订单当前状态不允许此操作，操作未生效", "The order's status does not allow that: nothing was changed"],
  noApprover: ["没有找到可以审批此订单的人，请联系管理员", "Nobody is set up to approve this order: please ask your admin"],
  invalidInput: ["信息有误，操作未生效，请检查后重试", "Something in that was not valid: nothing was changed"],
  alreadyPlaced: [
    "这张订单已经生成，如需修改请在小程序中修改",
    "That order was already created: edit it in the mini-app if it needs changing",
  ],
  languageSet: [
    "好的，以后用中文和您交流（小程序也一样）。发送「English」可切换为英文。",
    'OK, I will use English from now on, in the mini-app too. Send "中文" to switch back to Chinese.',
  ],
  failed: ["操作未能完成（{code}），请稍后重试或联系管理员", "That could not be done ({code}): try again later or ask your admin"],
} as const satisfies Record<string, readonly [string, string]>;

export type BotTextKey = keyof typeof TEXTS;

/** The bot's text in `locale`, with `{name}` placeholders filled in. */
export function say(locale: Locale, key: BotTextKey, params: Record<string, string | number> = {}): string {
  const text: string = TEXTS[key][locale === "en" ? 1 : 0];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** 「a」、「b」 in Chinese, a, b in English. */
export function listOf(items: string[], locale: Locale): string {
  return items.join(locale === "en" ? ", " : "、");
}
