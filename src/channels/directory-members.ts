import type { Actor } from "../domain/roles";
import { DomainError } from "../domain/errors";
import type { ServiceDeps } from "../services/deps";
import { DIRECTORY_ACTOR, findPlatformUser, refreshPlatformUser, type DirectoryRecord, type RefreshOutcome, type UserView } from "../services/users";

/** Asks a platform's directory about one person (a directory's lookup, a channel's resolveUser). */
export type DirectoryLookup = (platformUserId: string) => Promise<DirectoryRecord>;

/**
 * refreshPlatformUser, after adding the person's direct leader from the directory when we do not know
 * them yet, so "the rep's manager" has someone to route to. The directory is asked here, in the channels'
 * layer; the service only stores what it is handed. Used on first contact, first sign-in, the nightly
 * refresh and by `users set-roles`.
 */
export async function refreshWithLeader(
  deps: ServiceDeps,
  record: DirectoryRecord,
  lookup: DirectoryLookup,
  opts: { create?: boolean; actor?: Actor } = {},
): Promise<{ user: UserView | null; outcome: RefreshOutcome }> {
  await addLeader(deps, record, lookup, opts.actor ?? DIRECTORY_ACTOR);
  return refreshPlatformUser(deps, record, opts);
}

/**
 * A member we have not met yet, created from the directory (with mapped roles and their leader), so roles
 * can be given before their first message; nothing happens for one we know. Refuses one who left.
 */
export async function addFromDirectory(deps: ServiceDeps, platform: string, platformUserId: string, lookup: DirectoryLookup, actor: Actor): Promise<void> {
  if (await findPlatformUser(deps, platform, platformUserId)) return;
  const record = await lookup(platformUserId);
  if (!record.found) throw new DomainError("not_found", `the ${platform} directory has no member ${platformUserId}`);
  if (!record.active) throw new DomainError("not_found", `${platform} member ${platformUserId} is disabled or has left, in the directory`);
  await refreshWithLeader(deps, record, lookup, { create: true, actor });
}

/**
 * Creates the person's direct leader from the directory when we do not know them yet. One level only:
 * the leader's own leader is linked if already known, never looked up. Best effort: a leader WeCom or
 * DingTalk cannot tell us about now is logged, and the person goes on without a manager, as before.
 */
async function addLeader(deps: ServiceDeps, record: DirectoryRecord, lookup: DirectoryLookup, actor: Actor): Promise<void> {
  if (!record.found || !record.active) return;
  const { platform } = record;
  const leaderId = record.managerPlatformUserId;
  if (!leaderId || leaderId === record.platformUserId) return;
  if (await findPlatformUser(deps, platform, leaderId)) return;
  try {
    const leader = await lookup(leaderId);
    if (!leader.found || !leader.active) {
      deps.log.info({ platform, leader: leaderId }, "direct leader is not an active member in the directory; not added");
      return;
    }
    const { user, outcome } = await refreshPlatformUser(deps, leader, { create: true, actor });
    if (outcome === "created") deps.log.info({ platform, userId: user?.id, leaderOf: record.platformUserId }, "direct leader created from the directory");
  } catch (err) {
    deps.log.warn({ err, platform, leader: leaderId }, "direct leader could not be added; going on without a manager");
  }
}
