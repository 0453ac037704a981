import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import type { Memo } from "./support/memo";

/** What every use case may touch; built once in app.ts. */
export interface ServiceDeps {
  db: Db;
  cache: Cache;
  log: Logger;
  now: () => Date;
  publicUrl: string;
  memo: Memo;
}
