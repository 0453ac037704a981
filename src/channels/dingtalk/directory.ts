import type { Cache } from "../../cache/cache";
import type { DingtalkConfig } from "../../config";
import { ROLES, type Role } from "../../domain/roles";
import type { DirectoryRecord } from "../../services/users";
import { DingtalkApiError, type DingtalkClient, type Json } from "./client";

/** The DingTalk directory as our users table needs it: one member, with the roles DINGTALK_ROLE_MAP gives them. */
export interface DingtalkDirectory {
  /** topapi/v2/user/get (dingtalk.md 7) + role map; `found: false` when DingTalk no longer knows the userid. */
  lookup(userid: string): Promise<DirectoryRecord>;
  readonly managedRoles: readonly Role[];
}

const HOUR_MS = 60 * 60 * 1000;
// 60121 "user not found", 33012 "invalid userid" (unconfirmed codes): the member is gone.
const GONE_CODES = new Set(["60121", "33012"]);

export function createDingtalkDirectory(config: DingtalkConfig, deps: { client: DingtalkClient; cache: Cache }): DingtalkDirectory {
  const { client, cache } = deps;
  const managedRoles = ROLES.filter((r) => config.roleMap.some((rule) => rule.role === r));

  async function departmentName(id: number): Promise<string | null> {
    const key = `dingtalk:${config.corpId}:dept-name:${id}`;
    const hit = await cache.get(key);
    if (hit !== null) return hit || null;
    let name = "";
    try {
      const res = await client.oapi("/topapi/v2/department/get", { dept_id: id, language: "zh_CN" });
      name = typeof (res.result as Json | undefined)?.name === "string" ? String((res.result as Json).name) : "";
    } catch (err) {
      // A department out of the app's sight still lets the member in, just without a department name.
      if (!(err instanceof DingtalkApiError) || err.failure !== "rejected") throw err;
    }
    await cache.set(key, name, HOUR_MS);
    return name || null;
  }

  async function lookup(userid: string): Promise<DirectoryRecord> {
    let res: Json;
    try {
      res = await client.oapi("/topapi/v2/user/get", { userid, language: "zh_CN" });
    } catch (err) {
      if (err instanceof DingtalkApiError && err.code !== null && GONE_CODES.has(err.code)) return { platform: "dingtalk", platformUserId: userid, found: false };
      throw err;
    }
    const u = (res.result && typeof res.result === "object" ? res.result : {}) as Json;
    const departments = Array.isArray(u.dept_id_list) ? u.dept_id_list.filter((d): d is number => typeof d === "number") : [];
    const granted = ROLES.filter((role) => config.roleMap.some((rule) => rule.role === role && departments.includes(rule.id)));
    const manager = typeof u.manager_userid === "string" && u.manager_userid ? u.manager_userid : null;
    return {
      platform: "dingtalk",
      platformUserId: userid,
      found: true,
      name: typeof u.name === "string" && u.name ? u.name : userid,
      // mobile needs a contact permission (dingtalk.md 7): absent is not an error.
      mobile: typeof u.mobile === "string" && u.mobile ? u.mobile : null,
      department: departments[0] === undefined ? null : await departmentName(departments[0]),
      managerPlatformUserId: manager,
      active: u.active !== false,
      roles: { granted, managed: managedRoles },
    };
  }

  return { lookup, managedRoles };
}
