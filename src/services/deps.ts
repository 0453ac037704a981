import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import type { Trace } from "../trace";
import type { Memo } from "./support/memo";

/** What every use case may touch; built once in app.ts. */
export interface ServiceDeps {
  db: Db;
  cache: Cache;
  log: Logger;
  now: () => Date;
  publicUrl: string;
  memo: Memo;
  /** The current trace id (request or inbound event), stamped on the outbox rows written under it. */
  trace: Trace;
  /** Called once outbox rows are committed, so this process's dispatcher looks now rather than at its next poll. */
  outboxWritten?: () => void;
}
