import { QueryTypes } from "sequelize";
import type { Db } from "../db/sequelize";
import type { InboundEvent } from "../channels/channel";

/** One row to persist; `id` is set for a new event, null for one already stored (a duplicate). */
export interface Persisted {
  id: number | null;
}

/**
 * Group commit for inbound events. Callers arriving while a write is in flight wait for the next one,
 * and every event waiting then goes in ONE multi-row `INSERT … IGNORE … RETURNING`: under load a batch
 * per round trip instead of a statement per callback. A caller resolves only once its row is committed
 * (autocommit statement), so an acknowledged callback is never lost; when a batch fails, every caller
 * in it gets the error.
 *
 * RETURNING reports exactly the rows inserted (MariaDB ≥ 10.5, SQLite ≥ 3.35), so keys that were
 * already stored — by a retry, or another instance — come back as duplicates. MySQL has no RETURNING:
 * there each event is inserted on its own (still concurrently), and `affectedRows` tells new from old.
 */
export interface InboundWriter {
  write(event: InboundEvent, receivedAt: Date): Promise<Persisted>;
  /** Resolves when nothing is waiting to be written. */
  idle(): Promise<void>;
}

interface Returned {
  id: number | string;
  platform: string;
  event_key: string;
}

interface Waiter {
  event: InboundEvent;
  receivedAt: Date;
  resolve(p: Persisted): void;
  reject(err: unknown): void;
}

/** Rows per statement: a few hundred small rows stay far below max_allowed_packet. */
const MAX_BATCH = 400;
/**
 * Batches being written at once (MariaDB/MySQL). One: each batch then holds everything that arrived during
 * the previous commit, and fewer, larger statements cost MariaDB and the main thread less CPU than four
 * smaller ones in flight (bench:wecom with the bot held back: MariaDB 0.026 → 0.019 ms CPU per callback,
 * p99 no worse).
 */
const MAX_IN_FLIGHT = 1;
/** Fewer waiting events than this always go in one statement. */
const SPLIT_FROM = 8;

/** What the database can do for the writer, found out once (opts override it in tests). */
interface Capabilities {
  /** INSERT … RETURNING: SQLite ≥ 3.35 and MariaDB ≥ 10.5 do, MySQL does not. */
  returning: boolean;
  /** A batch as one bound JSON array unpacked by the database (json_each, JSON_TABLE: MariaDB ≥ 10.6). */
  jsonRows: boolean;
}

