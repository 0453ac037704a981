import mysql from "mysql2/promise";
import sqlite3 from "sqlite3";
import request from "supertest";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";
import { testWecomConfig, textXml, wecomEnv, wecomPost } from "../helpers/wecom";

/**
 * A callback whose store does not answer within WECOM_CALLBACK_BUDGET_MS is refused with a 503 at once,
 * not held until WeCom gives up on it (5 s, wecom.md 2.3); the store under way still lands, the bot
 * handles the event once, and WeCom's repeat of it is answered as a duplicate. Another connection
 * holding the inbound table's write lock stands in for a database that stalls.
 */
describe("the WeCom callback answer budget", () => {
  const config = testWecomConfig();
  const BUDGET_MS = 300;
  const lines: Array<{ msg: string; budgetMs?: number }> = [];
  let t: TestApp;
  let seq = 0;
  const msgId = () => `${Date.now()}${String(seq++).padStart(6, "0")}`;
  const post = (cb: { query: Record<string, string>; body: string }) =>
    request(t.callback).post("/wecom/callback").query(cb.query).set("Content-Type", "text/xml").send(cb.body);
  const rowsFor = (id: string) => t.app.db.models.InboundEvent.findAll({ where: { platform: "wecom", eventKey: `msg:${id}` } });
  const replies = () => t.app.db.models.Outbox.count();

  beforeAll(async () => {
    t = await createTestApp({
      env: { ...wecomEnv(config, "http://127.0.0.1:9"), WECOM_CALLBACK_BUDGET_MS: String(BUDGET_MS), LOG_LEVEL: "warn" },
      logDestination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: "zhangsan", name: "张三", mobile: null, roles: [], managerId: null, department: null });
  });
  afterAll(async () => {
    await t.app.inbound.drain();
    await t.close();
  });

  /** Another writer holding the lock on inbound_events until release() is called. */
  async function holdInboundLock(): Promise<{ release(): Promise<void>; held(): boolean }> {
    let held = true;
    const url = t.app.config.database.url;
    if (onMysql) {
      const other = await mysql.createConnection(url);
      await other.query("LOCK TABLES inbound_events WRITE");
      return {
        held: () => held,
        async release() {
          held = false;
          await other.query("UNLOCK TABLES");
          await other.end();
        },
      };
    }
    const other = new sqlite3.Database(url.slice("sqlite:".length));
    await new Promise<void>((resolve, reject) => other.exec("BEGIN IMMEDIATE; DELETE FROM inbound_events WHERE id < 0;", (err) => (err ? reject(err) : resolve())));
    return {
      held: () => held,
      release: () =>
        new Promise<void>((resolve, reject) => {
          held = false;
          other.exec("COMMIT", (err) => (err ? reject(err) : other.close(() => resolve())));
        }),
    };
  }

  it("answers 503 while the store stalls, then stores and handles the event once, and acks WeCom's repeat as a duplicate", async () => {
    const id = msgId();
    const repliesBefore = await replies();
    const lock = await holdInboundLock();
    let refused: request.Response;
    try {
      refused = await post(wecomPost(config, textXml("zhangsan", "帮助", id)));
      // Answered while the store was still stuck, not when it came free.
      expect(lock.held()).toBe(true);
    } finally {
      await lock.release();
    }
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: { code: "unavailable", message: "callback could not be stored in time; deliver it again" } });
    expect(lines.filter((l) => l.msg === "wecom callback not stored within its budget; answered 503")).toEqual([expect.objectContaining({ budgetMs: BUDGET_MS })]);

    // The store that was under way lands, and the bot answers the message once.
    await waitFor(async () => (await rowsFor(id)).length === 1);
    await t.app.inbound.drain();
    expect((await rowsFor(id))[0].status).toBe("processed");
    const answered = await replies();
    expect(answered).toBe(repliesBefore + 1);

    // WeCom delivers it again (signed afresh): acknowledged, and nothing happens twice.
    const repeat = await post(wecomPost(config, textXml("zhangsan", "帮助", id)));
    expect([repeat.status, repeat.text]).toEqual([200, "success"]);
    await t.app.inbound.drain();
    expect(await rowsFor(id)).toHaveLength(1);
    expect(await replies()).toBe(answered);
  });

  it("answers as before when the store is quick", async () => {
    const id = msgId();
    const res = await post(wecomPost(config, textXml("zhangsan", "帮助", id)));
    expect([res.status, res.text]).toEqual([200, "success"]);
    expect(await rowsFor(id)).toHaveLength(1);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}
