import type { InboundEvent } from "../channels/channel";
import { localeOf, type Locale } from "../domain/i18n";
import { isRole, type Actor, type Role } from "../domain/roles";
import { refreshWithLeader } from "../channels/directory-members";
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
 * directory and created the way a first sign-in creates them: with the roles the role map gives them
 * (WECOM_ROLE_MAP, DINGTALK_ROLE_MAP; none without a map), and their direct leader as manager.
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

/**
 * First contact: the same path as a first sign-in and the nightly refresh (refreshPlatformUser), so the
 * mapped roles and the rule that a refresh changes only those are one rule everywhere. A direct leader
 * we do not know yet is created from the directory too; if that lookup fails, the sender still gets in.
 */
async function createUser(deps: BotDeps, event: InboundEvent): Promise<SenderUser> {
  const channel = deps.channels.get(event.platform);
  if (!channel) throw new Error(`no ${event.platform} channel is enabled for an inbound event`);
  const lookup = (platformUserId: string) => channel.resolveUser(platformUserId);
  const person = await lookup(event.from);
  // Two first messages at once (two instances): refreshPlatformUser updates the row the other one created.
  const { user, outcome } = await refreshWithLeader(deps.serviceDeps, person, lookup, { create: true });
  if (outcome === "created") deps.log.info({ userId: user?.id, platform: event.platform, roles: user?.roles }, "user created on first contact");
  const created = await findUser(deps, event.platform, event.from);
  if (!created) throw new Error(`${event.platform} user ${event.from} was neither found nor created`);
  return created;
}
