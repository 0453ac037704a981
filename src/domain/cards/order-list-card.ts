import type { Card } from "../card";
import { statusLabel, t } from "../i18n";
import { formatFen } from "../money";
import type { OrderView } from "../order-view";
import { statusTone, truncate, type CardContext } from "./shared";

/** "我的订单": one line per order (number, customer, total, status), newest first as given. */
export function orderListCard(views: OrderView[], ctx: CardContext): Card {
  const { locale } = ctx;
  const base = { kind: "order_list" as const, locale, title: t(locale, "list.title"), fields: [], buttons: [] };
  if (views.length === 0) {
    const link = { label: t(locale, "link.newOrder"), path: "/m/orders/new" };
    return { ...base, notes: [t(locale, "list.empty")], link };
  }
  const { lines, moreLines } = truncate(
    views.map((v) => ({
      name: v.orderNo,
      note: v.customer.name,
      qty: statusLabel(v.status, locale),
      total: formatFen(v.totalFen),
      flag: statusTone(v.status),
    })),
  );
  return {
    ...base,
    lines,
    ...(moreLines ? { moreLines } : {}),
    link: { label: t(locale, "link.allOrders"), path: "/m/orders" },
  };
}
