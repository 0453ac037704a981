import type { Card } from "../card";
import { t, type Locale, type MessageKey } from "../i18n";
import type { Role } from "../roles";

export interface HelpContext {
  locale: Locale;
  roles: readonly Role[];
}

// Who may place orders mirrors permissions.ts ("place"): sales, manager, director, and admin.
const ORDERING_ROLES: readonly Role[] = ["sales", "manager", "director", "admin"];

const ROLE_HINTS: Array<{ roles: readonly Role[]; key: MessageKey }> = [
  { roles: ["manager", "director"], key: "help.manager" },
  { roles: ["finance"], key: "help.finance" },
  { roles: ["warehouse"], key: "help.warehouse" },
  { roles: ["admin"], key: "help.admin" },
];

/** What the bot understands, with examples to copy, plus one hint per role the person holds. */
export function helpCard(ctx: HelpContext): Card {
  const { locale, roles } = ctx;
  const has = (wanted: readonly Role[]) => roles.some((r) => wanted.includes(r));
  const example = (label: MessageKey, value: MessageKey) => ({ label: t(locale, label), value: t(locale, value) });
  const fields: Card["fields"] = [];
  if (has(ORDERING_ROLES)) {
    fields.push(example("help.order", "help.orderExample"), example("help.orderOther", "help.orderOtherExample"));
    fields.push(example("help.myOrders", "help.myOrdersExample"));
  }
  if (roles.length > 0) {
    fields.push(example("help.lookup", "help.lookupExample"), example("help.stock", "help.stockExample"));
  }
  const notes = ROLE_HINTS.filter((h) => has(h.roles)).map((h) => t(locale, h.key));
  if (roles.length === 0) notes.push(t(locale, "help.noRole"));
  notes.push(t(locale, "help.language"));
  return {
    kind: "help",
    locale,
    title: t(locale, "help.title"),
    subtitle: t(locale, "help.subtitle"),
    fields,
    notes,
    buttons: [],
    ...(roles.length > 0 ? { link: { label: t(locale, "link.miniApp"), path: "/m" } } : {}),
  };
}
