import { Op } from "sequelize";
import { createInboundPipeline, type InboundPipeline } from "../../src/bot/inbound";
import { createInboundWriter } from "../../src/bot/inbound-writer";
import type { InboundEvent } from "../../src/channels/channel";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";

/** The inbound pipeline's group commit and its bot lanes, on the suite's database (SQLite or MariaDB). */
describe("inbound pipeline batching", () => {
  let t: TestApp;
  let seq = 0;
  const run = `${process.pid}-${Date.now()}`;
  const text = (from: string, n = seq++): InboundEvent => ({ kind: "text", key: `batch:${run}:${n}`, platform: "simulator", from, text: `m${n}` });

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A pipeline over the app's db that records what the bot was handed. */
  function pipeline(handle: (e: InboundEvent) => Promise<void> = async () => undefined): InboundPipeline {
    return createInboundPipeline({ db: t.app.db, log: t.app.log, now: () => new Date(), handle });
  }
  /**
   * Spies on every way a statement reaches the database: Sequelize's query(), and on SQLite the prepared
   * statements of the hot path (db.prepared). `fail` makes the inbound INSERT throw instead; while `hold()`
   * gives a promise, the inbound INSERT waits for it first (a slow commit).
   */
  function spyOnStatements(fail?: Error, hold?: () => Promise<void> | undefined) {
    const seen: string[] = [];
    const sequelize = t.app.db.sequelize;
    const query = sequelize.query.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;
    const before = async (sql: string) => {
      seen.push(sql);
      if (!/INTO inbound_events/.test(sql)) return;
      await hold?.();
      if (fail) throw fail;
    };
    const spies: Array<{ mockRestore(): void }> = [
      jest.spyOn(sequelize, "query").mockImplementation((async (...args: unknown[]) => {
        await before(String(args[0]));
        return query(...args);
      }) as never),
    ];
    const prepared = t.app.db.prepared;
    if (prepared) {
      const all = prepared.all.bind(prepared);
      spies.push(
        jest.spyOn(prepared, "all").mockImplementation((async (sql: string, params: unknown[]) => {
          await before(sql);
          return all(sql, params);
        }) as never),
      );
    }
    return { statements: seen, restore: () => spies.forEach((s) => s.mockRestore()) };
  }
  const rowsFor = (events: InboundEvent[]) =>
    t.app.db.models.InboundEvent.findAll({ where: { platform: "simulator", eventKey: { [Op.in]: events.map((e) => e.key) } } });

  it("stores one row per event when many arrive at once, in a handful of statements", async () => {
    const events = Array.from({ length: 200 }, (_, i) => text(`u${i % 10}`));
    const p = pipeline();
    const spy = spyOnStatements();
    try {
      const results = await Promise.all(events.map((e) => p.receive(e)));
      expect(results.every((r) => !r.duplicate)).toBe(true);
    } finally {
      spy.restore();
    }
    const statements = spy.statements;
    await p.drain();
    const rows = await rowsFor(events);
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.eventKey)).size).toBe(200);
    expect(rows.every((r) => r.status === "processed")).toBe(true);
    // Group commit: far fewer INSERTs than events (without it there would be 200).
    const inserts = statements.filter((s) => /^INSERT (OR )?IGNORE INTO inbound_events/.test(s));
    expect(inserts.length).toBeGreaterThan(0);
    expect(inserts.length).toBeLessThan(20);
  });

  it("writes a large set arriving while nothing is in flight in two halves, one when splitting is off", async () => {
    const inserts = async (split: boolean) => {
      const writer = createInboundWriter(t.app.db, { maxInFlight: 2, split });
      const events = Array.from({ length: 20 }, (_, i) => text(`s${i % 3}`));
      const spy = spyOnStatements();
      let results: Array<{ id: number | null }>;
      try {
        results = await Promise.all(events.map((e) => writer.write(e, new Date())));
      } finally {
        spy.restore();
      }
      expect(new Set(results.map((r) => r.id)).size).toBe(20);
      expect(results.every((r) => typeof r.id === "number")).toBe(true);
      expect(await rowsFor(events)).toHaveLength(20);
      return spy.statements.filter((s) => /INTO inbound_events/.test(s)).length;
    };
    expect(await inserts(true)).toBe(2);
    expect(await inserts(false)).toBe(1);
  });

  it("hands the events that waited out a commit to the driver before that commit's callers are answered", async () => {
    const writer = createInboundWriter(t.app.db, { maxInFlight: 1 });
    const spy = spyOnStatements();
    const inserts = () => spy.statements.filter((q) => /INTO inbound_events/.test(q)).length;
    let insertsWhenFirstAnswered = -1;
    try {
      const first = writer.write(text("hand"), new Date()).then(() => (insertsWhenFirstAnswered = inserts()));
      await new Promise((r) => setImmediate(r)); // the first statement is out
      const later = Array.from({ length: 3 }, () => writer.write(text("hand"), new Date()));
      await Promise.all([first, ...later]);
    } finally {
      spy.restore();
    }
    // Without the hand-over the second statement waited a turn of the event loop after the first's answers.
    expect(insertsWhenFirstAnswered).toBe(2);
    expect(inserts()).toBe(2);
  });

  it("reports copies of one event inside a batch, and one already stored, as duplicates", async () => {
    const handled: string[] = [];
    const stored = text("dup");
    const p = pipeline(async (e) => void handled.push(e.key));
    expect(await p.receive(stored)).toEqual({ duplicate: false });
    await p.drain();
    // Another instance (a pipeline of its own) gets the stored one again and the fresh one thrice at once.
    const q = pipeline(async (e) => void handled.push(e.key));
    const fresh = text("dup");
    const results = await Promise.all([q.receive(fresh), q.receive(fresh), q.receive(stored), q.receive(fresh)]);
    expect(results.map((r) => r.duplicate)).toEqual([false, true, true, true]);
    await q.drain();
    expect(await rowsFor([fresh, stored])).toHaveLength(2);
    expect(handled).toEqual([stored.key, fresh.key]);
  });

  it("stores and hands to the bot once what two instances receive at the same moment", async () => {
    // Two pipelines, each with its own writer and statements: as two instances behind a load balancer
    // that both get the platform's first try and its retry. Only the unique key can tell them apart.
    const handled: string[] = [];
    const a = pipeline(async (e) => void handled.push(e.key));
    const b = pipeline(async (e) => void handled.push(e.key));
    const events = Array.from({ length: 40 }, (_, i) => text(`twin${i % 4}`));
    const results = await Promise.all(events.flatMap((e) => [a.receive(e), b.receive(e)]));
    await Promise.all([a.drain(), b.drain()]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(events.length);
    expect(await rowsFor(events)).toHaveLength(events.length);
    expect(handled.sort()).toEqual(events.map((e) => e.key).sort());
  });

  it("answers a repeat that arrives while this instance is still writing the event with that write's outcome", async () => {
    const events = [text("inflight")];
    const p = pipeline();
    const spy = spyOnStatements(new Error("database went away"));
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      // The same callback twice at once (a retry on top of a slow first attempt): the first write fails.
      outcomes = await Promise.allSettled([p.receive(events[0]), p.receive(events[0])]);
    } finally {
      spy.restore();
    }
    // Neither is acked: the repeat is not a duplicate of something never stored.
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(await rowsFor(events)).toHaveLength(0);
    expect(await p.receive(events[0])).toEqual({ duplicate: false });
    await p.drain();
    expect(await rowsFor(events)).toHaveLength(1);
  });

  it("gives every caller in a failed batch the error, and takes the platform's retries as new", async () => {
    const events = Array.from({ length: 5 }, () => text("fail"));
    const p = pipeline();
    const spy = spyOnStatements(new Error("database went away"));
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      outcomes = await Promise.allSettled(events.map((e) => p.receive(e)));
    } finally {
      spy.restore();
    }
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill("rejected"));
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason.message)).toEqual(Array(5).fill("database went away"));
    expect(await rowsFor(events)).toHaveLength(0);
    // The platform's retry is taken as new, not as a duplicate of something never stored.
    const retried = await Promise.all(events.map((e) => p.receive(e)));
    expect(retried.every((r) => !r.duplicate)).toBe(true);
    await p.drain();
    expect(await rowsFor(events)).toHaveLength(5);
  });

  it("hands each sender's events to the bot in the order they arrived, several senders at once", async () => {
    const order = new Map<string, string[]>();
    let running = 0;
    let most = 0;
    const p = pipeline(async (e) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      order.set(e.from, [...(order.get(e.from) ?? []), e.key]);
      running -= 1;
    });
    const bySender = new Map<string, InboundEvent[]>();
    const events: InboundEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const e = text(`lane${i % 4}`);
      events.push(e);
      bySender.set(e.from, [...(bySender.get(e.from) ?? []), e]);
    }
    // Sequential receives: the arrival order is the order each sender typed in.
    for (const e of events) await p.receive(e);
    await p.drain();
    for (const [from, sent] of bySender) expect(order.get(from)).toEqual(sent.map((e) => e.key));
    expect(most).toBeGreaterThan(1); // senders are not serialised behind each other
  });

  it("keeps each sender's order when their events arrive together and are written in several batches", async () => {
    const order = new Map<string, string[]>();
    const p = createInboundPipeline(
      { db: t.app.db, log: t.app.log, now: () => new Date(), handle: async (e) => void order.set(e.from, [...(order.get(e.from) ?? []), e.key]) },
      { maxBatch: 7 },
    );
    const events = Array.from({ length: 80 }, (_, i) => text(`burst${i % 5}`));
    const results = await Promise.all(events.map((e) => p.receive(e)));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    await p.drain();
    for (let s = 0; s < 5; s++) {
      expect(order.get(`burst${s}`)).toEqual(events.filter((e) => e.from === `burst${s}`).map((e) => e.key));
    }
  });

  it("holds the bot back while callbacks are arriving, for at most maxDeferMs", async () => {
    const handledAt = new Map<string, number>();
    let release!: () => void;
    const slowCommit = new Promise<void>((r) => (release = r));
    let holding = false;
    const p = createInboundPipeline(
      { db: t.app.db, log: t.app.log, now: () => new Date(), handle: async (e) => void handledAt.set(e.key, Date.now()) },
      { maxDeferMs: 300 },
    );
    const start = Date.now();
    const quick = text("hold");
    const spy = spyOnStatements(undefined, () => (holding ? slowCommit : undefined));
    try {
      expect(await p.receive(quick)).toEqual({ duplicate: false });
      // A callback whose INSERT is slow: while it is in flight, callbacks are "arriving".
      holding = true;
      const slow = text("hold");
      const pendingSlow = p.receive(slow);
      await new Promise((r) => setTimeout(r, 100));
      expect(handledAt.has(quick.key)).toBe(false); // stored, answered, not yet handed to the bot
      await new Promise((r) => setTimeout(r, 400));
      expect(handledAt.get(quick.key)! - start).toBeGreaterThanOrEqual(250); // handled once it had waited long enough
      expect(handledAt.has(slow.key)).toBe(false);
      holding = false;
      release();
      await pendingSlow;
      await p.drain();
      expect(handledAt.has(slow.key)).toBe(true);
    } finally {
      spy.restore();
    }
  });

  it("recovers events stored but never handled, without handing over those already queued", async () => {
    const stuck = text("crash");
    // Persisted by an instance that died before its bot handled it.
    await t.app.db.models.InboundEvent.create({ platform: "simulator", eventKey: stuck.key, kind: "text", payload: stuck as unknown as Record<string, unknown>, receivedAt: new Date(Date.now() - 60_000) });
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = pipeline(async (e) => {
      handled.push(e.key);
      await gate;
    });
    const queued = text("crash");
    await p.receive(queued); // stuck behind the gate in lane "crash"
    const recovered = await p.recover(0);
    expect(recovered).toBeGreaterThanOrEqual(1);
    expect(await p.recover(0)).toBe(0); // everything is queued here already
    release();
    await p.drain();
    expect(handled.filter((k) => k === queued.key)).toHaveLength(1);
    expect(handled.filter((k) => k === stuck.key)).toHaveLength(1);
    const [row] = await rowsFor([stuck]);
    expect(row.status).toBe("processed");
  });

  it("reads no payload of a stale event it has queued already (a long burst's own backlog)", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = pipeline(() => gate);
    // One sender: the first is being handled, the rest wait in its lane.
    const queued = Array.from({ length: 40 }, () => text("backlog-own"));
    await Promise.all(queued.map((e) => p.receive(e)));
    const queuedIds = new Set((await rowsFor(queued)).map((r) => r.id));
    await new Promise((r) => setTimeout(r, 5)); // older than recover(0)'s cut-off
    const Model = t.app.db.models.InboundEvent;
    const findAll = Model.findAll.bind(Model);
    const withPayload: number[] = [];
    const spy = jest.spyOn(Model, "findAll").mockImplementation((async (opts?: Parameters<typeof findAll>[0]) => {
      const rows = await findAll(opts);
      for (const row of rows as unknown as Array<Record<string, unknown> & { get?(k: string): unknown }>) {
        const payload = typeof row.get === "function" ? row.get("payload") : row.payload;
        if (payload !== undefined) withPayload.push(Number(typeof row.get === "function" ? row.get("id") : row.id));
      }
      return rows;
    }) as never);
    try {
      expect(await p.recover(0)).toBe(0);
      expect(spy).toHaveBeenCalled();
      expect(withPayload.filter((id) => queuedIds.has(id))).toEqual([]);
    } finally {
      spy.mockRestore();
      release();
      await p.drain();
    }
    expect((await rowsFor(queued)).every((r) => r.status === "processed")).toBe(true);
  });

  (onMysql ? it : it.skip)("tells new from duplicate on MySQL, which has no RETURNING, one insert per event", async () => {
    const writer = createInboundWriter(t.app.db, { returning: false });
    const a = text("mysql");
    const b = text("mysql");
    const first = await Promise.all([writer.write(a, new Date()), writer.write(b, new Date()), writer.write(a, new Date())]);
    expect(first[0].id).toEqual(expect.any(Number));
    expect(first[1].id).toEqual(expect.any(Number));
    expect(first[2].id).toBeNull();
    expect((await writer.write(b, new Date())).id).toBeNull();
    const rows = await rowsFor([a, b]);
    expect(rows.map((r) => r.id).sort()).toEqual([first[0].id, first[1].id].sort());
  });

  it("recovers more stale events than one page holds", async () => {
    const stale = Array.from({ length: 1200 }, () => text("backlog"));
    const at = new Date(Date.now() - 60_000);
    await t.app.db.models.InboundEvent.bulkCreate(
      stale.map((e) => ({ platform: e.platform, eventKey: e.key, kind: e.kind, payload: e as unknown as Record<string, unknown>, receivedAt: at })),
    );
    const handled = new Set<string>();
    const p = pipeline(async (e) => void handled.add(e.key));
    expect(await p.recover(0)).toBeGreaterThanOrEqual(1200);
    await p.drain();
    expect(stale.every((e) => handled.has(e.key))).toBe(true);
    expect((await rowsFor(stale)).every((r) => r.status === "processed")).toBe(true);
  });

  it("keeps an event whose handling failed for recovery, counting the attempt", async () => {
    const e = text("boom");
    const p = pipeline(async () => {
      throw new Error("bot broke");
    });
    await p.receive(e);
    await p.drain();
    const [row] = await rowsFor([e]);
    expect([row.status, row.attempts, row.lastError]).toEqual(["received", 1, "bot broke"]);
    // The row written by the batch insert is found by the time cut-off (SQLite compares date text).
    const handled: string[] = [];
    const later = pipeline(async (x) => void handled.push(x.key));
    await new Promise((r) => setTimeout(r, 5));
    await later.recover(0);
    await later.drain();
    expect(handled).toContain(e.key);
    expect((await rowsFor([e]))[0].status).toBe("processed");
  });
});
