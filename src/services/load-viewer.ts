import { DomainError } from "../domain/errors";
import { localeOf, type Locale } from "../domain/i18n";
import type { Viewer } from "../domain/order-access";
import { isRole, type Role } from "../domain/roles";
import type { ServiceDeps } from "./deps";

/** A signed-in person as the mini-app sees them: who, on which platform, and whose orders they oversee. */
export interface MiniAppUser extends Viewer {
  id: number;
  name: string;
  platform: string;
  roles: Role[];
  /** Their own choice of language (the bot's "English" / "中文", the mini-app's switch). */
  locale: Locale;
}

const MAX_DEPTH = 12;

/**
 * The user behind a session, or unauthorized when they no longer exist or were deactivated (a session
 * outlives neither). Roles are read fresh on every request, so a revoked role takes effect at once.
 */
export async function loadViewer(deps: ServiceDeps, userId: number): Promise<MiniAppUser> {
  const user = await deps.db.models.User.findByPk(userId, { attributes: ["id", "name", "platform", "roles", "active", "locale"] });
  if (!user || !user.active) throw new DomainError("unauthorized", "this account is no longer active");
  const roles = (user.roles ?? []).filter(isRole);
  return {
    id: user.id,
    name: user.name,
    platform: user.platform,
    roles,
    locale: localeOf(user.locale),
    actor: { kind: "user", userId: user.id, roles, label: `user:${user.id}` },
    teamIds: await teamOf(deps, user.id),
  };
}

/** The user and everyone who reports to them, directly or through others: one query per level. */
export async function teamOf(deps: ServiceDeps, userId: number): Promise<number[]> {
  const team = new Set([userId]);
  let level = [userId];
  // Reporting lines are short; the bound only stops a cycle someone typed into the directory.
  for (let depth = 0; depth < MAX_DEPTH && level.length; depth++) {
    const reports = await deps.db.models.User.findAll({ where: { managerId: level }, attributes: ["id"] });
    level = reports.map((r) => r.id).filter((id) => !team.has(id));
    for (const id of level) team.add(id);
  }
  return [...team];
}

/** Names of users by id, for "who did it" in an order's history. */
export async function userNames(deps: ServiceDeps, ids: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await deps.db.models.User.findAll({ where: { id: unique }, attributes: ["id", "name"] });
  return new Map(rows.map((u) => [u.id, u.name]));
}
