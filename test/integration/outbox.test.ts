import { Op } from "sequelize";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { buildUser } from "../helpers/factories";
import { createDispatcher } from "../../src/outbox/dispatcher";
import { createDeliverers } from "../../src/outbox/deliver";
import { enqueue } from "../../src/services/enqueue";

const FAST = { OUTBOX_BACKOFF_BASE_MS: "1", OUTBOX_BACKOFF_MAX_MS: "5", OUTBOX_MAX_ATTEMPTS: "4", OUTBOX_BATCH_SIZE: "50" };

describe(`outbox dispatcher (${onMysql ? "MariaDB" : "SQLite"})`, () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { ...FAST, SIMULATOR_RATE_PER_SEC: "100000" } });
  });
  afterEach(() => t.close());

  async function queueTexts(userId: number, n: number, prefix = "t") {
    await t.app.db.transaction((tx) =>
      enqueue(t.app.deps, tx, Array.from({ length: n }, (_, i) => ({
        topic: "chat.text" as const,
        dedupeKey: `${prefix}:${i}`,
        payload: { userId, text: `消息 ${i}` },
      }))),
    );
  }

  async function sentTexts(platformUserId: string) {
    return (await t.app.simulator!.history(`user:${platformUserId}`, 1000)).filter((m) => m.direction === "out");
  }

  async function runUntilIdle(times = 50) {
    for (let i = 0; i < times; i++) {
      const r = await t.app.dispatcher.runOnce();
      const open = await t.app.db.models.Outbox.count({ where: { status: { [Op.in]: ["pending", "leased", "sending"] } } });
      if (open === 0 && r.claimed === 0) return;
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  it("loses nothing while the platform fails, then recovers, keeping each person's messages in order", async () => {
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 3);
    t.app.simulator!.failNext(3);
    await runUntilIdle();
    const rows = await t.app.db.models.Outbox.findAll({ order: [["id", "ASC"]] });
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent", "sent"]);
    expect(rows[0].attempts).toBe(4);
    expect((await sentTexts(user.platformUserId)).map((m) => m.text)).toEqual(["消息 0", "消息 1", "消息 2"]);
  });

  it("marks a row dead after the last attempt, and the CLI's retry sends it once", async () => {
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 1);
    t.app.simulator!.failNext(100);
    await runUntilIdle();
    const row = await t.app.db.models.Outbox.findOne();
    expect(row).toMatchObject({ status: "dead", attempts: 4 });
    expect(row!.lastError).toMatch(/simulated platform failure/);
    t.app.simulator!.failNext(0);
    await t.app.db.models.Outbox.update({ status: "pending", attempts: 0, nextAttemptAt: new Date() }, { where: { id: row!.id } });
    await runUntilIdle();
    expect(await sentTexts(user.platformUserId)).toHaveLength(1);
  });

  it("re-checks a row interrupted mid-send instead of sending it again", async () => {
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 2);
    // Row 0 reached the platform before the process died; row 1 died before the call went out.
    await t.app.simulator!.sendText({ platform: "simulator", platformUserId: user.platformUserId }, "消息 0", { dedupeKey: "t:0" });
    const past = new Date(Date.now() - 1000);
    await t.app.db.models.Outbox.update({ status: "sending", leaseUntil: past, leasedBy: "dead-dispatcher", attempts: 1 }, { where: {} });
    await runUntilIdle();
    const rows = await t.app.db.models.Outbox.findAll({ order: [["id", "ASC"]] });
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent"]);
    expect((await sentTexts(user.platformUserId)).map((m) => m.text)).toEqual(["消息 0", "消息 1"]);
  });

  it("never lets a dispatcher settle a row another one has re-claimed", async () => {
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 1);
    await t.app.db.models.Outbox.update({ status: "leased", leasedBy: "someone-else", leaseUntil: new Date(Date.now() + 60_000) }, { where: {} });
    const r = await t.app.dispatcher.runOnce();
    expect(r.claimed).toBe(0);
    expect(await sentTexts(user.platformUserId)).toHaveLength(0);
  });

  it("honours the platform rate limit by deferring, not failing", async () => {
    await t.close();
    // One message every two seconds: a slow machine cannot earn a second token during the batch.
    t = await createTestApp({ env: { ...FAST, SIMULATOR_RATE_PER_SEC: "0.5" } });
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 20);
    const first = await t.app.dispatcher.runOnce();
    expect(first.sent).toBeGreaterThanOrEqual(1);
    expect(first.sent).toBeLessThanOrEqual(2);
    expect(first.deferred).toBeGreaterThanOrEqual(18);
    expect(first.dead + first.retried).toBe(0);
    const deferred = await t.app.db.models.Outbox.findAll({ where: { status: "pending" } });
    expect(deferred.every((r) => r.attempts === 0)).toBe(true);
  });

  it("delivers rows committed in this process at once, not at the next poll", async () => {
    await t.close();
    t = await createTestApp({ env: { ...FAST, SIMULATOR_RATE_PER_SEC: "100000", OUTBOX_POLL_MS: "60000" } });
    const user = await buildUser(t.app, ["sales"]);
    t.app.dispatcher.start();
    try {
      // The start-up look has found nothing by now; the next poll is a minute away.
      await new Promise((res) => setTimeout(res, 300));
      const queuedAt = Date.now();
      await queueTexts(user.id, 2, "nudged");
      while ((await sentTexts(user.platformUserId)).length < 2 && Date.now() - queuedAt < 5_000) await new Promise((res) => setTimeout(res, 20));
      expect((await sentTexts(user.platformUserId)).map((m) => m.text)).toEqual(["消息 0", "消息 1"]);
      expect(Date.now() - queuedAt).toBeLessThan(5_000);
    } finally {
      await t.app.dispatcher.stop();
    }
  });

  it("sends each row exactly once with two dispatchers working at once", async () => {
    const user = await buildUser(t.app, ["sales"]);
    await queueTexts(user.id, 120, "pair");
    const config = t.app.config.outbox;
    const deliverers = createDeliverers({
      db: t.app.db, cache: t.app.cache, services: t.app.services, channels: t.app.channels, now: () => new Date(), ratePerSec: () => 100000,
    });
    const make = (name: string) => createDispatcher({ db: t.app.db, cache: t.app.cache, log: t.app.log, now: () => new Date(), deliverers }, { ...config, batchSize: 10, name });
    const a = make("A");
    const b = make("B");
    const loop = async (d: typeof a) => {
      for (let i = 0; i < 40; i++) {
        const r = await d.runOnce();
        if (r.claimed === 0) return;
      }
    };
    await Promise.all([loop(a), loop(b)]);
    const texts = await sentTexts(user.platformUserId);
    expect(texts).toHaveLength(120);
    expect(new Set(texts.map((m) => m.text)).size).toBe(120);
    expect(await t.app.db.models.Outbox.count({ where: { status: "sent" } })).toBe(120);
  });
});
