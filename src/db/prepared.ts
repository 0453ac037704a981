import type mysql2 from "mysql2";
import type { Sequelize } from "sequelize";

/**
 * Statements of the hot path run straight on the driver, skipping Sequelize's query(): about half a
 * millisecond of main-thread time per statement on top of the driver (stack capture, parameter formatting
 * with regexes, escaping, hooks, retries, result mapping; bench:dingtalk and bench:wecom profiles). An
 * error is the driver's own (with its `code`), not wrapped by Sequelize.
 */
export interface Prepared {
  /** Runs `sql` with bound `params` and resolves to the rows it returns (a SELECT, or RETURNING). */
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /** Releases what the statements hold; called before the database closes. */
  close(): Promise<void>;
}

/**
 * `connections`: how many statements may run at once on MariaDB/MySQL (SQLite has one connection): the
 * inbound writer's batch, and the bot's reads and reply writes beside it.
 */
export function preparedStatements(sequelize: Sequelize, dialect: "sqlite" | "mysql", connections = 4): Prepared {
  return dialect === "sqlite" ? sqlitePrepared(sequelize) : mysqlPrepared(sequelize, connections);
}

/** The parts of a node-sqlite3 Statement used here. */
interface Statement {
  all(params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
  finalize(cb: () => void): void;
}

/** The parts of a node-sqlite3 Database used here. */
interface Connection {
  prepare(sql: string, cb: (err: Error | null) => void): Statement;
}

/**
 * SQLite: each statement prepared once on Sequelize's connection for queries outside a transaction (so
 * the same busy timeout, WAL and foreign keys). A one-off statement is prepared, run and finalized in
 * three trips to the driver's thread pool; a prepared one makes one. close() finalizes them: SQLite
 * refuses to close a connection that still has statements.
 */
function sqlitePrepared(sequelize: Sequelize): Prepared {
  const manager = sequelize.connectionManager as unknown as { getConnection(opts: object): Promise<Connection> };
  const statements = new Map<string, { connection: Connection; ready: Promise<Statement> }>();

  async function statement(sql: string): Promise<Statement> {
    // Sequelize hands back the connection it already holds; asking each time follows it if it ever reopens.
    const connection = await manager.getConnection({});
    const known = statements.get(sql);
    if (known && known.connection === connection) return known.ready;
    const ready = new Promise<Statement>((resolve, reject) => {
      const prepared = connection.prepare(sql, (err) => (err ? reject(err) : resolve(prepared)));
    });
    statements.set(sql, { connection, ready });
    // A statement that failed to prepare is asked for again next time, not cached as broken.
    ready.catch(() => statements.get(sql)?.ready === ready && statements.delete(sql));
    return ready;
  }

  return {
    async all<T>(sql: string, params: unknown[]) {
      const prepared = await statement(sql);
      return new Promise<T[]>((resolve, reject) => prepared.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
    },
    async close() {
      const held = [...statements.values()];
      statements.clear();
      for (const { ready } of held) {
        const prepared = await ready.catch(() => null);
        if (prepared) await new Promise<void>((resolve) => prepared.finalize(() => resolve()));
      }
    },
  };
}

/**
 * MariaDB/MySQL: a small pool of its own, configured as Sequelize configures its connections (same
 * server, credentials, dialect options, session time zone) but without Sequelize's typeCast hook: with
 * one, mysql2 wraps every field of every returned row in an object for the hook to look at, which was
 * most of the cost of a statement's result in bench:wecom profiles. mysql2's execute() prepares a
 * statement once per connection and sends the parameters in the binary protocol, so nothing is escaped
 * into the statement's text. Connections open on first use, so an idle instance holds none.
 */
function mysqlPrepared(sequelize: Sequelize, connections: number): Prepared {
  const config = sequelize.config as unknown as { host?: string; port?: string | number; username?: string; password?: string | null; database?: string };
  const options = (sequelize as unknown as { options: unknown }).options as { timezone?: string; dialectOptions?: Record<string, unknown> };
  // queryFormat shapes query() text; execute() never uses it.
  const { queryFormat: _unused, ...dialectOptions } = options.dialectOptions ?? {};
  const timezone = options.timezone ?? "+00:00";
  // Required here, not at the top: an instance on SQLite never loads the MariaDB driver.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const driver = require("mysql2") as typeof mysql2;
  const pool = driver.createPool({
    host: config.host,
    port: config.port === undefined ? undefined : Number(config.port),
    user: config.username,
    password: config.password ?? undefined,
    database: config.database,
    timezone,
    flags: ["-FOUND_ROWS"],
    bigNumberStrings: false,
    supportBigNumbers: true,
    ...dialectOptions,
    connectionLimit: connections,
    maxIdle: 1,
  });
  pool.on("connection", (connection) => {
    // A connection that dies while idle leaves the pool (mysql2 does that); no error may go unheard.
    connection.on("error", () => undefined);
    // Not in the session's zone, it must not be used: a DATETIME would be read in another zone.
    connection.query(`SET time_zone = '${timezone}'`, (err) => {
      if (err) connection.destroy();
    });
  });
  return {
    all<T>(sql: string, params: unknown[]) {
      return new Promise<T[]>((resolve, reject) =>
        pool.execute(sql, params as mysql2.ExecuteValues[], (err, rows) => (err ? reject(err) : resolve(Array.isArray(rows) ? (rows as T[]) : []))),
      );
    },
    close: () => new Promise<void>((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve()))),
  };
}
