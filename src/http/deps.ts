import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Config } from "../config";
import type { Db } from "../db/sequelize";
import type { Services } from "../services";
import type { RateLimiter } from "./middleware/rate-limit";

/** What routes may use; assembled in app.ts. */
export interface HttpDeps {
  config: Readonly<Config>;
  services: Services;
  db: Db;
  cache: Cache;
  log: Logger;
  /** Fixed-window limits in the cache, failing open when it is down. */
  limiter: RateLimiter;
}
