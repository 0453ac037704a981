import type { Sequelize } from "sequelize";

/**
 * Statements of the hot path run straight on the driver, skipping Sequelize's query(): about half a
 * millisecond of main-thread time per statement on top of the driver (stack capture, parameter formatting
 * with regexes, escaping, hooks, retries, result mapping; bench:dingtalk and bench:wecom profiles). They
 * use Sequelize's own connections, so the same pool, settings and limits as every other query; an error
 * is the driver's own (with its `code`), not wrapped by Sequelize.
 */
export interface Prepared {
  /** Runs `sql` with bound `params` and resolves to the rows it returns (a SELECT, or RETURNING). */
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /** Releases what the statements hold; called before the database closes. */
  close(): Promise<void>;
}

export function preparedStatements(sequelize: Sequelize, dialect: "sqlite" | "mysql"): Prepared {
  return dialect === "sqlite" ? sqlitePrepared(sequelize) : mysqlPrepared(sequelize);
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

/** The parts of a mysql2 connection (callback API) used here. */
interface MysqlConnection {
  execute(sql: string, params: unknown[], cb: (err: Error | null, rows: unknown) => void): void;
}

/**
 * MariaDB/MySQL: a connection from Sequelize's pool for each statement, given back at once; mysql2's
 * execute() prepares a statement once per connection and keeps it, and sends the parameters in the binary
 * protocol, so nothing is escaped into the text of the statement.
 */
function mysqlPrepared(sequelize: Sequelize): Prepared {
  const manager = sequelize.connectionManager as unknown as {
    getConnection(opts: { type: "write" }): Promise<MysqlConnection>;
    releaseConnection(connection: MysqlConnection): Promise<void> | void;
  };
  return {
    async all<T>(sql: string, params: unknown[]) {
      const connection = await manager.getConnection({ type: "write" });
      try {
        return await new Promise<T[]>((resolve, reject) =>
          connection.execute(sql, params, (err, rows) => (err ? reject(err) : resolve(Array.isArray(rows) ? (rows as T[]) : []))),
        );
      } finally {
        await manager.releaseConnection(connection);
      }
    },
    // The statements live and die with the pool's connections, which Sequelize closes.
    close: async () => undefined,
  };
}
