import path from "node:path";
import { Umzug, SequelizeStorage } from "umzug";
import type { QueryInterface } from "sequelize";

type MigrationFn = (params: { context: QueryInterface }) => Promise<void>;
import type { Logger } from "pino";
import type { Db } from "./sequelize";

// Works from src/db (ts) and dist/src/db (compiled js) alike.
const MIGRATIONS_DIR = path.resolve(__dirname, "../../migrations");

function migrator(db: Db, log: Logger) {
  return new Umzug<QueryInterface>({
    migrations: {
      glob: ["*.{js,ts}", { cwd: MIGRATIONS_DIR, ignore: ["*.d.ts"] }],
      // Recorded without the extension, so running from source (ts) or from dist (js) agrees.
      resolve: ({ name, path: file, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(file as string) as { up: MigrationFn; down?: MigrationFn };
        return {
          name: name.replace(/\.(js|ts)$/, ""),
          up: () => migration.up({ context }),
          down: async () => migration.down?.({ context }),
        };
      },
    },
    context: db.sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: "schema_migrations" }),
    logger: {
      info: (m) => log.info(m, "migration"),
      warn: (m) => log.warn(m, "migration"),
      error: (m) => log.error(m, "migration"),
      debug: (m) => log.debug(m, "migration"),
    },
  });
}

/** Applies pending migrations; instances starting together take turns through a database lock. */
export async function migrate(db: Db, log: Logger): Promise<string[]> {
  const umzug = migrator(db, log);
  if (db.dialect === "sqlite") {
    await db.sequelize.query("PRAGMA journal_mode = WAL");
    return (await umzug.up()).map((m) => m.name);
  }
  // The lock lives on one pinned connection while the migrations run on others.
  return db.sequelize.transaction(async (tx) => {
    await db.sequelize.query("SELECT GET_LOCK('chatorder_migrate', 120)", { transaction: tx });
    try {
      return (await umzug.up()).map((m) => m.name);
    } finally {
      await db.sequelize.query("SELECT RELEASE_LOCK('chatorder_migrate')", { transaction: tx });
    }
  });
}

export async function pendingMigrations(db: Db, log: Logger): Promise<string[]> {
  return (await migrator(db, log).pending()).map((m) => m.name);
}
