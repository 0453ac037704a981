import type { Transaction } from "sequelize";
import type { UserRow } from "../db/models/users";
import { isUniqueViolation } from "../db/sequelize";
import { DomainError } from "../domain/errors";
import { ROLES, isRole, type Actor, type Role } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { diff, recordAudit } from "./support/audit";

/** The platforms a user can come from (the Platform type of channels/, which services may not import). */
export const USER_PLATFORMS = ["wecom", "dingtalk", "simulator"] as const;
export type UserPlatform = (typeof USER_PLATFORMS)[number];

export interface UserView {
  id: number;
  platform: string;
  platformUserId: string;
  name: string;
  mobile: string | null;
  department: string | null;
  managerId: number | null;
  roles: Role[];
  active: boolean;
}

/**
 * A person as a platform's directory describes them today, already resolved by the channel.
 * `roles.managed` are the roles the directory decides (e.g. the ones named in WECOM_ROLE_MAP); the
 * others are granted by hand and a refresh leaves them alone.
 */
export type DirectoryRecord = { platform: string; platformUserId: string } & (
  | {
      found: true;
      name: string;
      mobile: string | null;
      department: string | null;
      managerPlatformUserId: string | null;
      /** false when the directory says the person is disabled or has left. */
      active: boolean;
      roles: { granted: readonly Role[]; managed: readonly Role[] };
    }
  | { found: false }
);

export type RefreshOutcome = "created" | "updated" | "unchanged" | "deactivated" | "absent";

/** The directory sync, as it appears in the audit trail. */
export const DIRECTORY_ACTOR: Actor = Object.freeze({ kind: "system", userId: null, roles: [], label: "system:directory" });

export async function findPlatformUser(deps: ServiceDeps, platform: string, platformUserId: string): Promise<UserView | null> {
  const row = await deps.db.models.User.findOne({ where: { platform, platformUserId } });
  return row ? present(row) : null;
}

/** Users by id, optionally of one platform and/or only the active ones. */
export async function listUsers(deps: ServiceDeps, filter: { platform?: string; active?: boolean } = {}): Promise<UserView[]> {
  const where: { platform?: string; active?: boolean } = {};
  if (filter.platform !== undefined) where.platform = checkPlatform(filter.platform);
  if (filter.active !== undefined) where.active = filter.active;
  const rows = await deps.db.models.User.findAll({ where, order: [["id", "ASC"]] });
  return rows.map(present);
}

/** The platform and roles of a set-roles request, or validation_failed: checked before anything is written. */
export function checkRolesInput(input: { platform: string; roles: readonly string[] }): { platform: UserPlatform; roles: Role[] } {
  const platform = checkPlatform(input.platform);
  const unknown = input.roles.filter((r) => !isRole(r));
  if (unknown.length) {
    throw new DomainError("validation_failed", `unknown role ${unknown.join(", ")}; roles are ${ROLES.join(", ")}`, { path: "roles" });
  }
  return { platform, roles: ordered(input.roles as Role[]) };
}

/**
 * Replaces a user's roles by hand (the CLI, the admin page); audited with before and after. Someone not
 * met yet is added from the directory first, by the caller (channels/directory-members.ts).
 */
export async function setUserRoles(
  deps: ServiceDeps,
  input: { platform: string; platformUserId: string; roles: readonly string[] },
  actor: Actor,
): Promise<{ user: UserView; changed: boolean }> {
  const { platform, roles } = checkRolesInput(input);
  return deps.db.transaction(async (tx) => {
    const row = await lockUser(deps, platform, input.platformUserId, tx);
    if (!row) throw new DomainError("not_found", `no ${platform} user ${input.platformUserId}`);
    if (sameRoles(row.roles, roles)) return { user: present(row), changed: false };
    const before = row.roles;
    await row.update({ roles }, { transaction: tx });
    await recordAudit(deps, tx, { entity: "user", entityId: row.id, action: "roles_set", actor, before: { roles: before }, after: { roles } });
    return { user: present(row), changed: true };
  });
}

/**
 * Brings our user in line with the platform directory: name, mobile, department, manager, the roles
 * the directory manages, and deactivation when the person left. Creates the user only with `create`
 * (a first contact or sign-in); never re-activates one (someone decided, or the directory said they left).
 */
