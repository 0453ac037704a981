import { refreshDirectoryUsers, type RefreshSummary, type RefreshUsersDeps } from "../directory-refresh";
import { WecomApiError } from "./client";
import type { WecomDirectory } from "./roles";

export type { RefreshSummary };

export type RefreshWecomUsersDeps = RefreshUsersDeps & { directory: WecomDirectory };

/** The nightly WeCom refresh (user/get + WECOM_ROLE_MAP); 60011 (outside visibility) leaves a member as is. */
export function refreshWecomUsers(deps: RefreshWecomUsersDeps): Promise<RefreshSummary> {
  return refreshDirectoryUsers("wecom", deps, (err) => ({ errcode: err instanceof WecomApiError ? err.errcode : null }));
}
