import nunjucks from "nunjucks";
import type { Card, CardButton, CardLine } from "../../domain/card";
import { t } from "../../domain/i18n";
import { MAX_BUTTONS, encodeKey } from "./keys";

/** A button as rendered: its label, our key (template callbacks) and, for action cards, a URL. */
export interface RenderedButton {
  label: string;
  key: string;
  style: CardButton["style"];
}

export interface RenderContext {
  /** Absolute mini-app link for a path (the H5 sign-in page, h5.ts). */
  link(path: string): string;
  /** Where a button of an action card (no callbacks) leads: a signed action link (actions.ts). */
  buttonUrl(button: RenderedButton): string;
}

export interface DingtalkRenderer {
  /** Every variable of the card templates (cards/dingtalk/*.json), all strings (dingtalk.md 5). */
  cardParams(card: Card, ctx: RenderContext): { params: Record<string, string>; buttons: RenderedButton[] };
  /** sampleActionCard / sampleActionCard2..6 (dingtalk.md 4): buttons open URLs. */
  actionCard(card: Card, ctx: RenderContext): { msgKey: string; msgParam: Record<string, string> };
  markdown(card: Card, ctx: Pick<RenderContext, "link"> | null): { title: string; text: string };
  text(text: string): { content: string };
}

// Not published for robot messages; kept well inside what DingTalk shows without folding (unconfirmed).
const MAX_TEXT = 4000;
const MAX_TITLE = 64;
const MAX_LABEL = 20;

/** The buttons a card shows on DingTalk: its own, or, for a choice without buttons, one per option. */
export function buttonsOf(card: Card): RenderedButton[] {
  const own = card.buttons.map((b) => ({ label: b.label, key: encodeKey(b.action, b.values), style: b.style }));
  if (own.length > 0 || !card.select) return own.slice(0, MAX_BUTTONS);
  // Only a select standing alone becomes buttons; next to buttons (a reject reason) it is optional and dropped.
  const s = card.select;
  return s.options.slice(0, MAX_BUTTONS).map((o) => ({ label: o.label, key: encodeKey(s.action, { ...s.values, [s.name]: o.value }), style: "default" as const }));
}

export function createDingtalkRenderer(templatesDir: string): DingtalkRenderer {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), { autoescape: false, trimBlocks: true, lstripBlocks: true });
  env.addFilter("md", (v: unknown) => escapeMarkdown(String(v ?? "")));

  function markdownBody(card: Card, link: { label: string; url: string } | null): string {
    const text = env.render("markdown.njk", {
      card,
      lines: (card.lines ?? []).map(lineText),
      more: card.moreLines ? t(card.locale, "ui.moreLines", { n: card.moreLines }) : null,
      link,
    });
    return clip(text.replace(/\n{3,}/g, "\n\n").trim(), MAX_TEXT);
  }

  const linkOf = (card: Card, link: ((p: string) => string) | null) =>
    card.link && link ? { label: clip(card.link.label, MAX_LABEL), url: link(card.link.path) } : null;

  return {
    cardParams(card, ctx) {
      const buttons = buttonsOf(card);
      const params: Record<string, string> = {
        title: clip(card.title, MAX_TITLE),
        subtitle: card.subtitle ?? "",
        banner: card.banner?.text ?? "",
        banner_tone: card.banner?.tone ?? "",
        fields_md: card.fields.map((f) => `**${escapeMarkdown(f.label)}**：${escapeMarkdown(f.value)}`).join("  \n"),
        lines_md: [...(card.lines ?? []).map((l, i) => `${i + 1}. ${escapeMarkdown(lineText(l))}`), ...(card.moreLines ? [t(card.locale, "ui.moreLines", { n: card.moreLines })] : [])].join("  \n"),
        notes: (card.notes ?? []).join("\n"),
        link_label: card.link ? clip(card.link.label, MAX_LABEL) : "",
        link_url: card.link ? ctx.link(card.link.path) : "",
        // "open" while something can be tapped; templates may grey the card out when "closed".
        status: buttons.length > 0 ? "open" : "closed",
      };
      for (let i = 0; i < MAX_BUTTONS; i++) {
        const b = buttons[i];
        params[`btn${i + 1}_label`] = b ? clip(b.label, MAX_LABEL) : "";
        params[`btn${i + 1}_key`] = b?.key ?? "";
        params[`btn${i + 1}_style`] = b?.style ?? "";
      }
      return { params, buttons };
    },
    actionCard(card, ctx) {
      const buttons = buttonsOf(card).map((b) => ({ title: clip(b.label, MAX_LABEL), url: ctx.buttonUrl(b) }));
      const link = linkOf(card, ctx.link);
      if (link) buttons.push({ title: link.label, url: link.url });
      const title = clip(card.title, MAX_TITLE);
      const text = markdownBody(card, null);
      const shown = buttons.slice(0, 6);
      if (shown.length <= 1) {
        const only = shown[0] ?? { title: t(card.locale, "link.miniApp"), url: ctx.link("/m") };
        return { msgKey: "sampleActionCard", msgParam: { title, text, singleTitle: only.title, singleURL: only.url } };
      }
      const msgParam: Record<string, string> = { title, text };
      shown.forEach((b, i) => {
        msgParam[`actionTitle${i + 1}`] = b.title;
        msgParam[`actionURL${i + 1}`] = b.url;
      });
      return { msgKey: `sampleActionCard${shown.length}`, msgParam };
    },
    markdown(card, ctx) {
      return { title: clip(card.title, MAX_TITLE), text: markdownBody(card, ctx ? linkOf(card, ctx.link) : null) };
    },
    text: (text) => ({ content: clip(text, MAX_TEXT) }),
  };
}

/**
 * Markdown control characters become full-width look-alikes: card text (a customer's name, a product)
 * cannot add links, emphasis, tables or @mentions. Whether DingTalk honours backslash escapes is unconfirmed.
 */
const FULL_WIDTH: Record<string, string> = { "<": "＜", ">": "＞", "[": "［", "]": "］", "*": "＊", "`": "｀", "|": "｜", "@": "＠", "#": "＃" };
export function escapeMarkdown(text: string): string {
  return text.replace(/[<>[\]*`|@#]/g, (c) => FULL_WIDTH[c] ?? c);
}

function lineText(l: CardLine): string {
  const price = l.price ? ` @ ${l.price}` : "";
  const total = l.total ? ` = ${l.total}` : "";
  return `${l.name} ${l.qty}${price}${total}${l.note ? `（${l.note}）` : ""}`;
}

function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}
