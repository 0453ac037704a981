import type mysql2 from "mysql2";
import fs from "node:fs";
import path from "node:path";
import { Sequelize, Transaction } from "sequelize";
import type { Logger } from "pino";
import { defineModels, type Models } from "./models";
import { preparedStatements, type Prepared } from "./prepared";
import { createWriteBuffer, type WriteBuffer } from "./write-buffer";
import { cheaperSqliteSelects } from "./sqlite-select";

export type Dialect = "sqlite" | "mysql";

export interface Db {
  readonly sequelize: Sequelize;
  readonly models: Models;
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction; on SQLite writers queue, on MySQL deadlocks are retried. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** The audit/outbox rows held back in `tx` (see write-buffer.ts); undefined outside db.transaction. */
  buffer(tx: Transaction): WriteBuffer | undefined;
  /** `FOR UPDATE` where the database has row locks; SQLite's single writer makes it unnecessary. */
  readonly lock: (typeof Transaction.LOCK)[keyof typeof Transaction.LOCK] | undefined;
  /** Statements of the hot path straight on the driver (prepared.ts). */
  readonly prepared: Prepared;
  close(): Promise<void>;
}

const DEADLOCK_CODES = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
const SQLITE_BUSY_TIMEOUT_MS = 15000;

export function createDb(opts: { url: string; poolMax: number; logSql: boolean; log: Logger }): Db {
  const dialect: Dialect = opts.url.startsWith("sqlite:") ? "sqlite" : "mysql";
  const logging = opts.logSql ? (sql: string) => opts.log.debug({ sql }, "sql") : false;
  const sequelize = dialect === "sqlite" ? sqliteInstance(opts.url, logging) : mysqlInstance(opts, logging);
  const models = defineModels(sequelize);
  const buffers = new WeakMap<Transaction, WriteBuffer>();
  // Every transaction gets a write buffer, flushed before it commits.
  const buffered = <T>(fn: (tx: Transaction) => Promise<T>) => async (tx: Transaction) => {
    const buffer = createWriteBuffer({ sequelize, dialect }, tx);
    buffers.set(tx, buffer);
    const result = await fn(tx);
    await buffer.flush();
    return result;
  };
  const run = dialect === "sqlite" ? serializedTransactions(sequelize) : retryingTransactions(sequelize);
  const prepared = preparedStatements(sequelize, dialect);
  return {
    sequelize,
    models,
    dialect,
    transaction: (fn) => run(buffered(fn)),
    buffer: (tx) => buffers.get(tx),
    lock: dialect === "mysql" ? Transaction.LOCK.UPDATE : undefined,
    prepared,
    async close() {
      await prepared.close();
      await sequelize.close();
    },
  };
}

function sqliteInstance(url: string, logging: false | ((sql: string) => void)): Sequelize {
  const storage = url.slice("sqlite:".length) || ":memory:";
  if (storage !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(storage)), { recursive: true });
  const sequelize = new Sequelize({ dialect: "sqlite", storage, logging });
  cheaperSqliteSelects(sequelize);
  // Every connection (Sequelize opens one per transaction) waits for the writer instead of failing
  // SQLITE_BUSY after the driver's default second. Sequelize's SQLite connection manager opens its
  // connections itself and never runs the afterConnect hooks, so the timeout is set where it hands them out.
  const manager = sequelize.connectionManager as unknown as { getConnection(opts?: object): Promise<unknown> };
  const getConnection = manager.getConnection.bind(manager);
  const configured = new WeakSet<object>();
  manager.getConnection = async (opts?: object) => {
    const connection = (await getConnection(opts)) as { configure?: (opt: "busyTimeout", ms: number) => void };
    if (!configured.has(connection)) {
      connection.configure?.("busyTimeout", SQLITE_BUSY_TIMEOUT_MS);
      configured.add(connection);
    }
    return connection;
  };
  return sequelize;
}

function mysqlInstance(
  opts: { url: string; poolMax: number },
  logging: false | ((sql: string) => void),
): Sequelize {
  const url = opts.url.replace(/^mariadb:/, "mysql:");
  const sequelize = new Sequelize(url, {
    dialect: "mysql",
    logging,
    timezone: "+00:00",
    pool: { max: opts.poolMax, min: 0, acquire: 30000, idle: 10000 },
    dialectOptions: { dateStrings: false, supportBigNumbers: true, bigNumberStrings: false, charset: "utf8mb4", queryFormat: sendAsIs(driverFormat()) },
    define: { charset: "utf8mb4", collate: "utf8mb4_unicode_ci" },
  });
  // READ COMMITTED once per connection rather than a SET before every transaction: row locks and
  // conditional updates carry the invariants; fewer gap locks means fewer deadlocks on hot rows.
  sequelize.addHook("afterConnect", async (connection: unknown) => {
    const conn = connection as { query(sql: string, cb: (err: Error | null) => void): void };
    await new Promise<void>((resolve, reject) =>
      conn.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", (err) => (err ? reject(err) : resolve())),
    );
  });
  return sequelize;
}

/**
 * mysql2 formats every query() with `[]` when it has no values, scanning the whole text for `?`
 * placeholders — for a multi-row INSERT of JSON payloads that scan cost more than building the statement
 * (bench:wecom profiles). Sequelize sends fully escaped SQL through query() and bound parameters through
 * execute(), so a query without values goes out as it is; one with values is formatted as mysql2 would.
 */
function sendAsIs(format: typeof mysql2.format) {
  return function queryFormat(this: { config: { stringifyObjects?: boolean; timezone?: string } }, sql: string, values: unknown): string {
    if (values == null || (Array.isArray(values) && values.length === 0)) return sql;
    return format(sql, values as Parameters<typeof mysql2.format>[1], this.config.stringifyObjects, this.config.timezone);
  };
}

/** mysql2's formatter, required only where a MariaDB/MySQL database is configured (Sequelize loads the driver then too). */
function driverFormat(): typeof mysql2.format {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("mysql2") as typeof mysql2).format;
}

/**
 * SQLite has one writer. Queuing our own transactions in-process (and taking the write lock up front with
 * BEGIN IMMEDIATE) means they wait their turn rather than failing; busyTimeout covers other processes.
 */
function serializedTransactions(sequelize: Sequelize) {
  let tail: Promise<unknown> = Promise.resolve();
  return function transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const run = tail.then(() => sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, fn));
    tail = run.catch(() => undefined);
    return run;
  };
}

function retryingTransactions(sequelize: Sequelize) {
  return async function transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await sequelize.transaction(fn);
      } catch (err) {
        if (attempt >= 4 || !isDeadlock(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
      }
    }
  };
}

function isDeadlock(err: unknown): boolean {
  const e = err as { parent?: { code?: string }; original?: { code?: string } };
  const code = e?.parent?.code ?? e?.original?.code;
  return code !== undefined && DEADLOCK_CODES.has(code);
}

/** Unique-key violations, whatever the dialect calls them. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { name?: string })?.name === "SequelizeUniqueConstraintError";
}
