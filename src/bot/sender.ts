import type { InboundEvent } from "../channels/channel";
import type { UserRow } from "../db/models/users";
import { isUniqueViolation } from "../db/sequelize";
import { localeOf, type Locale } from "../domain/i18n";
import type { Actor } from "../domain/roles";
import type { BotDeps } from "./conversation";

export interface Sender {
  user: UserRow;
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

function findUser(deps: BotDeps, platform: string, platformUserId: string): Promise<UserRow | null> {
  return deps.serviceDeps.db.models.User.findOne({ where: { platform, platformUserId } });
}

async function createUser(deps: BotDeps, event: InboundEvent): Promise<UserRow> {
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
    return user;
  } catch (err) {
    // Two first messages at once (two instances): the other one created the row; use it.
    if (!isUniqueViolation(err)) throw err;
    const existing = await findUser(deps, event.platform, event.from);
    if (!existing) throw err;
    return existing;
  }
}
