import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Config } from "../config";
import type { Db } from "../db/sequelize";
import type { Services } from "../services";

/** What routes may use; assembled in app.ts. */
export interface HttpDeps {
  config: Readonly<Config>;
  services: Services;
  db: Db;
  cache: Cache;
  log: Logger;
}
