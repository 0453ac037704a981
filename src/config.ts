import { z } from "zod";

/** A bad setting: main.ts prints the one line and exits 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes"].includes(v)));

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
  OUTBOX_ENABLED: bool(true),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60000).default(500),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(50),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(60000),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  OUTBOX_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(2000),
  OUTBOX_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(3600000),
  SIMULATOR_ENABLED: z.enum(["true", "false", "1", "0", "yes", "no"]).optional(),
  SIMULATOR_RATE_PER_SEC: z.coerce.number().positive().default(50),
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
  http: { bodyLimitKb: number; apiRateLimitPerMin: number };
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
}

/** Parses the environment once; the only place in the app that reads it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new ConfigError(`${issue.path.join(".")}: ${issue.message}`);
  }
  return deepFreeze(toConfig(parsed.data));
}

function toConfig(e: Env): Config {
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
    http: { bodyLimitKb: e.BODY_LIMIT_KB, apiRateLimitPerMin: e.API_RATE_LIMIT_PER_MIN },
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
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
