import type { Logger } from "pino";
import type { ServiceDeps } from "../../services/deps";
import { findPlatformUser, refreshPlatformUser } from "../../services/users";
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
