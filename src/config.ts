import crypto from "node:crypto";
import cron from "node-cron";
import { z } from "zod";
import { isRole, ROLES, type Role } from "./domain/roles";
import { DingtalkEnv, toDingtalkConfig, type DingtalkConfig } from "./config-dingtalk";
import { JobsEnv, toJobsConfig, type JobsConfig } from "./config-jobs";

export type { DingtalkConfig } from "./config-dingtalk";
export type { JobsConfig } from "./config-jobs";

/** A bad setting: main.ts prints the one line and exits 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes"].includes(v)));

/** An optional setting where "" means unset, so `NAME=` lines in an env file do not fail validation. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

/** The official API host (wecom.md, conventions). */
export const WECOM_DEFAULT_API_BASE = "https://qyapi.weixin.qq.com";
// 150,000 calls/hour per corp and API is ~41.7/s sustained (wecom.md 3.3); stay just under it.
const WECOM_DEFAULT_RATE_PER_SEC = 40;
const WECOM_CORE = ["WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY"] as const;
/**
 * A secret as the admin console shows it (43 letters, digits, - and _ in practice; a little latitude kept).
 * A stray quote, space or line end would be refused by gettoken, and repeated refusals get the IP
 * blocked (wecom.md 3.1). The message never repeats the value.
 */
const wecomSecret = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "must be the secret as the admin console shows it: letters, digits, - and _ only (no quotes or spaces)");
/** Outside production an unset SESSION_SECRET is this: random, the same for every loadConfig in this process. */
const PROCESS_SESSION_SECRET = crypto.randomBytes(32).toString("base64url");

const Env = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_URL: z.url({ message: "must be an absolute URL such as https://order.example.com" }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|mysql:\/\/|mariadb:\/\/)/, "must start with sqlite:, mysql:// or mariadb://")
    .default("sqlite:data/chatorder.sqlite"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_LOG_SQL: bool(false),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  CACHE_KEY_PREFIX: z.string().max(64).default("chatorder:"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SEED_DEMO_DATA: bool(true),
  BODY_LIMIT_KB: z.coerce.number().int().min(1).max(10240).default(1024),
  API_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(600),
  TRUST_PROXY: bool(true),
  PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  RATE_LIMIT_CALLBACK_PER_MIN: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_SIGNIN_PER_MIN: z.coerce.number().int().min(1).default(120),
  RATE_LIMIT_MINIAPP_POST_PER_MIN: z.coerce.number().int().min(1).default(120),
  RATE_LIMIT_API_IP_PER_MIN: z.coerce.number().int().min(1).default(1200),
  OUTBOX_ENABLED: bool(true),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60000).default(500),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(50),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(60000),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  OUTBOX_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(2000),
  OUTBOX_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(3600000),
  SIMULATOR_ENABLED: z.enum(["true", "false", "1", "0", "yes", "no"]).optional(),
  SIMULATOR_RATE_PER_SEC: z.coerce.number().positive().default(50),
  SESSION_SECRET: unsetIfEmpty(z.string().min(32, "must be at least 32 characters")),
  SESSION_COOKIE_SECURE: unsetIfEmpty(z.enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })),
  METRICS_TOKEN: unsetIfEmpty(z.string().min(16, "must be at least 16 characters")),
  SESSION_TTL_HOURS: unsetIfEmpty(z.coerce.number({ message: "must be a number of hours" }).positive().max(24 * 90)),
  // WeCom: an empty value (`WECOM_TOKEN=` from an env file) counts as unset.
  WECOM_CORP_ID: unsetIfEmpty(z.string().regex(/^[A-Za-z0-9]{1,64}$/, "must be the corp id (letters and digits, e.g. ww1436e0e65a779aee)")),
  WECOM_AGENT_ID: unsetIfEmpty(z.coerce.number({ message: "must be the app's integer agentid" }).int().positive()),
  WECOM_SECRET: unsetIfEmpty(wecomSecret),
  WECOM_TOKEN: unsetIfEmpty(z.string().regex(/^[A-Za-z0-9]{1,32}$/, "must be 1-32 letters or digits")),
  WECOM_AES_KEY: unsetIfEmpty(z.string().regex(/^[A-Za-z0-9]{43}$/, "must be exactly 43 letters or digits")),
  WECOM_API_BASE: unsetIfEmpty(z.url({ message: "must be an absolute URL such as https://qyapi.weixin.qq.com" })),
  // Both name the 客户联系 secret (wecom.md 7.1): EXTERNAL as the issue does, CONTACT as earlier releases did.
  WECOM_EXTERNAL_SECRET: unsetIfEmpty(wecomSecret),
  WECOM_CONTACT_SECRET: unsetIfEmpty(wecomSecret),
  WECOM_RATE_PER_SEC: unsetIfEmpty(z.coerce.number().positive()),
  WECOM_CALLBACK_WINDOW_SEC: unsetIfEmpty(z.coerce.number().int().min(1).max(86400)),
  // Under WeCom's 5 s (wecom.md 2.3) with room for the network, and above a commit's worst ordinary wait.
  WECOM_CALLBACK_BUDGET_MS: unsetIfEmpty(z.coerce.number().int().min(100).max(4500)),
  WECOM_ROLE_MAP: unsetIfEmpty(z.string()),
  WECOM_NOTICE_POLL_CRON: unsetIfEmpty(z.string().refine((v) => v === "off" || cron.validate(v), "must be a cron expression such as */10 * * * *, or off")),
  ...DingtalkEnv,
  ...JobsEnv,
});

