import nock from "nock";
import request from "supertest";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { buildCustomer, buildProduct, buildTeam } from "../helpers/factories";
import { FakeWecom, textFrom } from "../helpers/wecom-flow";
import { testWecomConfig, wecomPost } from "../helpers/wecom";
import { DT_CORP, FakeGateway, TOPIC_ROBOT, dingtalkEnv, robotText } from "../helpers/dingtalk-gateway";

type LogLine = Record<string, unknown> & { msg?: string; traceId?: string };

/** The app's pino output, parsed line by line (and kept raw, to search for secrets). */
function captureLogs() {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  };
}

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const METRICS_TOKEN = "metrics-token-0123456789";

describe("GET /metrics", () => {
  let t: TestApp;
  let other: TestApp;
  const scrape = async (app: TestApp = t) => {
    const res = await request(app.callback).get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    return res.text;
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN } });
    other = await createTestApp({ env: { METRICS_TOKEN } });
  });
  afterAll(async () => {
    await t.close();
    await other.close();
  });

  it("answers only a caller with the metrics token when METRICS_TOKEN is set", async () => {
    const none = await request(t.callback).get("/metrics");
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("unauthorized");
    expect(none.text).not.toContain("chatorder_");
    const wrong = await request(t.callback).get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}x`);
    expect(wrong.status).toBe(401);
    const ok = await request(t.callback).get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("labels request durations with the route template and status, never the raw URL", async () => {
    for (const id of [987654, 876543]) {
      expect((await request(t.callback).get(`/api/v1/orders/${id}`).set(t.apiKeyHeader)).status).toBe(404);
    }
    expect((await request(t.callback).get("/no/such/page/5550123")).status).toBe(404);
    const text = await scrape();
    expect(sample(text, 'chatorder_http_request_duration_seconds_count{method="GET",route="/api/v1/orders/:id",status="404"}')).toBe(2);
    expect(sample(text, 'chatorder_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(text).not.toMatch(/987654|876543|5550123/);
  });

  it("keeps each app's figures in its own registry", async () => {
    const text = await scrape(other);
    expect(text).toContain("# TYPE chatorder_http_request_duration_seconds histogram");
    expect(text).not.toContain('route="/api/v1/orders/:id"');
  });

  it("reads outbox depth, oldest pending age, dead count and orders by status on scrape, cached for a few seconds", async () => {
    const fresh = await createTestApp({ env: { METRICS_TOKEN } });
    try {
      const m = fresh.app.db.models;
      const now = Date.now();
      await m.Outbox.bulkCreate([
        { topic: "chat.text", dedupeKey: "metrics:1", payload: {}, nextAttemptAt: new Date(now), createdAt: new Date(now - 120_000) },
        { topic: "chat.text", dedupeKey: "metrics:2", payload: {}, nextAttemptAt: new Date(now), createdAt: new Date(now - 5_000), status: "leased" },
        { topic: "chat.text", dedupeKey: "metrics:3", payload: {}, nextAttemptAt: new Date(now), createdAt: new Date(now), status: "dead" },
        { topic: "chat.text", dedupeKey: "metrics:4", payload: {}, nextAttemptAt: new Date(now), createdAt: new Date(now - 900_000), status: "sent" },
      ]);
      const product = await buildProduct(fresh.app, { onHand: 10 });
      const customer = await buildCustomer(fresh.app);
      for (let i = 0; i < 2; i++) {
        const res = await request(fresh.callback).post("/api/v1/orders").set(fresh.apiKeyHeader).send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }] });
        expect(res.status).toBe(201);
      }
      const text = await scrape(fresh);
      expect(sample(text, "chatorder_outbox_depth")).toBe(2);
      expect(sample(text, "chatorder_outbox_dead")).toBe(1);
      expect(sample(text, "chatorder_outbox_oldest_pending_age_seconds")).toBeGreaterThanOrEqual(119);
      expect(sample(text, "chatorder_outbox_oldest_pending_age_seconds")).toBeLessThan(600);
      expect(sample(text, 'chatorder_orders{status="draft"}')).toBe(2);

      // A scrape right after reuses the last reading instead of querying again.
      await m.Outbox.create({ topic: "chat.text", dedupeKey: "metrics:5", payload: {}, nextAttemptAt: new Date(), createdAt: new Date(), status: "dead" });
      expect(sample(await scrape(fresh), "chatorder_outbox_dead")).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it("is open when METRICS_TOKEN is unset", async () => {
    const open = await createTestApp();
    try {
      const res = await request(open.callback).get("/metrics");
      expect(res.status).toBe(200);
      expect(res.text).toContain("chatorder_outbox_depth");
    } finally {
      await open.close();
    }
  });
});

describe("a WeCom callback's trace id", () => {
  const config = testWecomConfig();
  const fake = new FakeWecom(config);
  const logs = captureLogs();
  let t: TestApp;

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    t = await createTestApp({ env: { ...fake.env(), LOG_LEVEL: "debug", METRICS_TOKEN }, logDestination: logs.destination });
    await t.app.db.models.User.create({ platform: "wecom", platformUserId: "zhangsan", name: "张三", mobile: null, roles: ["sales"], managerId: null, department: null });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await t.close();
  });

  const post = (inner: string, requestId?: string) => {
    const { query, body } = wecomPost(config, inner);
    const req = request(t.callback).post("/wecom/callback").query(query).set("Content-Type", "text/xml");
    if (requestId) req.set("X-Request-Id", requestId);
    return req.send(body);
  };

  it("follows the callback into the bot's log lines, its outbox rows and the delivery's log line", async () => {
    const traceId = "wecom-cb-trace-0001";
    const res = await post(textFrom("zhangsan", "帮助"), traceId);
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe(traceId);
    await t.app.inbound.drain();

    const [event] = await t.app.db.models.InboundEvent.findAll({ where: { platform: "wecom" } });
    expect(event.payload).toMatchObject({ from: "zhangsan", traceId });
    const rows = await t.app.db.models.Outbox.findAll();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.traceId)).toEqual(rows.map(() => traceId));
    expect(logs.lines.some((l) => l.msg === "event answered" && l.traceId === traceId)).toBe(true);

    const api = fake.expect({ send: rows.length });
    await t.app.dispatcher.runOnce();
    expect(api.isDone()).toBe(true);
    const delivered = logs.lines.filter((l) => l.msg === "outbox message sent");
    expect(delivered).toHaveLength(rows.length);
    for (const line of delivered) expect(line).toMatchObject({ traceId, outboxId: expect.any(Number), attempt: 1 });
    // The platform client's own lines during that delivery carry it too.
    expect(logs.lines.filter((l) => l.module === "wecom" && l.traceId !== undefined).every((l) => l.traceId === traceId)).toBe(true);
  });

  it("gives a callback without X-Request-Id a generated id that its outbox rows carry", async () => {
    const before = await t.app.db.models.Outbox.count();
    const res = await post(textFrom("zhangsan", "help"));
    const generated = res.headers["x-request-id"];
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await t.app.inbound.drain();
    const rows = await t.app.db.models.Outbox.findAll({ order: [["id", "ASC"]], offset: before });
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.traceId))).toEqual(new Set([generated]));
  });

  it("counts callbacks received and repeats, and platform calls and errors by path and errcode", async () => {
    const inner = textFrom("zhangsan", "我的订单");
    expect((await post(inner)).status).toBe(200);
    expect((await post(inner)).status).toBe(200);
    await t.app.inbound.drain();
    // WeCom refuses the next send as over its frequency limit: an error with its errcode.
    const pending = await t.app.db.models.Outbox.count({ where: { status: "pending" } });
    expect(pending).toBeGreaterThan(0);
    // One refusal, and the member's later messages wait behind it (their lane keeps its order).
    nock(config.apiBase).post("/cgi-bin/message/send").query(true).reply(200, { errcode: 45009, errmsg: "api freq out of limit" });
    const tally = await t.app.dispatcher.runOnce();
    expect(tally.retried).toBe(1);

    const text = (await request(t.callback).get("/metrics").set("Authorization", `Bearer ${METRICS_TOKEN}`)).text;
    expect(sample(text, 'chatorder_callbacks_received_total{platform="wecom"}')).toBe(4);
    expect(sample(text, 'chatorder_callbacks_duplicate_total{platform="wecom"}')).toBe(1);
    expect(sample(text, 'chatorder_platform_api_calls_total{platform="wecom",path="/cgi-bin/gettoken"}')).toBe(1);
    const sends = sample(text, 'chatorder_platform_api_calls_total{platform="wecom",path="/cgi-bin/message/send"}');
    expect(sends).toBeGreaterThan(1);
    expect(sample(text, 'chatorder_platform_api_errors_total{platform="wecom",path="/cgi-bin/message/send",code="45009"}')).toBe(1);
    expect(text).not.toContain('code="0"');
    expect(sample(text, 'chatorder_http_request_duration_seconds_count{method="POST",route="/wecom/callback",status="200"}')).toBe(4);
  });

  it("never logs the access token, the app secret, the AES key, API keys or cookies", async () => {
    await request(t.callback).get("/api/v1/orders").set(t.apiKeyHeader).set("Cookie", "co_session=very-secret-cookie");
    t.app.log.warn(
      {
        access_token: "TOKEN-LEAK-1",
        secret: "SECRET-LEAK-2",
        headers: { authorization: "Bearer KEY-LEAK-3", cookie: "co_session=COOKIE-LEAK-4" },
        config: { secret: "SECRET-LEAK-5", clientSecret: "SECRET-LEAK-6", aesKey: "AES-LEAK-7", token: "TOKEN-LEAK-8" },
        req: { headers: { authorization: "Bearer KEY-LEAK-9", cookie: "COOKIE-LEAK-10" } },
        Authorization: "Bearer KEY-LEAK-11",
      },
      "a careless line",
    );
    const all = logs.raw.join("");
    expect(all).toContain("a careless line");
    expect(all).not.toMatch(/LEAK-\d+/);
    for (const secret of [fake.accessToken, config.secret, config.aesKey, t.apiKeyHeader.Authorization.slice(7), "very-secret-cookie"]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe("an order placed through the API", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it("stamps each order's outbox rows with its own request id, also when orders are written together", async () => {
    const team = await buildTeam(t.app);
    const product = await buildProduct(t.app, { onHand: 1000, listPriceFen: 1000 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    // Below list price: each needs the rep's manager, who gets an approval card (an outbox row).
    const ids = Array.from({ length: 6 }, (_, i) => `api-order-trace-${i}`);
    const answers = await Promise.all(
      ids.map((id) =>
        request(t.callback)
          .post("/api/v1/orders")
          .set(t.apiKeyHeader)
          .set("X-Request-Id", id)
          .send({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1, unitPriceFen: 900 }], submit: true }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(201);
      const rows = (await t.app.db.models.Outbox.findAll()).filter((r) => (r.payload as { orderId?: number }).orderId === res.body.id);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map((r) => r.traceId)).toEqual(rows.map(() => ids[i]));
    }
  });
});

describe("GET /readyz", () => {
  it("is ready with the database, the cache and the simulator", async () => {
    const t = await createTestApp();
    try {
      const res = await request(t.callback).get("/readyz");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ready", checks: { database: "ok", cache: "ok", "channel:simulator": "ok" }, failedJobs: [] });
    } finally {
      await t.close();
    }
  });

  it("reports a job whose last run failed as degraded, still 200", async () => {
    const t = await createTestApp();
    try {
      const runner = t.app.jobRunner({ schedule: false });
      await t.app.db.sequelize.query("DROP TABLE report_state"); // the rollups' watermark: their next run fails
      await expect(runner.runNow("report-rollups")).rejects.toThrow();
      const res = await request(t.callback).get("/readyz");
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("degraded");
      expect(res.body.failedJobs).toEqual([expect.objectContaining({ name: "report-rollups", error: expect.any(String) })]);
    } finally {
      await t.close();
    }
  });

  it("checks WeCom by getting an access token: refused credentials are degraded, never a leaked secret", async () => {
    const config = testWecomConfig();
    const t = await createTestApp({ env: new FakeWecom(config).env() });
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    try {
      const refused = nock(config.apiBase).get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 40001, errmsg: "invalid credential" });
      const bad = await request(t.callback).get("/readyz");
      expect(refused.isDone()).toBe(true);
      expect(bad.status).toBe(200);
      expect(bad.body.status).toBe("degraded");
      expect(bad.body.checks["channel:wecom"]).toMatch(/^error: .*40001/);
      expect(JSON.stringify(bad.body)).not.toContain(config.secret);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      await t.close();
    }
    const t2 = await createTestApp({ env: new FakeWecom(config).env() });
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    try {
      const token = nock(config.apiBase).get("/cgi-bin/gettoken").query(true).reply(200, { errcode: 0, access_token: "T-READY", expires_in: 7200 });
      const first = await request(t2.callback).get("/readyz");
      expect(first.body).toMatchObject({ status: "ready", checks: { "channel:wecom": "ok" } });
      // The token is cached: the next probe asks WeCom nothing (nock would refuse a second call).
      const second = await request(t2.callback).get("/readyz");
      expect(second.body.checks["channel:wecom"]).toBe("ok");
      expect(token.isDone()).toBe(true);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      await t2.close();
    }
  });

  it("checks the 客户联系 secret's own token too when one is set, naming it when WeCom refuses it", async () => {
    const config = testWecomConfig();
    const contactSecret = "contact-secret-for-readiness";
    const t = await createTestApp({ env: { ...new FakeWecom(config).env(), WECOM_EXTERNAL_SECRET: contactSecret } });
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    try {
      const app = nock(config.apiBase).get("/cgi-bin/gettoken").query((q) => q.corpsecret === config.secret).reply(200, { errcode: 0, access_token: "T-APP", expires_in: 7200 });
      const contact = nock(config.apiBase).get("/cgi-bin/gettoken").query((q) => q.corpsecret === contactSecret).reply(200, { errcode: 40001, errmsg: "invalid credential" });
      const bad = await request(t.callback).get("/readyz");
      expect(app.isDone() && contact.isDone()).toBe(true);
      expect(bad.status).toBe(200);
      expect(bad.body.status).toBe("degraded");
      expect(bad.body.checks["channel:wecom"]).toMatch(/^error: customer contact \(客户联系\) token: .*40001/);
      expect(JSON.stringify(bad.body)).not.toContain(contactSecret);

      // A refused secret is not asked about again for a minute (repeated wrong secrets get the IP blocked,
      // wecom.md 3.1): the next probe says the same without calling WeCom (nock would refuse the call).
      const again = await request(t.callback).get("/readyz");
      expect(again.body.checks["channel:wecom"]).toMatch(/^error: customer contact \(客户联系\) token: .*40001/);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      await t.close();
    }
    const t2 = await createTestApp({ env: { ...new FakeWecom(config).env(), WECOM_EXTERNAL_SECRET: contactSecret } });
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    try {
      const both = nock(config.apiBase).get("/cgi-bin/gettoken").query(true).times(2).reply(200, { errcode: 0, access_token: "T-OK", expires_in: 7200 });
      const good = await request(t2.callback).get("/readyz");
      expect(both.isDone()).toBe(true);
      expect(good.body).toMatchObject({ status: "ready", checks: { "channel:wecom": "ok" } });
      // Both tokens are cached: the next probe asks WeCom nothing.
      expect((await request(t2.callback).get("/readyz")).body.checks["channel:wecom"]).toBe("ok");
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      await t2.close();
    }
  });

  it("checks the DingTalk Stream connection, and stamps each frame with a trace id of its own", async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    const gw = await new FakeGateway().start();
    const logs = captureLogs();
    const t = await createTestApp({
      env: { ...dingtalkEnv({ DINGTALK_API_BASE: "https://dt-api.test", DINGTALK_OAPI_BASE: "https://dt-oapi.test" }), LOG_LEVEL: "debug" },
      logDestination: logs.destination,
    });
    try {
      nock("https://dt-api.test").persist().post("/v1.0/oauth2/accessToken").reply(200, { accessToken: "DT-TOKEN", expireIn: 7200 });
      const idle = await request(t.callback).get("/readyz");
      expect(idle.status).toBe(200);
      expect(idle.body.status).toBe("degraded");
      expect(idle.body.checks).toMatchObject({ "channel:dingtalk": "ok", dingtalk_stream: "error: stream is idle" });

      await t.app.db.models.User.create({ platform: "dingtalk", platformUserId: "rep1", name: "rep1", mobile: null, roles: ["sales"], managerId: null, department: null });
      t.app.dingtalkStream!.start();
      await gw.waitFor(() => t.app.dingtalkStream!.state() === "registered", "registered");
      const up = await request(t.callback).get("/readyz");
      expect(up.body).toMatchObject({ status: "ready", checks: { "channel:dingtalk": "ok", dingtalk_stream: "ok" } });

      const frame = gw.callback(TOPIC_ROBOT, robotText("rep1", "帮助", { senderCorpId: DT_CORP }));
      await gw.waitAck(frame);
      await t.app.inbound.drain();
      const [event] = await t.app.db.models.InboundEvent.findAll({ where: { platform: "dingtalk" } });
      const traceId = (event.payload as { traceId?: string }).traceId;
      expect(traceId).toMatch(/^[0-9a-f-]{36}$/);
      const rows = await t.app.db.models.Outbox.findAll();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.traceId === traceId)).toBe(true);
      expect(logs.lines.some((l) => l.msg === "event answered" && l.traceId === traceId)).toBe(true);
    } finally {
      await t.close();
      await gw.close();
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });

  it("is 503 without the database, while /healthz and /metrics still answer", async () => {
    const t = await createTestApp();
    await t.app.db.sequelize.close();
    try {
      const res = await request(t.callback).get("/readyz");
      expect(res.status).toBe(503);
      expect(res.body.status).toBe("not_ready");
      expect(res.body.checks.database).toMatch(/^error: /);
      expect(res.body.checks.cache).toBe("ok");
      expect((await request(t.callback).get("/healthz")).body).toEqual({ status: "ok" });
      const metrics = await request(t.callback).get("/metrics");
      expect(metrics.status).toBe(200);
      expect(sample(metrics.text, 'chatorder_http_request_duration_seconds_count{method="GET",route="/readyz",status="503"}')).toBe(1);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
