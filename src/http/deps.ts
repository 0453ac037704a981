import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Config } from "../config";
import type { Db } from "../db/sequelize";
import type { Services } from "../services";
import type { RateLimiter } from "./middleware/rate-limit";
import type { Metrics } from "../metrics/metrics";
import type { Trace } from "../trace";
import type { ReadinessCheck } from "./routes/health";

/** What routes may use; assembled in app.ts. */
export interface HttpDeps {
  config: Readonly<Config>;
  services: Services;
  db: Db;
  cache: Cache;
  log: Logger;
  /** Fixed-window limits in the cache, failing open when it is down. */
  limiter: RateLimiter;
  /** What /readyz reports besides the database and the cache (chat channels, the DingTalk Stream). */
  readiness?: ReadinessCheck[];
  /** Times each request by route (server.ts mounts it first). */
  metrics?: Metrics;
  /** Each request's id becomes the current trace id while it is handled. */
  trace?: Trace;
}
