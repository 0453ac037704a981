import type { Logger } from "pino";
import type { ServiceDeps } from "../../services/deps";
import { findPlatformUser } from "../../services/users";
import { refreshWithLeader } from "../directory-members";
import { refreshDirectoryUsers, type RefreshSummary, type RefreshUsersDeps } from "../directory-refresh";
import { DingtalkApiError } from "./client";
import type { DingtalkDirectory } from "./directory";

export type DingtalkRefreshSummary = RefreshSummary;

/**
 * The daily job: re-reads every active DingTalk user (topapi/v2/user/get + DINGTALK_ROLE_MAP) and
 * updates name, department, manager and mapped roles; people gone from the directory are deactivated.
 * DingTalk asking us to slow down ends the run; the next one resumes after the last member read.
 */
export function refreshDingtalkUsers(deps: RefreshUsersDeps & { directory: DingtalkDirectory }): Promise<RefreshSummary> {
  return refreshDirectoryUsers("dingtalk", deps, (err) => ({ code: err instanceof DingtalkApiError ? err.code : null }));
}

/** How long a member seen in our users table is taken as known before the table is asked again. */
export const FIRST_CONTACT_TTL_MS = 60 * 60 * 1000;
/** Known members kept at most; past it the oldest entries go first (they are asked for again, no more). */
const FIRST_CONTACT_MAX = 50_000;

/**
 * First contact over Stream: a member we have never seen is created from the directory with the roles
 * DINGTALK_ROLE_MAP gives them (and their direct leader, when not yet a user), before the bot reads
 * their message. Best effort: if DingTalk cannot tell us now, the bot looks them up again and creates
 * them the same way (bot/sender.ts).
 *
 * A member found in the users table is remembered for `ttlMs` (an hour): their next frames cost no
 * query and no promise (the call returns undefined, the frame goes straight on). Only existence is
 * remembered — name, roles, manager and active follow the directory through the daily refresh job as
 * before, and a row that disappears (or a userid the directory did not know) is looked up again once the
 * entry is older than the TTL. Frames of one new member that arrive together share a single lookup.
 */
export function createFirstContact(deps: {
  serviceDeps: ServiceDeps;
  directory: DingtalkDirectory;
  log: Logger;
  ttlMs?: number;
  /** Epoch ms (tests); Date.now by default. */
  clock?: () => number;
}): (userid: string) => Promise<void> | undefined {
  const ttlMs = deps.ttlMs ?? FIRST_CONTACT_TTL_MS;
  const clock = deps.clock ?? Date.now;
  // userid → when the entry stops being trusted (epoch ms); Map keeps insertion order, oldest first.
  const known = new Map<string, number>();
  const inFlight = new Map<string, Promise<void>>();

  async function check(userid: string): Promise<void> {
    try {
      if (!(await findPlatformUser(deps.serviceDeps, "dingtalk", userid))) {
        const record = await deps.directory.lookup(userid);
        if (record.found) await refreshWithLeader(deps.serviceDeps, record, (id) => deps.directory.lookup(id), { create: true });
      }
      known.delete(userid); // re-inserted at the end: the oldest entries stay first
      if (known.size >= FIRST_CONTACT_MAX) known.delete(known.keys().next().value!);
      known.set(userid, clock() + ttlMs);
    } catch (err) {
      deps.log.warn({ err, platform: "dingtalk" }, "first-contact lookup failed; the bot creates the user");
    } finally {
      inFlight.delete(userid);
    }
  }

  return function firstContact(userid: string): Promise<void> | undefined {
    const until = known.get(userid);
    if (until !== undefined && until > clock()) return undefined;
    let pending = inFlight.get(userid);
    if (!pending) {
      pending = check(userid);
      inFlight.set(userid, pending);
    }
    return pending;
  };
}
