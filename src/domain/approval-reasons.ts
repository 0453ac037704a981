import type { ReasonCode, RouteReason } from "./approval-rules";
import type { Locale } from "./i18n";
import { formatFen } from "./money";

// The words for each approval reason, kept apart from the rules so wording changes touch one file.

/** A reason in words for a card or message; Chinese unless English is asked for. */
export function describeReason(reason: RouteReason, locale: Locale): string {
  const text = TEXT[reason.code];
  // Reasons are stored with the order, so a code from a newer release may meet older code.
  if (!text) return reason.code;
  return text[locale === "en" ? "en" : "zh-CN"](reason.params);
}

type Params = RouteReason["params"];
const num = (p: Params, k: string): number => (typeof p[k] === "number" ? (p[k] as number) : Number(p[k] ?? 0));
const list = (p: Params, k: string): string[] => (Array.isArray(p[k]) ? (p[k] as string[]) : []);
const fen = (p: Params, k: string): string => formatFen(num(p, k));
const limit = (p: Params): number => num(p, "thresholdPercent");
const zhLimit = (p: Params): string => (limit(p) > 0 ? `（上限 ${limit(p)}%）` : "");
const enLimit = (p: Params): string => (limit(p) > 0 ? ` (limit ${limit(p)}%)` : "");
const many = (p: Params, k: string): boolean => list(p, k).length > 1;

const TEXT: Record<ReasonCode, Record<Locale, (p: Params) => string>> = {
  total_above: {
    "zh-CN": (p) => `订单金额 ${fen(p, "totalFen")} 超过 ${fen(p, "thresholdFen")}`,
    en: (p) => `Order total ${fen(p, "totalFen")} exceeds ${fen(p, "thresholdFen")}`,
  },
  total_below: {
    "zh-CN": (p) => `订单金额 ${fen(p, "totalFen")} 低于 ${fen(p, "thresholdFen")}`,
    en: (p) => `Order total ${fen(p, "totalFen")} is below ${fen(p, "thresholdFen")}`,
  },
  discount_above: {
    "zh-CN": (p) =>
      many(p, "skus")
        ? `${list(p, "skus").join("、")} 低于标价，最多 ${num(p, "maxDiscountPercent")}%${zhLimit(p)}`
        : `${list(p, "skus").join("")} 低于标价 ${num(p, "maxDiscountPercent")}%${zhLimit(p)}`,
    en: (p) =>
      many(p, "skus")
        ? `${list(p, "skus").join(", ")} are up to ${num(p, "maxDiscountPercent")}% below list price${enLimit(p)}`
        : `${list(p, "skus").join("")} is ${num(p, "maxDiscountPercent")}% below list price${enLimit(p)}`,
  },
  below_floor: {
    "zh-CN": (p) => `${list(p, "skus").join("、")} 低于底价`,
    en: (p) =>
      many(p, "skus")
        ? `${list(p, "skus").join(", ")} are priced below their floor prices`
        : `${list(p, "skus").join("")} is priced below its floor price`,
  },
  customer_level: {
    "zh-CN": (p) => `客户等级 ${p.level} 需审批`,
    en: (p) => `Customer level ${p.level} requires approval`,
  },
  credit_exceeded: {
    "zh-CN": (p) =>
      `客户信用超限：额度 ${fen(p, "limitFen")}，未收 ${fen(p, "openReceivablesFen")} + 本单 ${fen(p, "totalFen")}`,
    en: (p) =>
      `Credit limit exceeded: limit ${fen(p, "limitFen")}, ` +
      `unpaid ${fen(p, "openReceivablesFen")} + this order ${fen(p, "totalFen")}`,
  },
  category: {
    "zh-CN": (p) => `含品类 ${list(p, "categories").join("、")}：${list(p, "skus").join("、")}`,
    en: (p) =>
      `Contains ${many(p, "categories") ? "categories" : "category"} ` +
      `${list(p, "categories").join(", ")}: ${list(p, "skus").join(", ")}`,
  },
  always: {
    "zh-CN": () => "所有订单均需审批",
    en: () => "Every order requires approval",
  },
};