export async function refreshPlatformUser(
  deps: ServiceDeps,
  record: DirectoryRecord,
  opts: { create?: boolean; actor?: Actor } = {},
): Promise<{ user: UserView | null; outcome: RefreshOutcome }> {
  const attempt = () => deps.db.transaction((tx) => refreshIn(deps, tx, record, opts.create ?? false, opts.actor ?? DIRECTORY_ACTOR));
  try {
    return await attempt();
  } catch (err) {
    // Two first sign-ins at once (two tabs, two instances): the other one created the row; update it.
    if (!isUniqueViolation(err)) throw err;
    return attempt();
  }
}

async function refreshIn(deps: ServiceDeps, tx: Transaction, record: DirectoryRecord, create: boolean, actor: Actor) {
  const m = deps.db.models;
  const row = await lockUser(deps, record.platform, record.platformUserId, tx);
  if (!record.found) {
    if (!row) return { user: null, outcome: "absent" as const };
    if (!row.active) return { user: present(row), outcome: "unchanged" as const };
    await row.update({ active: false }, { transaction: tx });
    await recordAudit(deps, tx, { entity: "user", entityId: row.id, action: "deactivated", actor, before: { active: true }, after: { active: false }, reason: "not in the directory" });
    return { user: present(row), outcome: "deactivated" as const };
  }

  const leader = record.managerPlatformUserId && record.managerPlatformUserId !== record.platformUserId
    ? await m.User.findOne({ where: { platform: record.platform, platformUserId: record.managerPlatformUserId }, transaction: tx })
    : null;
  const fields = {
    name: clip(record.name, 64) || record.platformUserId,
    department: record.department === null ? null : clip(record.department, 128),
    managerId: leader?.id ?? null,
  };
  if (!row) {
    if (!create) return { user: null, outcome: "absent" as const };
    const roles = ordered(record.roles.granted);
    const created = await m.User.create(
      { platform: record.platform, platformUserId: record.platformUserId, mobile: record.mobile && clip(record.mobile, 32), roles, active: record.active, ...fields },
      { transaction: tx },
    );
    await recordAudit(deps, tx, { entity: "user", entityId: created.id, action: "created", actor, after: { ...fields, roles, active: record.active } });
    return { user: present(created), outcome: "created" as const };
  }

  const next = {
    ...fields,
    // Apps created after 2022-06-20 get no mobile from the directory: keep the one we have.
    mobile: record.mobile ? clip(record.mobile, 32) : row.mobile,
    roles: ordered([...row.roles.filter((r) => !record.roles.managed.includes(r)), ...record.roles.granted]),
    active: row.active && record.active,
  };
  const change = diff(snapshot(row), next);
  if (Object.keys(change.after).length === 0) return { user: present(row), outcome: "unchanged" as const };
  await row.update(change.after, { transaction: tx });
  const deactivated = change.after.active === false;
  await recordAudit(deps, tx, { entity: "user", entityId: row.id, action: deactivated ? "deactivated" : "refreshed", actor, ...change, reason: deactivated ? "disabled or left in the directory" : null });
  return { user: present(row), outcome: deactivated ? ("deactivated" as const) : ("updated" as const) };
}

function lockUser(deps: ServiceDeps, platform: string, platformUserId: string, tx: Transaction): Promise<UserRow | null> {
  return deps.db.models.User.findOne({ where: { platform, platformUserId }, transaction: tx, lock: deps.db.lock });
}

function checkPlatform(platform: string): UserPlatform {
  if ((USER_PLATFORMS as readonly string[]).includes(platform)) return platform as UserPlatform;
  throw new DomainError("validation_failed", `unknown platform ${platform}; platforms are ${USER_PLATFORMS.join(", ")}`, { path: "platform" });
}

/** Each role once, in the order of ROLES, so equal sets compare and print the same. */
function ordered(roles: readonly Role[]): Role[] {
  return ROLES.filter((r) => roles.includes(r));
}

const sameRoles = (a: readonly Role[], b: readonly Role[]) => ordered(a).join(",") === ordered(b).join(",");

/** At most `max` characters (code points): the column widths of the users table. */
const clip = (text: string, max: number) => Array.from(text).slice(0, max).join("");

function snapshot(row: UserRow) {
  return { name: row.name, department: row.department, managerId: row.managerId, mobile: row.mobile, roles: ordered(row.roles), active: row.active };
}

function present(row: UserRow): UserView {
  return {
    id: row.id,
    platform: row.platform,
    platformUserId: row.platformUserId,
    name: row.name,
    mobile: row.mobile,
    department: row.department,
    managerId: row.managerId,
    roles: ordered(row.roles),
    active: row.active,
  };
}
