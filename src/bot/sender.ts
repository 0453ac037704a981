import type { InboundEvent } from "../channels/channel";
import { isUniqueViolation } from "../db/sequelize";
import { localeOf, type Locale } from "../domain/i18n";
import { isRole, type Actor, type Role } from "../domain/roles";
import type { BotDeps } from "./conversation";

/** What a turn needs of its sender's user row. */
export interface SenderUser {
  id: number;
  name: string;
  roles: Role[];
  locale: string;
  active: boolean;
}

export interface Sender {
  user: SenderUser;
  actor: Actor;
  locale: Locale;
}

/**
 * Our user for a platform sender. Someone writing for the first time is looked up in the platform's
 * directory and created without roles: an admin grants roles, the bot never guesses them.
 */
export async function resolveSender(deps: BotDeps, event: InboundEvent): Promise<Sender> {
  const user = (await findUser(deps, event.platform, event.from)) ?? (await createUser(deps, event));
  // A deactivated user keeps talking to the bot but acts with no role at all.
  const roles = user.active ? user.roles : [];
  return {
    user,
    actor: { kind: "user", userId: user.id, roles, label: `user:${user.id}` },
    locale: localeOf(user.locale),
  };
}

interface UserColumns {
  id: number | string;
  name: string;
  roles: string | null;
  locale: string | null;
  active: number | boolean | string | null;
}

/**
 * Read on the driver's prepared path, not through the model: every event the bot handles starts here, and
 * Sequelize's findOne (query building, escaping, a model instance) was most of a "帮助" turn's CPU after
 * the database itself (bench:wecom profiles of the bot working off a burst).
 */
const FIND_USER = "SELECT id, name, roles, locale, active FROM users WHERE platform = ? AND platform_user_id = ?";

async function findUser(deps: BotDeps, platform: string, platformUserId: string): Promise<SenderUser | null> {
  const [row] = await deps.serviceDeps.db.prepared.all<UserColumns>(FIND_USER, [platform, platformUserId]);
  if (!row) return null;
  return {
    id: Number(row.id),
    name: row.name,
    // The model's csvList column: comma-separated, empty for none. Only roles we know act as roles.
    roles: (row.roles ?? "").split(",").filter(isRole),
    locale: row.locale ?? "zh-CN",
    // TINYINT on MariaDB, INTEGER on SQLite: 1/0 (a driver may hand back a string).
    active: row.active === true || Number(row.active) === 1,
  };
}

async function createUser(deps: BotDeps, event: InboundEvent): Promise<SenderUser> {
  const channel = deps.channels.get(event.platform);
  if (!channel) throw new Error(`no ${event.platform} channel is enabled for an inbound event`);
  const person = await channel.resolveUser(event.from);
  const manager = person.managerPlatformUserId
    ? await findUser(deps, event.platform, person.managerPlatformUserId)
    : null;
  try {
    const user = await deps.serviceDeps.db.models.User.create({
      platform: event.platform,
      platformUserId: event.from,
      name: person.name,
      mobile: person.mobile,
      roles: [],
      managerId: manager?.id ?? null,
      department: person.department,
    });
    deps.log.info({ userId: user.id, platform: event.platform }, "user created on first contact");
    return { id: user.id, name: user.name, roles: user.roles, locale: user.locale, active: user.active };
  } catch (err) {
    // Two first messages at once (two instances): the other one created the row; use it.
    if (!isUniqueViolation(err)) throw err;
    const existing = await findUser(deps, event.platform, event.from);
    if (!existing) throw err;
    return existing;
  }
}