export type Env = z.infer<typeof Env>;

export interface Config {
  env: Env["NODE_ENV"];
  port: number;
  host: string;
  publicUrl: string;
  database: { url: string; dialect: "sqlite" | "mysql"; poolMax: number; logSql: boolean };
  redisUrl: string | null;
  cacheKeyPrefix: string;
  logLevel: Env["LOG_LEVEL"];
  seedDemoData: boolean;
  http: {
    bodyLimitKb: number;
    apiRateLimitPerMin: number;
    /** Believe X-Forwarded-For/-Proto/-Host (Koa app.proxy): on behind a reverse proxy, off when clients connect directly. */
    trustProxy: boolean;
    /** How many proxies append to X-Forwarded-For; the client is the entry that many from the right (Koa maxIpsCount). */
    proxyHops: number;
    /** Per client IP (per signed-in person for mini-app POSTs), requests a minute on the surfaces without an API key. */
    ipRateLimits: { callbackPerMin: number; signInPerMin: number; miniAppPostPerMin: number; apiPerMin: number };
  };
  /** Bearer token /metrics requires; null = /metrics is open (keep it off the public listener then). */
  metricsToken: string | null;
  outbox: {
    enabled: boolean;
    pollMs: number;
    batchSize: number;
    leaseMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
  };
  simulator: { enabled: boolean; ratePerSec: number };
  /** The signed session cookie of the H5 pages and the mini-app. */
  session: {
    secret: string;
    /** True when SESSION_SECRET was unset and a random per-process secret is used (never in production). */
    generated: boolean;
    ttlHours: number;
    /** Secure cookies: on in production or when PUBLIC_URL is https, unless SESSION_COOKIE_SECURE says otherwise. */
    secure: boolean;
  };
  /** The WeCom self-built app; null unless the core five WECOM_* settings are all set. */
  wecom: WecomConfig | null;
  /** The DingTalk internal app + robot; null unless the core five DINGTALK_* settings are all set. */
  dingtalk: DingtalkConfig | null;
  /** Scheduled work: schedules, the working-hours calendar and each job's thresholds (config-jobs.ts). */
  jobs: JobsConfig;
}

