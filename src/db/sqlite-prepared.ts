import type { Sequelize } from "sequelize";

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
 * Statements of the hot path, prepared once on Sequelize's own SQLite connection (the one its queries
 * outside a transaction use) and run straight on the driver. Sequelize's query() costs about 0.6 ms of
 * main-thread time per statement on top of the driver (stack capture, parameter formatting with regexes,
 * hooks, retries, result mapping; bench:dingtalk profiles), and the driver prepares, runs and finalizes a
 * one-off statement in three trips to its thread pool; a prepared statement makes that one trip.
 *
 * Same connection, so the same busy timeout, WAL and foreign keys as every other query; an error is the
 * driver's own (with its `code`), not wrapped by Sequelize.
 */
export interface SqlitePrepared {
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /** Finalizes every statement: SQLite refuses to close a connection that still has some. */
  close(): Promise<void>;
}

export function sqlitePrepared(sequelize: Sequelize): SqlitePrepared {
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
