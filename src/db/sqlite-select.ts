import type { Sequelize } from "sequelize";

/**
 * Makes Sequelize 6's SQLite SELECTs cheaper without changing what they return. Two costs of its query
 * runner showed in bench:miniapp profiles (the approvals inbox and the warehouse queue over 50 ms p95):
 *
 * - Before every SELECT it asks SQLite for the table's column types (`PRAGMA table_info`), a second
 *   statement through the driver's thread, and keeps the answer only for that one query. Here the
 *   answer is kept per table until a statement changes the schema (CREATE / ALTER / DROP through this
 *   Sequelize instance, as every migration does).
 * - It works out which column type applies to a value once per cell, walking the model's attributes
 *   for every cell of a renamed column. Here that is worked out once per column of the result, by the
 *   same rules, and applied to every row.
 *
 * Done with a subclass of the dialect's own Query class on this instance only (no module is patched),
 * and only for model SELECTs whose rows are to become instances; everything else is Sequelize's path.
 */
export function cheaperSqliteSelects(sequelize: Sequelize): void {
  const dialect = (sequelize as unknown as { dialect: { Query: QueryClass } }).dialect;
  const Base = dialect.Query;
  const typesByPragma = new Map<string, ColumnInfo[]>();
  let schemaVersion = 0;
  const connections = new WeakMap<object, SqliteConnection>();

  function withCachedTypes(conn: SqliteConnection): SqliteConnection {
    let wrapped = connections.get(conn);
    if (wrapped) return wrapped;
    const forward = (method: "all" | "run" | "exec") =>
      function (this: unknown, sql: unknown, ...rest: unknown[]) {
        if (typeof sql === "string") {
          if (method === "all" && TABLE_INFO.test(sql) && rest.length === 1 && typeof rest[0] === "function") {
            return cachedTableInfo(conn, sql, rest[0] as TableInfoCallback);
          }
          if (SCHEMA_CHANGE.test(sql)) {
            schemaVersion += 1;
            typesByPragma.clear();
          }
        }
        return (conn[method] as (...args: unknown[]) => unknown).call(conn, sql, ...rest);
      };
    const overrides: Record<string, unknown> = { all: forward("all"), run: forward("run"), exec: forward("exec") };
    wrapped = new Proxy(conn, {
      get(target, prop) {
        if (typeof prop === "string" && prop in overrides) return overrides[prop];
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    connections.set(conn, wrapped);
    return wrapped;
  }

  function cachedTableInfo(conn: SqliteConnection, sql: string, done: TableInfoCallback) {
    const known = typesByPragma.get(sql);
    if (known) return done.call(conn, null, known);
    const asked = schemaVersion;
    return conn.all(sql, function (this: unknown, err: Error | null, rows: ColumnInfo[]) {
      // Kept only when no schema change was sent meanwhile (on this or another connection).
      if (!err && Array.isArray(rows) && asked === schemaVersion) typesByPragma.set(sql, rows);
      done.call(this, err, rows);
    });
  }

  class CheaperSelectQuery extends Base {
    constructor(connection: SqliteConnection, seq: Sequelize, options: QueryOptions) {
      super(withCachedTypes(connection), seq, options);
    }

    override _handleQueryResponse(metaData: unknown, columnTypes: Record<string, Record<string, string>>, err: unknown, results: unknown, errStack: unknown): unknown {
      const self = this as unknown as QueryInternals;
      if (err || self.options.type !== "SELECT" || self.options.raw || !Array.isArray(results)) {
        return super._handleQueryResponse(metaData, columnTypes, err, results, errStack);
      }
      const rows = results as Record<string, unknown>[];
      const prefixes = self._collectModels(self.options.include) as Record<string, ModelLike | undefined>;
      const typeOf = new Map<string, string | null>();
      for (const row of rows) {
        for (const key of Object.keys(row)) {
          if (typeOf.has(key)) continue;
          const type = columnType(key, prefixes, self.options.model, columnTypes);
          // A column Sequelize could not place (no model for it): its own path, which says what is wrong.
          if (type === undefined) return super._handleQueryResponse(metaData, columnTypes, err, results, errStack);
          typeOf.set(key, type);
        }
      }
      const parsed = rows.map((row) => {
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(row)) {
          const type = typeOf.get(key)!;
          out[key] = type === null ? row[key] : self.applyParsers(type, row[key]);
        }
        return out;
      });
      return self.handleSelectQuery(parsed);
    }
  }

  dialect.Query = CheaperSelectQuery as unknown as QueryClass;
}

/**
 * The declared type of the table column behind a result key, null when there is none to parse by, or
 * undefined when the key belongs to no model. Sequelize's rules: "a.b.c" is column c of the model
 * included as "a.b"; a key that is not a column of the table but is an attribute mapped to a field
 * (underscored names) stands for that field.
 */
function columnType(
  key: string,
  prefixes: Record<string, ModelLike | undefined>,
  ownModel: ModelLike | undefined,
  columnTypes: Record<string, Record<string, string>>,
): string | null | undefined {
  let name = key;
  let model = ownModel;
  const dot = key.lastIndexOf(".");
  if (dot >= 0) {
    model = prefixes[key.slice(0, dot)];
    name = key.slice(dot + 1);
  }
  if (!model) return undefined;
  const types = columnTypes[String(model.getTableName()).replace(/`/g, "")] ?? {};
  if (!(name in types)) {
    const attribute = Object.hasOwn(model.rawAttributes, name) ? model.rawAttributes[name] : undefined;
    if (attribute?.field) name = attribute.field;
  }
  return Object.hasOwn(types, name) ? types[name] : null;
}

const TABLE_INFO = /^PRAGMA table_info\(`[^`]+`\)$/;
const SCHEMA_CHANGE = /^\s*(CREATE|ALTER|DROP)\s/i;

interface ColumnInfo {
  name: string;
  type: string;
}
type TableInfoCallback = (this: unknown, err: Error | null, rows: ColumnInfo[]) => void;

interface SqliteConnection {
  all(sql: string, ...rest: unknown[]): unknown;
  run(sql: string, ...rest: unknown[]): unknown;
  exec(sql: string, ...rest: unknown[]): unknown;
}

interface ModelLike {
  getTableName(): unknown;
  rawAttributes: Record<string, { field?: string }>;
}

interface QueryOptions {
  type?: string;
  raw?: boolean;
  model?: ModelLike;
  include?: unknown;
}

interface QueryInternals {
  options: QueryOptions;
  _collectModels(include: unknown): Record<string, ModelLike | undefined>;
  applyParsers(type: string, value: unknown): unknown;
  handleSelectQuery(rows: unknown[]): unknown;
}

interface QueryInstance {
  _handleQueryResponse(metaData: unknown, columnTypes: unknown, err: unknown, results: unknown, errStack: unknown): unknown;
}

type QueryClass = new (connection: SqliteConnection, sequelize: Sequelize, options: QueryOptions) => QueryInstance;