export interface WecomConfig {
  corpId: string;
  agentId: number;
  secret: string;
  /** Callback Token: signs callbacks (wecom.md 1.3). */
  token: string;
  /** Callback EncodingAESKey (43 chars): encrypts callbacks (wecom.md 1.4). */
  aesKey: string;
  /** No trailing slash. */
  apiBase: string;
  /**
   * The 客户联系 secret (WECOM_EXTERNAL_SECRET, or WECOM_CONTACT_SECRET): every /cgi-bin/externalcontact/
   * call takes its own token when set (wecom.md 7.1); null: those calls take the app's.
   */
  contactSecret: string | null;
  ratePerSec: number;
  /** Callbacks whose signed timestamp is further than this from now are refused as replays. */
  callbackWindowSec: number;
  /**
   * A callback not stored within this is answered 503 instead of waiting on: WeCom delivers it again
   * (wecom.md 2.3), and the store still under way makes that repeat a duplicate or writes it then.
   */
  callbackBudgetMs: number;
  /** WECOM_ROLE_MAP: members of a tag or a department (and its sub-departments) get a role. */
  roleMap: readonly RoleRule[];
  /** When customer notices awaiting their owner's tap are checked with WeCom (Shanghai time); null: never. */
  noticePollCron: string | null;
}

/** One WECOM_ROLE_MAP entry, e.g. `tag:1=sales` or `dept:5=warehouse`. */
export interface RoleRule {
  kind: "tag" | "dept";
  id: number;
  role: Role;
}

/** Parses the environment once; the only place in the app that reads it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new ConfigError(`${issue.path.join(".")}: ${issue.message}`);
  }
  const fail = (message: string) => new ConfigError(message);
  return deepFreeze({ ...toConfig(parsed.data), jobs: toJobsConfig(parsed.data), wecom: toWecomConfig(parsed.data), dingtalk: toDingtalkConfig(parsed.data, fail) });
}

const ROLE_RULE = /^(tag|dept):(\d{1,10})=(.*)$/;

/** `tag:1=sales,tag:2=manager,dept:5=warehouse` → rules; a malformed entry or an unknown role stops start-up. */
export function parseRoleMap(text: string | undefined): RoleRule[] {
  const rules: RoleRule[] = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = ROLE_RULE.exec(entry);
    if (!m) throw new ConfigError(`WECOM_ROLE_MAP: "${entry}" is not tag:<id>=<role> or dept:<id>=<role> (e.g. tag:1=sales,dept:5=warehouse)`);
    const role = m[3].trim();
    if (!isRole(role)) throw new ConfigError(`WECOM_ROLE_MAP: unknown role "${role}" in "${entry}" (roles: ${ROLES.join(", ")})`);
    const rule: RoleRule = { kind: m[1] as RoleRule["kind"], id: Number(m[2]), role };
    if (!rules.some((r) => r.kind === rule.kind && r.id === rule.id && r.role === rule.role)) rules.push(rule);
  }
  return rules;
}

/** Production refuses to start without SESSION_SECRET: a per-process secret would sign everyone out on every restart. */
function toSessionConfig(e: Env): Config["session"] {
  const production = e.NODE_ENV === "production";
  if (production && e.SESSION_SECRET === undefined) throw new ConfigError("SESSION_SECRET: required when NODE_ENV=production (at least 32 characters)");
  return {
    secret: e.SESSION_SECRET ?? PROCESS_SESSION_SECRET,
    generated: e.SESSION_SECRET === undefined,
    ttlHours: e.SESSION_TTL_HOURS ?? 12,
    secure: e.SESSION_COOKIE_SECURE !== undefined ? ["true", "1", "yes"].includes(e.SESSION_COOKIE_SECURE) : production || (e.PUBLIC_URL !== undefined && new URL(e.PUBLIC_URL).protocol === "https:"),
  };
}

