import type { Logger } from "pino";
import type { ServiceDeps } from "../../services/deps";
import { listUsers, refreshPlatformUser } from "../../services/users";
import { ChannelError } from "../channel";
import { WecomApiError } from "./client";
import type { WecomDirectory } from "./roles";

export interface RefreshWecomUsersDeps {
  serviceDeps: ServiceDeps;
  directory: WecomDirectory;
  log: Logger;
  /** Stop (interrupted) after this long, e.g. to finish inside the job lock; the rest waits for the next run. */
  budgetMs?: number;
}

const CURSOR_KEY = "wecom:users-refresh:after";
const CURSOR_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A type, not an interface, so it fits a job's Record<string, unknown> result. */
export type RefreshSummary = {
  checked: number;
  updated: number;
  deactivated: number;
  unchanged: number;
  /** Members the app may not read (outside its visibility): left as they are. */
  skipped: number;
  /** WeCom asked us to slow down, was unreachable, or the budget ran out: the rest waits for the next run. */
  interrupted: boolean;
};

/**
 * Re-reads every active WeCom user from the directory (user/get + WECOM_ROLE_MAP) and updates name,
 * department, manager and mapped roles; people disabled, gone or departed are deactivated. One member
 * at a time: a daily job has time, and WeCom's per-API limits are shared with everything else.
 */
export async function refreshWecomUsers(deps: RefreshWecomUsersDeps): Promise<RefreshSummary> {
  const summary: RefreshSummary = { checked: 0, updated: 0, deactivated: 0, unchanged: 0, skipped: 0, interrupted: false };
  const stopAt = deps.budgetMs === undefined ? Infinity : Date.now() + deps.budgetMs;
  const { cache } = deps.serviceDeps;
  // An interrupted run left a cursor: start after it, so the tail of the list is not always the part skipped.
  const after = Number((await cache.get(CURSOR_KEY)) ?? 0);
  const users = await listUsers(deps.serviceDeps, { platform: "wecom", active: true });
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
      // 60011: outside the app's visibility. Not evidence that they left, so nothing changes.
      summary.skipped++;
      deps.log.warn({ platform: "wecom", userId: user.id, errcode: err instanceof WecomApiError ? err.errcode : null }, "wecom user not readable, left as is");
      continue;
    }
    summary.checked++;
    const { outcome } = await refreshPlatformUser(deps.serviceDeps, record);
    if (outcome === "updated" || outcome === "deactivated" || outcome === "unchanged") summary[outcome]++;
    last = user.id;
  }
  if (summary.interrupted && last !== null) await cache.set(CURSOR_KEY, String(last), CURSOR_TTL_MS);
  else if (!summary.interrupted) await cache.del(CURSOR_KEY);
  deps.log.info({ platform: "wecom", ...summary }, "wecom users refreshed");
  return summary;
}
