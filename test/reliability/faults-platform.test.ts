import crypto from "node:crypto";
import { Op } from "sequelize";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";
import { enqueue } from "../../src/services/enqueue";
import { FakeWecomServer } from "./support/fake-wecom-server";

/**
 * WeCom failing for a while under a running dispatcher: HTTP 500/502, errcode -1, tokens expiring
 * (42001) and the token fetch failing, then a spell in which every token is refused as soon as it is used. Once it recovers, every outbox message must have reached WeCom
 * exactly once: none lost, none twice (counted by what the fake accepted, per message).
 */
jest.setTimeout(180_000);

const MESSAGES = 60;
const MEMBERS = 15;
const FAULT_MS = 3_000;
const TOKEN_STORM_MS = 2_000;

describe("faults: the chat platform fails for a while", () => {
  let t: TestApp;
  const fake = new FakeWecomServer();

  beforeAll(async () => {
    await fake.start();
    const cfg = testWecomConfig();
    t = await createTestApp({
      env: {
        WECOM_CORP_ID: cfg.corpId,
        WECOM_AGENT_ID: String(cfg.agentId),
        WECOM_SECRET: cfg.secret,
        WECOM_TOKEN: cfg.token,
        WECOM_AES_KEY: cfg.aesKey,
        WECOM_API_BASE: fake.base,
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
    await fake.close();
  });

  it("delivers every message exactly once after WeCom recovers", async () => {
    const m = t.app.db.models;
    const members: Array<{ id: number }> = [];
    for (let i = 0; i < MEMBERS; i++) {
      members.push(await m.User.create({ platform: "wecom", platformUserId: `member-${crypto.randomBytes(4).toString("hex")}`, name: `成员${i}`, mobile: null, roles: ["sales"], managerId: null, department: null }));
    }
    await t.app.db.transaction((tx) =>
      enqueue(
        t.app.deps,
        tx,
        Array.from({ length: MESSAGES }, (_, i) => ({
          topic: "chat.text" as const,
          dedupeKey: `reliability:${i}`,
          payload: { userId: members[i % MEMBERS].id, text: `可靠性测试消息 #${i}` },
        })),
      ),
    );

    const started = Date.now();
    fake.faulty = true;
    t.app.dispatcher.start();
    await new Promise((r) => setTimeout(r, FAULT_MS));
    fake.faulty = false;
    fake.tokensExpiring = true;
    await new Promise((r) => setTimeout(r, TOKEN_STORM_MS));
    const duringFault = { ...fake.requests, delivered: fake.delivered.length };
    fake.tokensExpiring = false;

    const until = Date.now() + 90_000;
    while ((await m.Outbox.count({ where: { status: { [Op.in]: ["pending", "leased", "sending"] } } })) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const recoveredMs = Date.now() - started - FAULT_MS - TOKEN_STORM_MS;
    await t.app.dispatcher.stop();

    const perMessage = Array.from({ length: MESSAGES }, (_, i) => fake.deliveries(i));
    const lost = perMessage.filter((n) => n === 0).length;
    const twice = perMessage.filter((n) => n > 1).length;
    const rows = await m.Outbox.findAll({ attributes: ["status", "attempts"] });
    const byStatus = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    console.log(
      [
        `faults (a): WeCom failing for ${FAULT_MS / 1000} s (5xx, -1, 42001, token fetch 500), then every token refused (42001) for ${TOKEN_STORM_MS / 1000} s, then healthy — ${MESSAGES} messages to ${MEMBERS} members`,
        `  during the fault: send requests ${duringFault.send} (failed ${duringFault.failed}, 42001 ${duringFault.expired}), token fetches ${duringFault.gettoken}, accepted ${duringFault.delivered}`,
        `  in all: send requests ${fake.requests.send}, token fetches ${fake.requests.gettoken}, texts accepted ${fake.delivered.length} (notices to one member may share a digest)`,
        `  all delivered ${recoveredMs} ms after recovery; outbox rows ${JSON.stringify(byStatus)}, attempts max ${Math.max(...rows.map((r) => r.attempts))}`,
        `  messages ${MESSAGES}: delivered once ${perMessage.filter((n) => n === 1).length}, lost ${lost}, duplicated ${twice}`,
      ].join("\n"),
    );
    expect(duringFault.failed).toBeGreaterThan(0);
    expect(duringFault.delivered).toBe(0);
    expect(byStatus).toEqual({ sent: MESSAGES });
    expect(lost).toBe(0);
    expect(twice).toBe(0);
  });
});
