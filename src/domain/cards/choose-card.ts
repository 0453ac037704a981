import { MAX_CARD_BUTTONS, type Card } from "../card";
import { DomainError } from "../errors";
import { t, type Locale } from "../i18n";
import { button } from "./shared";

export interface ChooseContext {
  locale: Locale;
  /** What was ambiguous, in the reader's words: e.g. 「华东」匹配到多个客户 */
  question: string;
  /** Called back with `values` plus `{ [name]: chosen value }`. */
  action: string;
  name: string;
  options: Array<{ value: string; label: string }>;
  values?: Record<string, string>;
}

/** WeCom's button_selection takes 1–10 options. */
const MAX_OPTIONS = 10;

/**
 * Asks which one was meant when a name matched several customers or products. It never picks for
 * the person, not even when only one option is left: a guessed customer is a wrong order.
 */
export function chooseCard(ctx: ChooseContext): Card {
  const { locale, action, name, options } = ctx;
  if (options.length === 0) {
    throw new DomainError("validation_failed", "a choice needs at least one option", { path: "options" });
  }
  const shown = options.slice(0, MAX_OPTIONS);
  const values = ctx.values ?? {};
  const card: Card = {
    kind: "choose",
    locale,
    title: t(locale, "choose.title"),
    subtitle: ctx.question,
    fields: [],
    // Buttons only when every option fits on one; otherwise the select alone, so none is favoured.
    buttons:
      shown.length <= MAX_CARD_BUTTONS
        ? shown.map((o) => button(action, o.label, "default", { ...values, [name]: o.value }))
        : [],
    select: {
      action,
      label: t(locale, "choose.select"),
      name,
      options: shown.map((o) => ({ value: o.value, label: o.label })),
      values: { ...values },
    },
  };
  if (options.length > shown.length) card.notes = [t(locale, "choose.more", { n: options.length - shown.length })];
  return card;
}
