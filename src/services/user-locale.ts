import { DomainError } from "../domain/errors";
import type { Locale } from "../domain/i18n";
import type { ServiceDeps } from "./deps";

/**
 * The language a person reads ChatOrder in, in chat and in the mini-app alike: set by themselves (the
 * bot's "English" / "中文", the mini-app's language switch). A preference, not a permission, so it is
 * not audited.
 */
export async function setUserLocale(deps: ServiceDeps, userId: number, locale: Locale): Promise<{ changed: boolean }> {
  const user = await deps.db.models.User.findByPk(userId, { attributes: ["id", "locale"] });
  if (!user) throw new DomainError("not_found", `no user ${userId}`);
  if (user.locale === locale) return { changed: false };
  await user.update({ locale });
  return { changed: true };
}
