import type { Card } from "../card";
import { t, type Locale } from "../i18n";

/** A card as the plain text a reader without cards sees (a WeChat customer): every part on its own line. */
export function cardPlainText(card: Card): string {
  const parts = [
    card.title,
    card.subtitle,
    card.banner?.text,
    ...card.fields.map((f) => `${f.label}：${f.value}`),
    ...(card.lines ?? []).map((l) => `- ${l.name} ${l.qty}`),
    card.moreLines ? t(card.locale, "ui.moreLines", { n: card.moreLines }) : undefined,
    ...(card.notes ?? []),
  ];
  return parts.filter((p): p is string => !!p).join("\n");
}

/**
 * Several notices to one customer as one: where a platform lets a customer receive one message a day
 * (WeCom's mass-send tasks, wecom.md 7.2), notices held back by that cap go out together the next day
 * instead of one a day. Each keeps all it said, in the order given, a blank line apart.
 */
export function customerDigestCard(cards: Card[], locale: Locale): Card {
  return {
    kind: "notice",
    locale,
    title: t(locale, "customer.digest", { n: cards.length }),
    fields: [],
    notes: cards.map((c) => `\n${cardPlainText(c)}`),
    buttons: [],
  };
}