/** All of the core five or none: a partial set is a half-configured app, refused naming every gap. */
function toWecomConfig(e: Env): WecomConfig | null {
  const present = WECOM_CORE.filter((name) => e[name] !== undefined);
  // The role map is checked even while WeCom is off, so a typo does not wait for the day it is switched on.
  const roleMap = parseRoleMap(e.WECOM_ROLE_MAP);
  const contactSecret = toContactSecret(e);
  const trigger = present[0] ?? contactSecret?.name;
  if (!trigger) return null;
  const missing = WECOM_CORE.filter((name) => e[name] === undefined);
  if (missing.length) throw new ConfigError(`${missing.join(", ")}: required when ${trigger} is set`);
  return {
    corpId: e.WECOM_CORP_ID!,
    agentId: e.WECOM_AGENT_ID!,
    secret: e.WECOM_SECRET!,
    token: e.WECOM_TOKEN!,
    aesKey: e.WECOM_AES_KEY!,
    apiBase: (e.WECOM_API_BASE ?? WECOM_DEFAULT_API_BASE).replace(/\/+$/, ""),
    contactSecret: contactSecret?.value ?? null,
    ratePerSec: e.WECOM_RATE_PER_SEC ?? WECOM_DEFAULT_RATE_PER_SEC,
    callbackWindowSec: e.WECOM_CALLBACK_WINDOW_SEC ?? 300,
    callbackBudgetMs: e.WECOM_CALLBACK_BUDGET_MS ?? 3_000,
    roleMap,
    noticePollCron: e.WECOM_NOTICE_POLL_CRON === "off" ? null : (e.WECOM_NOTICE_POLL_CRON ?? "*/10 * * * *"),
  };
}

/** The 客户联系 secret under either name; two different values are a contradiction, refused without echoing them. */
function toContactSecret(e: Env): { name: "WECOM_EXTERNAL_SECRET" | "WECOM_CONTACT_SECRET"; value: string } | null {
  const external = e.WECOM_EXTERNAL_SECRET;
  const contact = e.WECOM_CONTACT_SECRET;
  if (external !== undefined && contact !== undefined && external !== contact) {
    throw new ConfigError("WECOM_EXTERNAL_SECRET: differs from WECOM_CONTACT_SECRET; both name the 客户联系 secret, set one of them");
  }
  if (external !== undefined) return { name: "WECOM_EXTERNAL_SECRET", value: external };
  return contact === undefined ? null : { name: "WECOM_CONTACT_SECRET", value: contact };
}

function toConfig(e: Env): Omit<Config, "wecom" | "dingtalk" | "jobs"> {
  const production = e.NODE_ENV === "production";
  const simulatorSetting = e.SIMULATOR_ENABLED;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    database: {
      url: e.DATABASE_URL,
      dialect: e.DATABASE_URL.startsWith("sqlite:") ? "sqlite" : "mysql",
      poolMax: e.DB_POOL_MAX,
      logSql: e.DB_LOG_SQL,
    },
    redisUrl: e.REDIS_URL ?? null,
    cacheKeyPrefix: e.CACHE_KEY_PREFIX,
    logLevel: e.LOG_LEVEL,
    seedDemoData: e.SEED_DEMO_DATA,
    http: {
      bodyLimitKb: e.BODY_LIMIT_KB,
      apiRateLimitPerMin: e.API_RATE_LIMIT_PER_MIN,
      trustProxy: e.TRUST_PROXY,
      proxyHops: e.PROXY_HOPS,
      ipRateLimits: {
        callbackPerMin: e.RATE_LIMIT_CALLBACK_PER_MIN,
        signInPerMin: e.RATE_LIMIT_SIGNIN_PER_MIN,
        miniAppPostPerMin: e.RATE_LIMIT_MINIAPP_POST_PER_MIN,
        apiPerMin: e.RATE_LIMIT_API_IP_PER_MIN,
      },
    },
    metricsToken: e.METRICS_TOKEN ?? null,
    outbox: {
      enabled: e.OUTBOX_ENABLED,
      pollMs: e.OUTBOX_POLL_MS,
      batchSize: e.OUTBOX_BATCH_SIZE,
      leaseMs: e.OUTBOX_LEASE_MS,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      backoffBaseMs: e.OUTBOX_BACKOFF_BASE_MS,
      backoffMaxMs: e.OUTBOX_BACKOFF_MAX_MS,
    },
    // The simulator is a development channel: off in production unless explicitly asked for.
    simulator: {
      enabled: simulatorSetting === undefined ? !production : ["true", "1", "yes"].includes(simulatorSetting),
      ratePerSec: e.SIMULATOR_RATE_PER_SEC,
    },
    session: toSessionConfig(e),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
