import crypto from "node:crypto";
import { Op } from "sequelize";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig, wecomEnv } from "../helpers/wecom";
import { enqueue, type OutboxMessage } from "../../src/services/enqueue";
import { FakeDingtalkServer, FakeWecomServer } from "./support/fake-platforms";

/**
 * WeCom and DingTalk failing for a while under a running dispatcher — HTTP 5xx and 429, WeCom's
 * errcode -1, tokens expiring mid-run (42001 / 401) and the token fetch failing — then a spell in
 * which every token is refused as soon as it is used. Once they recover, every outbox message must
 * have reached its platform exactly once: none lost, none twice (counted per message in what each
 * fake accepted).
 */
jest.setTimeout(180_000);

const PER_PLATFORM = 60;
const MEMBERS = 15;
const FAULT_MS = 3_000;
const TOKEN_STORM_MS = 2_000;

describe("faults: the chat platforms fail for a while", () => {
  let t: TestApp;
  const wecom = new FakeWecomServer();
  const dingtalk = new FakeDingtalkServer();

  beforeAll(async () => {
    await wecom.start();
    await dingtalk.start();
    const cfg = testWecomConfig();
    t = await createTestApp({
      env: {
        ...wecomEnv(cfg, wecom.base),
        DINGTALK_CLIENT_ID: "dingclientid",
        DINGTALK_CLIENT_SECRET: "client-secret",
        DINGTALK_ROBOT_CODE: "dingrobot0123",
        DINGTALK_CORP_ID: "dingcorp0123456789",
        DINGTALK_AGENT_ID: "3000001",
        DINGTALK_API_BASE: dingtalk.base,
        DINGTALK_OAPI_BASE: dingtalk.base,
        PUBLIC_URL: "https://order.example.com",
        OUTBOX_POLL_MS: "50",
        OUTBOX_BACKOFF_BASE_MS: "100",
        OUTBOX_BACKOFF_MAX_MS: "800",
        OUTBOX_MAX_ATTEMPTS: "100",
        OUTBOX_LEASE_MS: "5000",
      },
    });
  });
  afterAll(async () => {
    await t?.app.dispatcher.stop();
    await t?.close();
    await wecom.close();
    await dingtalk.close();
  });

  it("delivers every message exactly once after the platforms recover", async () => {
    const m = t.app.db.models;
    const platforms = [
      { name: "wecom" as const, fake: wecom, first: 0 },
      { name: "dingtalk" as const, fake: dingtalk, first: PER_PLATFORM },
    ];
    const messages: OutboxMessage[] = [];
    for (const p of platforms) {
      const members: Array<{ id: number }> = [];
      for (let i = 0; i < MEMBERS; i++) {
        members.push(await m.User.create({ platform: p.name, platformUserId: `member-${crypto.randomBytes(4).toString("hex")}`, name: `成员${i}`, mobile: null, roles: ["sales"], managerId: null, department: null }));
      }
      for (let i = 0; i < PER_PLATFORM; i++) {
        const n = p.first + i;
        messages.push({ topic: "chat.text" as const, dedupeKey: `reliability:${n}`, payload: { userId: members[i % MEMBERS].id, text: `可靠性测试消息 #${n}` } });
      }
    }
    await t.app.db.transaction((tx) => enqueue(t.app.deps, tx, messages));

    const started = Date.now();
    for (const p of platforms) p.fake.faulty = true;
    t.app.dispatcher.start();
    await new Promise((r) => setTimeout(r, FAULT_MS));
    for (const p of platforms) {
      p.fake.faulty = false;
      p.fake.tokensExpiring = true;
    }
    await new Promise((r) => setTimeout(r, TOKEN_STORM_MS));
    const duringFault = platforms.map((p) => ({ ...p.fake.requests, delivered: p.fake.delivered.length }));
    for (const p of platforms) p.fake.tokensExpiring = false;

    const until = Date.now() + 90_000;
    while ((await m.Outbox.count({ where: { status: { [Op.in]: ["pending", "leased", "sending"] } } })) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const recoveredMs = Date.now() - started - FAULT_MS - TOKEN_STORM_MS;
    await t.app.dispatcher.stop();

    const rows = await m.Outbox.findAll({ attributes: ["status", "attempts"] });
    const byStatus = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    const lines = [
      `faults (a): WeCom and DingTalk failing for ${FAULT_MS / 1000} s (5xx, 429, -1, tokens expiring, token fetch failing), then every token refused for ${TOKEN_STORM_MS / 1000} s, then healthy`,
      `  all delivered ${recoveredMs} ms after recovery; outbox rows ${JSON.stringify(byStatus)}, attempts max ${Math.max(...rows.map((r) => r.attempts))}`,
    ];
    const outcome: Record<string, { lost: number; twice: number }> = {};
    platforms.forEach((p, k) => {
      const per = Array.from({ length: PER_PLATFORM }, (_, i) => p.fake.deliveries(p.first + i));
      outcome[p.name] = { lost: per.filter((n) => n === 0).length, twice: per.filter((n) => n > 1).length };
      lines.push(
        `  ${p.name}: during the faults ${JSON.stringify(duringFault[k])}; in all ${JSON.stringify(p.fake.requests)}, texts accepted ${p.fake.delivered.length} (a member's notices may share a digest)`,
        `  ${p.name}: messages ${PER_PLATFORM} to ${MEMBERS} members — delivered once ${per.filter((n) => n === 1).length}, lost ${outcome[p.name].lost}, duplicated ${outcome[p.name].twice}`,
      );
    });
    console.log(lines.join("\n"));
    for (const [k, p] of platforms.entries()) {
      expect(duringFault[k].failed).toBeGreaterThan(0);
      expect(duringFault[k].delivered).toBe(0);
      expect(outcome[p.name]).toEqual({ lost: 0, twice: 0 });
    }
    expect(byStatus).toEqual({ sent: 2 * PER_PLATFORM });
  });
});
