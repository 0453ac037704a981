import type Koa from "koa";
import type { Logger } from "pino";
import type pino from "pino";
import type { Cache } from "./cache/cache";
import { createMemoryCache } from "./cache/memory";
import { createRedisCache } from "./cache/redis";
import type { Config } from "./config";
import { migrate } from "./db/migrate";
import { createDb, type Db } from "./db/sequelize";
import { createHttpApp } from "./http/server";
import { createLogger } from "./logger";
import { createServices, type Services } from "./services";
import type { ServiceDeps } from "./services/deps";
import { seedDemoData } from "./services/seed-demo-data";

export interface AppOptions {
  /** The clock; tests pass a fixed or stepping one. */
  now?: () => Date;
  logDestination?: pino.DestinationStream;
}

export interface App {
  config: Readonly<Config>;
  log: Logger;
  db: Db;
  cache: Cache;
  services: Services;
  deps: ServiceDeps;
  http: Koa;
  /** Applies migrations and, on an empty database with seeding on, loads the demo company. */
  prepare(): Promise<void>;
  /** Background work (outbox dispatch, jobs); not started by tests that drive things by hand. */
  startBackground(): void;
  close(): Promise<void>;
}

/** The composition root: the only place that decides which implementation backs each port. */
export function createApp(config: Readonly<Config>, opts: AppOptions = {}): App {
  const log = createLogger(config.logLevel, opts.logDestination);
  const db = createDb({ url: config.database.url, poolMax: config.database.poolMax, logSql: config.database.logSql, log });
  const cache = config.redisUrl ? createRedisCache(config.redisUrl, config.cacheKeyPrefix) : createMemoryCache();
  const deps: ServiceDeps = { db, cache, log, now: opts.now ?? (() => new Date()), publicUrl: config.publicUrl };
  const services = createServices(deps);
  const http = createHttpApp({ config, services, db, cache, log });
  const stoppers: Array<() => Promise<void>> = [];

  return {
    config,
    log,
    db,
    cache,
    services,
    deps,
    http,
    async prepare() {
      const applied = await migrate(db, log.child({ module: "migrate" }));
      if (applied.length) log.info({ applied }, "migrations applied");
      if (config.seedDemoData) {
        const { created } = await seedDemoData(deps);
        if (created) log.info("demo data loaded");
      }
    },
    startBackground() {},
    async close() {
      for (const stop of stoppers.splice(0)) await stop();
      await cache.close();
      await db.close();
    },
  };
}
