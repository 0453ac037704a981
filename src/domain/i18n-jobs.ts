import type { Locale } from "./i18n";

// What scheduled work says, [zh-CN, en] side by side like i18n.ts; kept apart so the jobs' words
// change without touching the conversation's.
const MESSAGES = {
  "remind.banner": ["催办：此审批等待已久，请尽快处理", "Reminder: this approval has been waiting — please decide"],
  "escalate.manager": [
    "订单 {orderNo} 的审批（{step}）已等待 {hours} 个工作小时，{approvers} 尚未处理，已升级给您审批",
    "Order {orderNo} ({step}) has waited {hours} working hours for {approvers}; it is escalated to you",
  ],
  "escalate.rep": [
    "订单 {orderNo} 的审批已等待 {hours} 个工作小时，已升级给 {managers}",
    "Approval of order {orderNo} waited {hours} working hours and was escalated to {managers}",
  ],
  "recv.title": ["逾期应收提醒", "Overdue receivables"],
  "recv.teamTitle": ["团队逾期应收（超过 {days} 天）", "Team receivables over {days} days late"],
  "recv.banner": ["{n} 笔订单逾期未付，合计 {amount}", "{n} order(s) overdue, {amount} in total"],
  "recv.total": ["逾期合计", "Overdue total"],
  "recv.line": ["{customer} · 逾期 {days} 天 · 到期 {due}", "{customer} · {days} days late · due {due}"],
  "recv.rep": ["{rep}", "{rep}"],
  "digest.title": ["每日经营简报 {day}", "Daily digest {day}"],
  "digest.orders": ["昨日订单", "Orders yesterday"],
  "digest.amount": ["昨日金额", "Amount yesterday"],
  "digest.waiting": ["待审批", "Waiting approval"],
  "digest.shipped": ["昨日发货", "Shipped yesterday"],
  "digest.overdue": ["逾期应收", "Overdue receivables"],
  "digest.overdueValue": ["{n} 笔 / {amount}", "{n} / {amount}"],
  "digest.lowStock": ["库存预警", "Low stock"],
  "digest.lowStockValue": ["{n} 个商品", "{n} item(s)"],
  "link.dashboard": ["查看看板", "Open dashboard"],
  "link.receivables": ["查看应收", "Open receivables"],
  "link.stock": ["查看库存", "Open stock"],
  "low.title": ["库存预警", "Low stock alert"],
  "low.banner": ["{n} 个商品低于安全库存", "{n} item(s) below safety stock"],
  "low.note": ["建议补货量 = 近 30 天日均出库 × 到货周期 {lead} 天 + 安全库存 − 可用", "Suggested = 30-day daily usage × {lead}-day lead time + safety − available"],
  "low.line": ["可用 {available} / 安全 {safety}", "{available} available / safety {safety}"],
  "low.suggest": ["建议补货 {qty}", "Reorder {qty}"],
} as const satisfies Record<string, readonly [string, string]>;

export type JobMessageKey = keyof typeof MESSAGES;

/** The job message in `locale` with each `{name}` replaced. */
export function tj(locale: Locale, key: JobMessageKey, params: Record<string, string | number> = {}): string {
  const text: string = MESSAGES[key][locale === "en" ? 1 : 0];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** "2.5" hours shown without noise: whole hours stay whole, others keep one decimal. */
export function hoursText(hours: number): string {
  return Number.isInteger(hours) ? String(hours) : hours.toFixed(1);
}
