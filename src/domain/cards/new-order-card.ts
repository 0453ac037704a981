import { MAX_CARD_BUTTONS, type Card } from "../card";
import { t, type Locale } from "../i18n";
import { button, joinList } from "./shared";

export interface NewOrderContext {
  locale: Locale;
  /** Most recent first; the first three become buttons, the rest are listed. */
  recentCustomers: Array<{ code: string; name: string }>;
}

const LISTED_CUSTOMERS = 10;

/** Starts an order: the form in the mini-app, or one tap on a recent customer. */
export function newOrderCard(ctx: NewOrderContext): Card {
  const { locale, recentCustomers } = ctx;
  const tapped = recentCustomers.slice(0, MAX_CARD_BUTTONS);
  const listed = recentCustomers.slice(MAX_CARD_BUTTONS, MAX_CARD_BUTTONS + LISTED_CUSTOMERS);
  const notes = [t(locale, "new.hint")];
  if (listed.length > 0) {
    const names = joinList(listed.map((c) => `${c.name} (${c.code})`), locale);
    notes.push(t(locale, "new.moreCustomers", { names }));
  }
  return {
    kind: "new_order",
    locale,
    title: t(locale, "new.title"),
    fields: [],
    notes,
    buttons: tapped.map((c) => button("order.new_for_customer", c.name, "default", { customerCode: c.code })),
    link: { label: t(locale, "link.newOrder"), path: "/m/orders/new" },
  };
}
