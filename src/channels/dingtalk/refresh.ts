import type { Logger } from "pino";
import type { ServiceDeps } from "../../services/deps";
import { findPlatformUser, listUsers, refreshPlatformUser } from "../../services/users";
import { ChannelError } from "../channel";
import type { DingtalkDirectory } from "./directory";

export type DingtalkRefreshSummary = {
  checked: number;
  updated: number;
  deactivated: number;
  unchanged: number;
  skipped: number;
  interrupted: boolean;
};

/**
 * The daily job: re-reads every active DingTalk user (topapi/v2/user/get + DINGTALK_ROLE_MAP) and
 * updates name, department, manager and mapped roles; people gone from the directory are deactivated.
 * One member at a time; DingTalk asking us to slow down ends the run (the rest waits for tomorrow).
 */
export async function refreshDingtalkUsers(deps: { serviceDeps: ServiceDeps; directory: DingtalkDirectory; log: Logger; budgetMs?: number }): Promise<DingtalkRefreshSummary> {
  const summary: DingtalkRefreshSummary = { checked: 0, updated: 0, deactivated: 0, unchanged: 0, skipped: 0, interrupted: false };
  const stopAt = deps.budgetMs === undefined ? Infinity : Date.now() + deps.budgetMs;
  for (const user of await listUsers(deps.serviceDeps, { platform: "dingtalk", active: true })) {
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
      summary.skipped++;
      deps.log.warn({ platform: "dingtalk", userId: user.id }, "dingtalk user not readable, left as is");
      continue;
    }
    summary.checked++;
    const { outcome } = await refreshPlatformUser(deps.serviceDeps, record);
    if (outcome === "updated" || outcome === "deactivated" || outcome === "unchanged") summary[outcome]++;
  }
  deps.log.info({ platform: "dingtalk", ...summary }, "dingtalk users refreshed");
  return summary;
}

/**
 * First contact over Stream: a member we have never seen is created from the directory with the roles
 * DINGTALK_ROLE_MAP gives them, before the bot reads their message (the bot alone would create them
 * without roles). Best effort: if DingTalk cannot tell us now, the bot creates them as usual.
 */
export function createFirstContact(deps: { serviceDeps: ServiceDeps; directory: DingtalkDirectory; log: Logger }) {
  const known = new Set<string>();
  return async function firstContact(userid: string): Promise<void> {
    if (known.has(userid)) return;
    try {
      if (!(await findPlatformUser(deps.serviceDeps, "dingtalk", userid))) {
        const record = await deps.directory.lookup(userid);
        if (record.found) await refreshPlatformUser(deps.serviceDeps, record, { create: true });
      }
      known.add(userid);
    } catch (err) {
      deps.log.warn({ err, platform: "dingtalk" }, "first-contact lookup failed; the bot creates the user");
    }
  };
}
