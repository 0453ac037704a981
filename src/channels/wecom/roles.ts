import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import type { RoleRule, WecomConfig } from "../../config";
import { ROLES, type Role } from "../../domain/roles";
import type { DirectoryRecord } from "../../services/users";
import { ChannelError } from "../channel";
import { WecomApiError, type ApiResult, type WecomClient } from "./client";
import { departmentName } from "./departments";

export interface WecomDirectoryDeps {
  client: WecomClient;
  cache: Cache;
  log: Logger;
}

/** The WeCom directory as our users table needs it: one member, with the roles WECOM_ROLE_MAP gives them. */
export interface WecomDirectory {
  /** user/get (wecom.md 8.1) + role map; `found: false` when WeCom no longer knows the userid. */
  lookup(userid: string): Promise<DirectoryRecord>;
  /** The roles the map decides for WeCom users; the others are granted by hand. */
  readonly managedRoles: readonly Role[];
}

/** A tag's members (wecom.md 8.3): userids, lowercased (userids are case-insensitive), and departments. */
interface TagMembers {
  userids: string[];
  departments: number[];
}

const HOUR_MS = 60 * 60 * 1000;
const REFUSED_TTL_MS = 5 * 60 * 1000;
// 40003 invalid userid, 60111 userid not found (wecom.md 3.2): the member was deleted.
const GONE_ERRCODES = new Set([40003, 60111]);
// status 2 disabled, 5 left the company; 1 active and 4 not yet activated stay active (wecom.md 8.1).
const INACTIVE_STATUS = new Set([2, 5]);

/** Roles a member gets from the rules; `subtree(id)` is a department and all departments below it. */
export function mapRoles(
  rules: readonly RoleRule[],
  member: { userid: string; departments: readonly number[] },
  tags: ReadonlyMap<number, TagMembers>,
  subtree: (departmentId: number) => readonly number[],
): Role[] {
  const inDepartment = (id: number) => subtree(id).some((d) => member.departments.includes(d));
  const userid = member.userid.toLowerCase();
  const granted = rules.filter((rule) => {
    if (rule.kind === "dept") return inDepartment(rule.id);
    const tag = tags.get(rule.id);
    // A tag can hold whole departments; their members are in the tag too (wecom.md 8.3).
    return !!tag && (tag.userids.includes(userid) || tag.departments.some(inDepartment));
  });
  return ROLES.filter((r) => granted.some((g) => g.role === r));
}

/** Member lookups and the role map; tag members and department trees are cached for an hour. */
export function createWecomDirectory(config: WecomConfig, deps: WecomDirectoryDeps): WecomDirectory {
  const { client, cache, log } = deps;
  const rules = config.roleMap;
  const managedRoles = ROLES.filter((r) => rules.some((rule) => rule.role === r));
  const prefix = `wecom:${config.corpId}:${config.agentId}`;

  /**
   * A cached JSON value, or null when WeCom refused to tell us (60011 outside the app's visibility, a
   * deleted tag): remembered briefly, so fixing visibility in the console takes effect soon.
   */
  async function cached<T>(key: string, load: () => Promise<T>, what: Record<string, unknown>): Promise<T | null> {
    const hit = await cache.get(key);
    if (hit) return JSON.parse(hit) as T | null;
    try {
      const value = await load();
      await cache.set(key, JSON.stringify(value), HOUR_MS);
      return value;
    } catch (err) {
      if (!(err instanceof ChannelError) || err.failure !== "rejected") throw err;
      log.warn({ platform: "wecom", ...what, errcode: err instanceof WecomApiError ? err.errcode : null }, "wecom directory entry not readable");
      await cache.set(key, "null", REFUSED_TTL_MS);
      return null;
    }
  }

  const tagMembers = (tagid: number) =>
    cached<TagMembers>(`${prefix}:tag:${tagid}`, async () => {
      const res = await client.get("/cgi-bin/tag/get", { tagid: String(tagid) });
      const users = Array.isArray(res.userlist) ? res.userlist : [];
      return {
        userids: users.map((u) => (u as { userid?: unknown })?.userid).filter((u): u is string => typeof u === "string" && u !== "").map((u) => u.toLowerCase()),
        departments: numbers(res.partylist),
      };
    }, { tagid });

  // department/simplelist?id= answers the department and everything below it (wecom.md 8.2).
  const departmentTree = (id: number) =>
    cached<number[]>(`${prefix}:subtree:${id}`, async () => {
      const res = await client.get("/cgi-bin/department/simplelist", { id: String(id) });
      const ids = Array.isArray(res.department_id) ? res.department_id.map((d) => (d as { id?: unknown })?.id) : [];
      return [id, ...numbers(ids).filter((d) => d !== id)];
    }, { department: id });

  /**
   * The roles the map gives a member, or null when part of the map could not be read: then nobody's
   * managed roles change, rather than everyone losing a role because one tag is out of sight.
   */
  async function rolesOf(userid: string, departments: number[]): Promise<Role[] | null> {
    if (rules.length === 0) return [];
    const tags = new Map<number, TagMembers>();
    for (const rule of rules) {
      if (rule.kind !== "tag" || tags.has(rule.id)) continue;
      const members = await tagMembers(rule.id);
      if (!members) return null;
      tags.set(rule.id, members);
    }
    const deptIds = new Set([...rules.filter((r) => r.kind === "dept").map((r) => r.id), ...[...tags.values()].flatMap((t) => t.departments)]);
    const trees = new Map<number, number[]>();
    for (const id of deptIds) {
      const tree = await departmentTree(id);
      if (!tree) return null;
      trees.set(id, tree);
    }
    return mapRoles(rules, { userid, departments }, tags, (id) => trees.get(id) ?? [id]);
  }

  async function lookup(userid: string): Promise<DirectoryRecord> {
    let u: ApiResult;
    try {
      u = await client.get("/cgi-bin/user/get", { userid });
    } catch (err) {
      if (err instanceof WecomApiError && err.errcode !== null && GONE_ERRCODES.has(err.errcode)) {
        return { platform: "wecom", platformUserId: userid, found: false };
      }
      throw err;
    }
    const departments = numbers(u.department);
    const leaders = Array.isArray(u.direct_leader) ? u.direct_leader.filter((l): l is string => typeof l === "string" && l !== "") : [];
    const main = typeof u.main_department === "number" ? u.main_department : departments[0];
    const active = !(typeof u.status === "number" && INACTIVE_STATUS.has(u.status));
    // No role lookups for someone who left: they are about to be deactivated or refused.
    const roles = active ? await rolesOf(userid, departments) : null;
    return {
      platform: "wecom",
      platformUserId: userid,
      found: true,
      name: typeof u.name === "string" && u.name ? u.name : userid,
      // Not returned to apps created after 2022-06-20 (wecom.md 8.1): null, not an error.
      mobile: typeof u.mobile === "string" && u.mobile ? u.mobile : null,
      department: main === undefined ? null : await departmentName({ client, cache, prefix }, main),
      // direct_leader may list up to 5; the first is "the" manager for approval routing.
      managerPlatformUserId: leaders[0] ?? null,
      active,
      roles: roles ? { granted: roles, managed: managedRoles } : { granted: [], managed: [] },
    };
  }

  return { lookup, managedRoles };
}

const numbers = (value: unknown): number[] =>
  Array.isArray(value) ? value.filter((v): v is number => typeof v === "number" && Number.isInteger(v)) : [];
