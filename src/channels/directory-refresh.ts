import type { Logger } from "pino";
import type { ServiceDeps } from "../services/deps";
import { listUsers, type DirectoryRecord } from "../services/users";
import { refreshWithLeader } from "./directory-members";
import { ChannelError, type Platform } from "./channel";

/** A platform's member directory, as the nightly refresh reads it. */
export interface MemberDirectory {
  lookup(userid: string): Promise<DirectoryRecord>;
}

export interface RefreshUsersDeps {
  serviceDeps: ServiceDeps;
  directory: MemberDirectory;
  log: Logger;
  /** Stop (interrupted) after this long, e.g. to finish inside the job lock; the rest waits for the next run. */
  budgetMs?: number;
}

/** A type, not an interface, so it fits a job's Record<string, unknown> result. */
export type RefreshSummary = {
  checked: number;
  updated: number;
  deactivated: number;
  unchanged: number;
  /** Members the app may not read (outside its visibility): left as they are. */
  skipped: number;
  /** The platform asked us to slow down, was unreachable, or the budget ran out: the rest waits for the next run. */
  interrupted: boolean;
};

const CURSOR_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Re-reads every active user of `platform` from its directory and updates name, department, manager
 * (created from the directory when not yet a user) and mapped roles; people disabled, gone or departed
 * are deactivated. One member at a time: a daily job has time, and the platform's per-API limits are
 * shared with everything else. An interrupted run leaves a cursor, and the next starts after it, so the
 * tail of the list is not always the part skipped.
 * `describe` adds the platform's error code to the log line of a member that could not be read.
 */
export async function refreshDirectoryUsers(
  platform: Platform,
  deps: RefreshUsersDeps,
  describe: (err: ChannelError) => Record<string, unknown> = () => ({}),
): Promise<RefreshSummary> {
  const summary: RefreshSummary = { checked: 0, updated: 0, deactivated: 0, unchanged: 0, skipped: 0, interrupted: false };
  const stopAt = deps.budgetMs === undefined ? Infinity : Date.now() + deps.budgetMs;
  const { cache } = deps.serviceDeps;
  const cursorKey = `${platform}:users-refresh:after`;
  const after = Number((await cache.get(cursorKey)) ?? 0);
  const users = await listUsers(deps.serviceDeps, { platform, active: true });
  const queue = [...users.filter((u) => u.id > after), ...users.filter((u) => u.id <= after)];
  let last: number | null = null;
  for (const user of queue) {
    if (Date.now() >= stopAt) {
      summary.interrupted = true;
      break;
    }
    let record;
    try {
      record = await deps.directory.lookup(user.platformUserId);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      if (err.failure === "retry_later") {
        summary.interrupted = true;
        break;
      }
      last = user.id;
      // Outside the app's visibility is not evidence that they left, so nothing changes.
      summary.skipped++;
      deps.log.warn({ platform, userId: user.id, ...describe(err) }, "directory user not readable, left as is");
      continue;
    }
    summary.checked++;
    // A direct leader who is not one of our users yet is created from the directory, as on first contact.
    const { outcome } = await refreshWithLeader(deps.serviceDeps, record, (id) => deps.directory.lookup(id));
    if (outcome === "updated" || outcome === "deactivated" || outcome === "unchanged") summary[outcome]++;
    last = user.id;
  }
  if (summary.interrupted && last !== null) await cache.set(cursorKey, String(last), CURSOR_TTL_MS);
  else if (!summary.interrupted) await cache.del(cursorKey);
  deps.log.info({ platform, ...summary }, "directory users refreshed");
  return summary;
}
