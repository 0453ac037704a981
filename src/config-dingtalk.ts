import { z } from "zod";
import { isRole, ROLES, type Role } from "./domain/roles";

/**
 * The DingTalk settings (dingtalk.md): the schema fragment config.ts merges into its Env, and the typed
 * DingtalkConfig built from it. Kept apart so config.ts stays readable; config.ts still owns process.env.
 */

/** Official hosts (dingtalk.md 1, 3); every one is configurable for proxies and tests. */
export const DINGTALK_DEFAULT_API_BASE = "https://api.dingtalk.com";
export const DINGTALK_DEFAULT_OAPI_BASE = "https://oapi.dingtalk.com";
export const DINGTALK_DEFAULT_STREAM_BASE = "https://api.dingtalk.com";
// Unpublished for robot sends; 20/s keeps well under the per-app QPS limits people report (unconfirmed).
const DINGTALK_DEFAULT_RATE_PER_SEC = 20;

export const DINGTALK_CORE = ["DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_ROBOT_CODE", "DINGTALK_CORP_ID", "DINGTALK_AGENT_ID"] as const;

const unset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
const url = (example: string) => unset(z.url({ message: `must be an absolute URL such as ${example}` }));
// AppKey, robotCode, corpId and template ids are ASCII tokens; printable, no spaces.
const token = (what: string) => unset(z.string().regex(/^[\x21-\x7e]{1,128}$/, `must be the ${what} (1-128 printable characters, no spaces)`));

export const DingtalkEnv = {
  DINGTALK_CLIENT_ID: token("app's Client ID (AppKey)"),
  DINGTALK_CLIENT_SECRET: unset(z.string().min(1)),
  DINGTALK_ROBOT_CODE: token("robot's robotCode"),
  DINGTALK_CORP_ID: token("corp id (e.g. ding0123456789abcdef)"),
  DINGTALK_AGENT_ID: unset(z.coerce.number({ message: "must be the app's integer AgentId" }).int().positive()),
  DINGTALK_CARD_TEMPLATE_APPROVAL: token("approval card's template id"),
  DINGTALK_CARD_TEMPLATE_ACTION: token("action card's template id"),
  DINGTALK_API_BASE: url(DINGTALK_DEFAULT_API_BASE),
  DINGTALK_OAPI_BASE: url(DINGTALK_DEFAULT_OAPI_BASE),
  DINGTALK_STREAM_BASE: url(DINGTALK_DEFAULT_STREAM_BASE),
  DINGTALK_RATE_PER_SEC: unset(z.coerce.number().positive()),
  DINGTALK_ROLE_MAP: unset(z.string()),
};

type DingtalkEnvValues = { [K in keyof typeof DingtalkEnv]?: z.infer<(typeof DingtalkEnv)[K]> };

export interface DingtalkConfig {
  /** Client ID (AppKey): the Stream client's id and the token's appKey (dingtalk.md 1, 3). */
  clientId: string;
  clientSecret: string;
  robotCode: string;
  corpId: string;
  agentId: number;
  /** Interactive card templates from the card builder (cards/dingtalk/); null → action-card fallback. */
  templates: { approval: string | null; action: string | null };
  /** No trailing slash. */
  apiBase: string;
  oapiBase: string;
  /** Where the Stream connection is opened; the SDK's own URL when it is the official host. */
  streamBase: string;
  ratePerSec: number;
  /** DINGTALK_ROLE_MAP: members of a department get a role. */
  roleMap: readonly DingtalkRoleRule[];
}

/** `dept:<id>=<role>`: direct members of that department (user/get's dept_id_list, dingtalk.md 7). */
export interface DingtalkRoleRule {
  kind: "dept";
  id: number;
  role: Role;
}

const RULE = /^dept:(\d{1,12})=(.*)$/;

/** `dept:1=sales,dept:5=warehouse` → rules; `fail` turns a bad entry into the caller's start-up error. */
export function parseDingtalkRoleMap(text: string | undefined, fail: (message: string) => Error): DingtalkRoleRule[] {
  const rules: DingtalkRoleRule[] = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = RULE.exec(entry);
    if (!m) throw fail(`DINGTALK_ROLE_MAP: "${entry}" is not dept:<id>=<role> (e.g. dept:1=sales,dept:5=warehouse)`);
    const role = m[2].trim();
    if (!isRole(role)) throw fail(`DINGTALK_ROLE_MAP: unknown role "${role}" in "${entry}" (roles: ${ROLES.join(", ")})`);
    if (!rules.some((r) => r.id === Number(m[1]) && r.role === role)) rules.push({ kind: "dept", id: Number(m[1]), role });
  }
  return rules;
}

/** All of the core five or none: a partial set stops start-up naming the first missing one. */
export function toDingtalkConfig(e: DingtalkEnvValues, fail: (message: string) => Error): DingtalkConfig | null {
  const roleMap = parseDingtalkRoleMap(e.DINGTALK_ROLE_MAP, fail);
  const present = DINGTALK_CORE.filter((name) => e[name] !== undefined);
  if (present.length === 0) return null;
  const missing = DINGTALK_CORE.filter((name) => e[name] === undefined);
  if (missing.length) throw fail(`${missing.join(", ")}: required when ${present[0]} is set`);
  const base = (v: string | undefined, fallback: string) => (v ?? fallback).replace(/\/+$/, "");
  return {
    clientId: e.DINGTALK_CLIENT_ID!,
    clientSecret: e.DINGTALK_CLIENT_SECRET!,
    robotCode: e.DINGTALK_ROBOT_CODE!,
    corpId: e.DINGTALK_CORP_ID!,
    agentId: e.DINGTALK_AGENT_ID!,
    templates: { approval: e.DINGTALK_CARD_TEMPLATE_APPROVAL ?? null, action: e.DINGTALK_CARD_TEMPLATE_ACTION ?? null },
    apiBase: base(e.DINGTALK_API_BASE, DINGTALK_DEFAULT_API_BASE),
    oapiBase: base(e.DINGTALK_OAPI_BASE, DINGTALK_DEFAULT_OAPI_BASE),
    streamBase: base(e.DINGTALK_STREAM_BASE, DINGTALK_DEFAULT_STREAM_BASE),
    ratePerSec: e.DINGTALK_RATE_PER_SEC ?? DINGTALK_DEFAULT_RATE_PER_SEC,
    roleMap,
  };
}
