import nunjucks from "nunjucks";
import type { Card, CardButton, CardLine, Tone } from "../../domain/card";
import { t } from "../../domain/i18n";
import { INERT_KEY, KeyTooLongError, encodeButtonKey, encodeQuestionKey } from "./keys";
import { LIMITS, clipBytes, clipChars } from "./limits";

export type WecomCardType = "button_interaction" | "multiple_interaction" | "text_notice";
export type TemplateCard = Record<string, unknown> & { card_type: WecomCardType; task_id: string };

export interface RenderContext {
  taskId: string;
  /** Makes a mini-app path absolute (the OAuth link, index.ts). */
  link(path: string): string;
}

export interface WecomRenderer {
  /** The template_card for a send, or for an update of a card that still has something to tap. */
  card(card: Card, ctx: RenderContext): TemplateCard;
  /** The update for a card with nothing left to tap: buttons replaced by `replace_text` (wecom.md 5.1, 5.5). */
  closed(card: Card, ctx: RenderContext): TemplateCard;
  /** text.content within 2048 bytes. */
  text(text: string): { content: string };
  /** Group robot markdown (wecom.md 7.3). */
  markdown(card: Card): { content: string };
}

/** Which template_card a neutral card becomes (wecom.md 5.1). */
export function cardTypeOf(card: Card): WecomCardType {
  if (card.buttons.length > 0) return "button_interaction";
  // A choice without buttons: multiple_interaction is documented to report SelectedItems (wecom.md 2.2).
  return card.select ? "multiple_interaction" : "text_notice";
}

/** Style numbers 1-4 (wecom.md 5.2); which colour each shows is not documented there. */
const STYLE: Record<CardButton["style"], number> = { primary: 1, default: 2, danger: 3 };
/** source.desc_color: 0 grey, 1 black, 2 red, 3 green (wecom.md 5.2). */
const DESC_COLOR: Record<Tone, number> = { info: 1, success: 3, warning: 2, danger: 2, muted: 0 };
/** Robot markdown colours: info green, comment grey, warning orange. */
const FONT: Record<Tone, string> = { info: "comment", success: "info", warning: "warning", danger: "warning", muted: "comment" };

/** Renders cards with the templates in `templatesDir` (cards/wecom/); one Nunjucks environment per renderer. */
export function createWecomRenderer(templatesDir: string): WecomRenderer {
  // Templates write JSON: autoescape is off and every string goes through `json` (JSON.stringify).
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), {
    autoescape: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter("json", (v: unknown) => JSON.stringify(v ?? null));
  // Robot markdown: angle brackets would let card text open <font> or <@userid> mentions.
  env.addFilter("md", (v: unknown) => String(v ?? "").replace(/</g, "＜").replace(/>/g, "＞"));

  const renderJson = (name: string, v: object): TemplateCard => JSON.parse(env.render(name, { v })) as TemplateCard;

  return {
    card(card, ctx) {
      const type = cardTypeOf(card);
      return renderJson(`${type}.njk`, view(card, ctx, type));
    },
    closed(card, ctx) {
      const v = view({ ...card, buttons: [], select: undefined }, ctx, "button_interaction");
      const replaceText = clipChars(card.banner?.text ?? t(card.locale, "ui.confirm"), LIMITS.replaceText);
      // button_list is required even when replaced; its inert key decodes to nothing if ever tapped.
      const buttons = [{ text: clipChars(replaceText, LIMITS.buttonText), style: STYLE.default, key: INERT_KEY }];
      return renderJson("button_interaction.njk", { ...v, buttons, replaceText });
    },
    text: (text) => ({ content: clipBytes(text, LIMITS.textBytes) }),
    markdown(card) {
      const content = env.render("markdown.njk", {
        card,
        font: card.banner ? FONT[card.banner.tone] : null,
        lines: (card.lines ?? []).map(lineText),
        more: card.moreLines ? t(card.locale, "ui.moreLines", { n: card.moreLines }) : null,
      });
      return { content: clipBytes(content.trim(), LIMITS.robotMarkdownBytes) };
    },
  };
}