export function createInboundWriter(
  db: Db,
  opts: { maxBatch?: number; maxInFlight?: number; returning?: boolean; jsonRows?: boolean; split?: boolean } = {},
): InboundWriter {
  const maxBatch = opts.maxBatch ?? MAX_BATCH;
  // SQLite has one writer, so its statements queue; two at once still pay: the second batch is gathered
  // and handed over while the first commits on the driver's thread (bench:dingtalk: 5.9k → 6.7–7.7k frames/s).
  const maxInFlight = opts.maxInFlight ?? (db.dialect === "sqlite" ? 2 : MAX_IN_FLIGHT);
  let pending: Waiter[] = [];
  let capabilities: Promise<Capabilities> | null = null;
  // Known once the first batch has asked; until then (and where rows are inlined) no batch is split.
  let known: Capabilities | null = null;

  const esc = (v: unknown) => db.sequelize.escape(v as string);
  // Per row on the callback path: platform and kind are a handful of constants, and Sequelize formats a
  // Date through moment (a few µs per row in bench:wecom profiles); sqlDate gives the same text directly.
  const constants = new Map<string, string>();
  const escConstant = (v: string) => constants.get(v) ?? (constants.set(v, esc(v)), constants.get(v)!);
  const utc = db.dialect === "sqlite" || (db.sequelize as unknown as { options: { timezone?: string } }).options.timezone === "+00:00";
  const date = (d: Date) => (utc ? sqlDate(d, db.dialect) : esc(d));
  const values = (w: Waiter) =>
    `(${escConstant(w.event.platform)}, ${esc(w.event.key)}, ${escConstant(w.event.kind)}, ${esc(JSON.stringify(w.event))}, 'received', 0, ${date(w.receivedAt)})`;
  const COLUMNS = "(platform, event_key, kind, payload, status, attempts, received_at)";
  const ignore = db.dialect === "sqlite" ? "INSERT OR IGNORE" : "INSERT IGNORE";

  function capabilitiesOf(): Promise<Capabilities> {
    const fixed = (c: Capabilities) => {
      known = {
        returning: opts.returning ?? c.returning,
        jsonRows: (opts.returning ?? c.returning) && utc && (opts.jsonRows ?? c.jsonRows),
      };
      return known;
    };
    if (db.dialect === "sqlite") return Promise.resolve(known ?? fixed({ returning: true, jsonRows: true }));
    capabilities ??= db.sequelize
      .query<{ v: string }>("SELECT VERSION() AS v", { type: QueryTypes.SELECT })
      .then(([row]) => {
        const version = String(row?.v ?? "");
        const [major = 0, minor = 0] = version.split(".").map(Number);
        const mariadb = /mariadb/i.test(version);
        return fixed({ returning: mariadb, jsonRows: mariadb && (major > 10 || (major === 10 && minor >= 6)) });
      })
      .catch((err: unknown) => {
        capabilities = null; // asked again with the next batch, not failed for ever
        throw err;
      });
    return capabilities;
  }

  /**
   * One prepared statement for any number of rows, run on the driver (db.prepared). The rows go in as one
   * bound JSON array that the database unpacks (SQLite json_each, MariaDB JSON_TABLE), so the main thread
   * does one JSON.stringify per batch instead of escaping every value into kilobytes of SQL text that
   * Sequelize copied and scanned with regexes and the database parsed again; and a statement per batch
   * size would keep hundreds prepared (bench:dingtalk and bench:wecom profiles).
   */
  const JSON_INSERT =
    db.dialect === "sqlite"
      ? `INSERT OR IGNORE INTO inbound_events ${COLUMNS} ` +
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), 'received', 0, json_extract(value, '$[4]') " +
        "FROM json_each(?) RETURNING id, platform, event_key"
      : // Columns as wide as the table's or wider: the table's own checks apply, as to inlined values.
        `INSERT IGNORE INTO inbound_events ${COLUMNS} ` +
        "SELECT j.platform, j.event_key, j.kind, j.payload, 'received', 0, j.received_at FROM JSON_TABLE(?, '$[*]' COLUMNS (" +
        "platform VARCHAR(255) CHARACTER SET utf8mb4 PATH '$[0]' ERROR ON ERROR, " +
        "event_key VARCHAR(1024) CHARACTER SET utf8mb4 PATH '$[1]' ERROR ON ERROR, " +
        "kind VARCHAR(255) CHARACTER SET utf8mb4 PATH '$[2]' ERROR ON ERROR, " +
        "payload LONGTEXT CHARACTER SET utf8mb4 PATH '$[3]' ERROR ON ERROR, " +
        "received_at VARCHAR(32) CHARACTER SET utf8mb4 PATH '$[4]' ERROR ON ERROR)) AS j RETURNING id, platform, event_key";
  const dateOf = db.dialect === "sqlite" ? sqliteDate : (d: Date) => mysqlDate(d).slice(1, -1);
  // Events of a batch mostly arrived in the same millisecond: the date text is made once for them.
  let lastDate = NaN;
  let lastDateText = "";
  const dateText = (d: Date) => (d.getTime() === lastDate ? lastDateText : ((lastDate = d.getTime()), (lastDateText = dateOf(d))));
  // SQLite's json_extract gives an object at a path as its JSON text, so the event goes in as it is and is
  // serialized once with the batch; MariaDB's JSON_TABLE takes only scalars, so there it is a string.
  const payloadOf = db.dialect === "sqlite" ? (e: InboundEvent) => e : (e: InboundEvent) => JSON.stringify(e);
  function insertJson(rows: Waiter[]): Promise<Returned[]> {
    const tuples = rows.map((w) => [w.event.platform, w.event.key, w.event.kind, payloadOf(w.event), dateText(w.receivedAt)]);
    return db.prepared.all<Returned>(JSON_INSERT, [JSON.stringify(tuples)]);
  }

  async function writeBatch(batch: Waiter[]): Promise<Map<Waiter, Persisted>> {
    const out = new Map<Waiter, Persisted>();
    // Two copies of one key in a batch: the first is the event, the rest are duplicates of it.
    const first = new Map<string, Waiter>();
    for (const w of batch) {
      const k = `${w.event.platform}\u0000${w.event.key}`;
      if (first.has(k)) out.set(w, { id: null });
      else first.set(k, w);
    }
    const unique = [...first.values()];
    const can = await capabilitiesOf();
    if (can.returning) {
      const rows = can.jsonRows ? await insertJson(unique) : await db.sequelize.query<Returned>(
        `${ignore} INTO inbound_events ${COLUMNS} VALUES ${unique.map(values).join(", ")} RETURNING id, platform, event_key`,
        { type: QueryTypes.SELECT },
      );
      const ids = new Map(rows.map((r) => [`${r.platform}\u0000${r.event_key}`, Number(r.id)]));
      for (const [k, w] of first) out.set(w, { id: ids.get(k) ?? null });
      return out;
    }
    await Promise.all(
      unique.map(async (w) => {
        const [insertId, affectedRows] = (await db.sequelize.query(`${ignore} INTO inbound_events ${COLUMNS} VALUES ${values(w)}`, {
          type: QueryTypes.INSERT,
        })) as unknown as [number, number];
        // Sequelize answers [insertId, affectedRows] for a MySQL INSERT; an ignored duplicate affects no row.
        out.set(w, { id: Number(affectedRows) > 0 ? Number(insertId) : null });
      }),
    );
    return out;
  }

  let inFlight = 0;
  let scheduled = false;
  // Batches settle in the order they were taken, even when a later one commits first: events handed to
  // the bot keep their arrival order (a sender's messages stay in sequence).
  let settled: Promise<void> = Promise.resolve();
  const idleWaiters: Array<() => void> = [];

  /**
   * Takes the next batch. When nothing is being written and a second statement may start, a large set of
   * waiting events goes in two halves: the first half commits sooner and its callers are answered while
   * the second half commits, so new events start arriving before the whole set is stored. Only where a
   * statement costs the main thread little (rows as JSON). On SQLite, with the driver's thread doing the
   * commit, that keeps the main thread working instead of waiting (bench:dingtalk: 7.3–8.5k → 9.0–11.0k
   * frames/s with 32 in flight).
   */
  function flushOne() {
    const half = (opts.split ?? known?.jsonRows ?? false) && inFlight === 0 && maxInFlight > 1 && pending.length >= SPLIT_FROM;
    const batch = pending.slice(0, Math.min(maxBatch, half ? Math.ceil(pending.length / 2) : maxBatch));
    pending = pending.slice(batch.length);
    inFlight += 1;
    const written = writeBatch(batch).then(
      (results) => () => batch.forEach((w) => w.resolve(results.get(w)!)),
      (err: unknown) => () => batch.forEach((w) => w.reject(err)),
    );
    settled = settled.then(async () => {
      const answer = await written;
      inFlight -= 1;
      // Events that waited out a whole commit gain nothing by waiting a turn more: the next statement goes
      // to the driver before this batch's callers are answered, so its thread is not left idle meanwhile.
      if (pending.length > 0 && inFlight < maxInFlight && !scheduled) flushOne();
      answer();
      kick();
      if (inFlight === 0 && pending.length === 0) idleWaiters.splice(0).forEach((r) => r());
    });
  }

  /**
   * Starts a batch when there is room: at most `maxInFlight` statements at once. Commit latency (an fsync)
   * bounds a single writer at one batch per fsync, however many rows it holds; on SQLite a second one in
   * flight keeps the driver's thread busy while the main thread gathers the next.
   * A batch waits one turn of the event loop, so callbacks parsed in the same turn go together. Waiting
   * longer (a 2 ms linger was tried) halved bench:dingtalk: its window of frames waits for the acks.
   */
  function kick() {
    if (scheduled || pending.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    const start = () => {
      scheduled = false;
      while (pending.length > 0 && inFlight < maxInFlight) flushOne();
    };
    setImmediate(start);
  }

  return {
    write(event, receivedAt) {
      return new Promise<Persisted>((resolve, reject) => {
        pending.push({ event, receivedAt, resolve, reject });
        kick();
      });
    },
    idle() {
      if (inFlight === 0 && pending.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}

/**
 * A UTC Date as Sequelize's escape() writes it for the dialect (checked against it in
 * test/unit/inbound-sql-date.test.ts): SQLite keeps milliseconds and the offset, MySQL's plain DATETIME
 * drops the milliseconds.
 */
export function sqlDate(d: Date, dialect: Db["dialect"]): string {
  return dialect === "sqlite" ? `'${sqliteDate(d)}'` : mysqlDate(d);
}

/** The text SQLite stores for a date (Sequelize's format), unquoted: for binding. */
export function sqliteDate(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} +00:00`;
}

function mysqlDate(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  return `'${iso.slice(0, 10)} ${iso.slice(11, 19)}'`;
}
