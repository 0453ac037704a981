import nunjucks from "nunjucks";
import type { Card } from "../../domain/card";
import { t } from "../../domain/i18n";

/**
 * Card → HTML for the dev chat console, from `card.njk` in `templatesDir` (cards/simulator/).
 * Autoescape is on: card text comes from customers and reps and must never become markup.
 */
export function createSimulatorCardRenderer(templatesDir: string): (card: Card, linkBase: string) => string {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), {
    autoescape: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  return (card, linkBase) =>
    env.render("card.njk", {
      card,
      href: card.link ? linkBase.replace(/\/+$/, "") + card.link.path : null,
      ui: {
        confirm: t(card.locale, "ui.confirm"),
        moreLines: card.moreLines ? t(card.locale, "ui.moreLines", { n: card.moreLines }) : null,
      },
    });
}