function view(card: Card, ctx: RenderContext, type: WecomCardType) {
  if (Buffer.byteLength(ctx.taskId) > LIMITS.taskIdBytes) throw new Error("task_id is over 128 bytes");
  const banner = card.banner ? clipChars(card.banner.text, LIMITS.sourceDesc) : null;
  // A value too long for a row (an example to copy, a list of reasons) reads better whole in the
  // sub-title than cut at 30 characters; so do rows beyond the sixth.
  const fitting = card.fields.filter((f) => Array.from(f.value).length <= LIMITS.value);
  const rows = fitting.slice(0, LIMITS.rows);
  const overflow = card.fields.filter((f) => !rows.includes(f)).map((f) => `${f.label}：${f.value}`);
  const subTitle = [
    ...(card.banner && banner !== card.banner.text ? [card.banner.text] : []),
    ...overflow,
    ...(card.moreLines ? [t(card.locale, "ui.moreLines", { n: card.moreLines })] : []),
    ...(card.notes ?? []),
  ].join("\n");
  const linked = card.link ? ctx.link(card.link.path) : null;
  const url = linked && Buffer.byteLength(linked) <= LIMITS.urlBytes ? linked : null;
  // text_notice requires card_action (wecom.md 5.1): without a link of its own it opens the mini-app.
  const action = url ?? (type === "text_notice" ? ctx.link("/m") : null);
  return {
    type,
    taskId: ctx.taskId,
    source: banner && card.banner ? { desc: banner, color: DESC_COLOR[card.banner.tone] } : null,
    title: clipChars(card.title, LIMITS.title),
    // multiple_interaction has no sub_title_text: the subtitle is all the context it can carry.
    desc: card.subtitle ? clipChars(card.subtitle, LIMITS.titleDesc) : null,
    quote: card.lines?.length ? clipChars(card.lines.map(lineText).join("\n"), LIMITS.quote) : null,
    subTitle: subTitle ? clipChars(subTitle, LIMITS.subTitle) : null,
    rows: rows.map((f) => ({ keyname: clipChars(f.label, LIMITS.keyname), value: clipChars(f.value, LIMITS.value) })),
    action: action ? { url: action } : null,
    jump: url && card.link ? { title: clipChars(card.link.label, LIMITS.jumpTitle), url } : null,
    buttons: card.buttons.slice(0, LIMITS.buttons).map((b, i) => ({
      text: clipChars(b.label, LIMITS.buttonText),
      style: STYLE[b.style],
      key: encodeButtonKey(i, b.action, b.values),
    })),
    // The card body opens the link too, but nothing on it says so: a labelled url button (wecom.md 5.1,
    // button_list type 1) where a button is left, after the ones that call back.
    detail: type === "button_interaction" && url && card.link && card.buttons.length > 0 && card.buttons.length < LIMITS.buttons
      ? { text: Array.from(card.link.label).length <= LIMITS.buttonText ? card.link.label : t(card.locale, "btn.detail"), url }
      : null,
    selection: type === "button_interaction" ? selectionFor(card) : null,
    select: type === "multiple_interaction" ? select(card) : null,
    submit: type === "multiple_interaction" && card.select
      ? { text: clipChars(t(card.locale, "ui.confirm"), LIMITS.submitText), key: encodeButtonKey(0, card.select.action, card.select.values) }
      : null,
    replaceText: null as string | null,
  };
}

/**
 * A select next to buttons becomes button_selection, but only when a button of the select's action
 * lacks the chosen value (the approval card's reject reason). Choice cards whose buttons already carry
 * each option need none. Whether WeCom reports the selection is unconfirmed (wecom.md 2.2, 10): the
 * value is optional to the bot, and when the options do not fit in a key it is left out, not cut.
 */
function selectionFor(card: Card) {
  const s = card.select;
  if (!s || !card.buttons.some((b) => b.action === s.action && !(b.values && s.name in b.values))) return null;
  try {
    return select(card);
  } catch (err) {
    if (err instanceof KeyTooLongError) return null;
    throw err;
  }
}

function select(card: Card) {
  const s = card.select!;
  const options = s.options.slice(0, LIMITS.options);
  return {
    questionKey: encodeQuestionKey(s.action, s.name, options.map((o) => o.value)),
    title: clipChars(s.label, LIMITS.selectionTitle),
    options: options.map((o, i) => ({ id: String(i), text: clipChars(o.label, LIMITS.optionText) })),
  };
}

function lineText(l: CardLine): string {
  const price = l.price ? ` @ ${l.price}` : "";
  const total = l.total ? ` = ${l.total}` : "";
  return `${l.name} ${l.qty}${price}${total}${l.note ? `（${l.note}）` : ""}`;
}
