import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import sqlite3 from "sqlite3";
import { createInboundWriter } from "../../src/bot/inbound-writer";
import type { InboundEvent } from "../../src/channels/channel";
import { migrate } from "../../src/db/migrate";
import { createDb, type Db } from "../../src/db/sequelize";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";

/** SQLite's hot-path statements (src/db/prepared.ts) and its connection settings, on a file database. */
describe("SQLite prepared statements", () => {
  const log = pino({ level: "silent" });
  let dir: string;
  let file: string;
  let db: Db;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-prepared-"));
    file = path.join(dir, "db.sqlite");
    db = createDb({ url: `sqlite:${file}`, poolMax: 1, logSql: false, log });
    await migrate(db, log);
  });
  afterEach(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Another process's writer: a second connection holding SQLite's write lock for `ms`. */
  async function holdWriteLock(ms: number): Promise<{ released: Promise<void> }> {
    const other = new sqlite3.Database(file);
    await new Promise<void>((resolve, reject) => other.exec("BEGIN IMMEDIATE; DELETE FROM inbound_events WHERE id < 0;", (err) => (err ? reject(err) : resolve())));
    return { released: new Promise<void>((resolve) => setTimeout(() => other.exec("COMMIT", () => other.close(() => resolve())), ms)) };
  }

  it("runs a statement on the driver and prepares it once however often it runs", async () => {
    const connection = (await db.sequelize.connectionManager.getConnection({ type: "write" })) as unknown as sqlite3.Database;
    const prepare = jest.spyOn(connection, "prepare");
    try {
      for (let i = 0; i < 3; i++) {
        expect(await db.prepared!.all<{ n: number; s: string }>("SELECT ? + 1 AS n, ? AS s", [i, `第${i}个`])).toEqual([{ n: i + 1, s: `第${i}个` }]);
      }
      expect(prepare).toHaveBeenCalledTimes(1);
    } finally {
      prepare.mockRestore();
    }
  });

  it("gives the driver's error for a statement that does not prepare, and tries again next time", async () => {
    await expect(db.prepared!.all("SELECT * FROM no_such_table", [])).rejects.toMatchObject({ code: "SQLITE_ERROR", message: expect.stringContaining("no_such_table") });
    await db.sequelize.query("CREATE TABLE no_such_table (x INTEGER)");
    await db.sequelize.query("INSERT INTO no_such_table VALUES (7)");
    expect(await db.prepared!.all("SELECT * FROM no_such_table", [])).toEqual([{ x: 7 }]);
  });

  it("waits for another writer's lock instead of failing after the driver's default second", async () => {
    const { released } = await holdWriteLock(1_600);
    const started = Date.now();
    const rows = await db.prepared!.all<{ id: number }>(
      "INSERT INTO inbound_events (platform, event_key, kind, payload, status, attempts, received_at) VALUES ('simulator', 'locked', 'text', '{}', 'received', 0, '2026-11-30 00:00:00.000 +00:00') RETURNING id",
      [],
    );
    expect(rows).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_200);
    await released;
  });

  it("lets the database close after statements were prepared", async () => {
    await db.prepared!.all("SELECT 1 AS one", []);
    await db.prepared!.all("SELECT 2 AS two", []);
    await expect(db.close()).resolves.toBeUndefined();
    db = createDb({ url: `sqlite:${file}`, poolMax: 1, logSql: false, log }); // for afterEach
  });
});

/** The inbound writer's two ways of sending a batch, on the suite's database (SQLite, or MariaDB with test:mysql). */
describe("inbound writer statements", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it.each([
    ["rows as one JSON array", true],
    ["rows inlined in the statement", false],
  ])("stores inbound events byte for byte, however odd their text: %s", async (_, jsonRows) => {
    const db = t.app.db;
    const run = `${jsonRows}-${Date.now()}`;
    const writer = createInboundWriter(db, { jsonRows });
    const texts = ['引号 "双" \'单\' 反斜杠 \\ 换行\n制表\t', "😀 表情与 \u2028 行分隔", "NUL \u0000 内嵌", "x".repeat(20_000)];
    const events: InboundEvent[] = texts.map((text, i) => ({ kind: "text", key: `odd:${run}:${i}:"'\\`, platform: "simulator", from: `u${i}`, text }));
    const receivedAt = new Date("2026-11-30T08:09:10.123Z");
    const results = await Promise.all(events.map((e) => writer.write(e, receivedAt)));
    expect(results.every((r) => typeof r.id === "number")).toBe(true);
    const rows = await db.models.InboundEvent.findAll({ where: { eventKey: events.map((e) => e.key) }, order: [["id", "ASC"]] });
    expect(rows.map((r) => r.eventKey)).toEqual(events.map((e) => e.key));
    expect(rows.map((r) => r.payload)).toEqual(events);
    // MySQL's plain DATETIME keeps whole seconds.
    const stored = onMysql ? Math.floor(receivedAt.getTime() / 1000) * 1000 : receivedAt.getTime();
    expect(rows.every((r) => r.receivedAt.getTime() === stored)).toBe(true);
    // Written again (a platform retry): every one is a duplicate, nothing new stored.
    expect((await Promise.all(events.map((e) => writer.write(e, receivedAt)))).map((r) => r.id)).toEqual(events.map(() => null));
    expect(await db.models.InboundEvent.count({ where: { eventKey: events.map((e) => e.key) } })).toBe(events.length);
  });
});
