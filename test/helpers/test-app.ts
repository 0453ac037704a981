import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import mysql from "mysql2/promise";
import type pino from "pino";
import { createApp, type App } from "../../src/app";
import { loadConfig } from "../../src/config";
import { deleteRedisPrefix, REDIS_URL } from "./redis";

/** Which backing services the suite runs on: SQLite + memory (default) or MariaDB + Redis (`npm run test:mysql`). */
export const onMysql = process.env.TEST_DB === "mysql";
const MYSQL_URL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";

export interface TestApp {
  app: App;
  /** Authorization header for a fresh API key. */
  apiKeyHeader: { Authorization: string };
  callback: ReturnType<App["http"]["callback"]>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  now?: () => Date;
  seed?: boolean;
  /** Where the app's log lines go (tests that read them); LOG_LEVEL in `env` decides how many. */
  logDestination?: pino.DestinationStream;
}

/** The whole app through app.ts, on its own fresh database (and Redis key prefix), migrated. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const suffix = `${process.pid}_${crypto.randomBytes(4).toString("hex")}`;
  const cleanups: Array<() => Promise<void>> = [];
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SEED_DEMO_DATA: opts.seed ? "true" : "false",
    API_RATE_LIMIT_PER_MIN: "1000000",
    // Per-IP limits off in effect (every test request comes from 127.0.0.1); their own tests set them low.
    RATE_LIMIT_CALLBACK_PER_MIN: "1000000",
    RATE_LIMIT_SIGNIN_PER_MIN: "1000000",
    RATE_LIMIT_MINIAPP_POST_PER_MIN: "1000000",
    RATE_LIMIT_API_IP_PER_MIN: "1000000",
    // Many tests give an https PUBLIC_URL (which turns Secure cookies on) but talk plain http to the app,
    // where a cookie jar would not send a Secure cookie back; tests of the Secure flag set this themselves.
    SESSION_COOKIE_SECURE: "false",
    OUTBOX_ENABLED: "false",
  };
  if (onMysql) {
    const dbName = `co_test_${suffix}`;
    const admin = await mysql.createConnection(MYSQL_URL);
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    env.DATABASE_URL = `${MYSQL_URL.replace(/\/$/, "")}/${dbName}`;
    env.DB_POOL_MAX = "20";
    env.REDIS_URL = REDIS_URL;
    env.CACHE_KEY_PREFIX = `co_test:${suffix}:`;
    cleanups.push(async () => {
      const conn = await mysql.createConnection(MYSQL_URL);
      await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
      await conn.end();
      await deleteRedisPrefix(REDIS_URL, env.CACHE_KEY_PREFIX);
    });
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-test-"));
    env.DATABASE_URL = `sqlite:${path.join(dir, "test.sqlite")}`;
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const app = createApp(loadConfig({ ...env, ...opts.env }), { now: opts.now, logDestination: opts.logDestination });
  await app.prepare();
  const { key } = await app.services.createApiKey(`test-${suffix}`);
  return {
    app,
    apiKeyHeader: { Authorization: `Bearer ${key}` },
    callback: app.http.callback(),
    async close() {
      await app.close();
      for (const c of cleanups) await c();
    },
  };
}
