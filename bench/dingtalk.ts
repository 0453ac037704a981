/**
 * DingTalk Stream bench (npm run bench:dingtalk).
 *
 * Robot text frames from a local Stream gateway (a `ws` server plus the connections/open endpoint, reached
 * through DINGTALK_STREAM_BASE) into the real dingtalk-stream client and the app's pipeline (parse, first
 * contact, de-duplicate, persist, ack; the bot answers after the ack), versus the same SDK client whose
 * listener acks at once without work, in the same run. A window of frames is kept in flight; every frame
 * is a distinct message from one of 64 known members. Reported: frames/s and ack latency p50/p99 of each,
 * and the ratio. The app runs on SQLite + the memory cache unless BENCH_DATABASE_URL / BENCH_REDIS_URL are set.
 * Also reported: this process's CPU per frame in each run (the gateway runs in this process too, so both
 * rows carry the same gateway share; compare the difference, which is noisy throughput can't hide), and
 * how long the bot needed after the run for the events it deferred while frames kept arriving.
 *
 *   BENCH_FRAMES=3000 BENCH_INFLIGHT=32 npm run bench:dingtalk
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { WebSocketServer, type WebSocket } from "ws";
import { createApp, type App } from "../src/app";
import { DWClient } from "../src/channels/dingtalk/sdk";
import { loadConfig } from "../src/config";
import { deleteRedisKeys, emitResult, fmt, log, percentile, positive, runWithCleanup, table } from "./support";

const FRAMES = Math.trunc(positive("BENCH_FRAMES", 3000));
const INFLIGHT = Math.trunc(positive("BENCH_INFLIGHT", 32));
const TOPIC_ROBOT = "/v1.0/im/bot/messages/get";
const CORP = "dingbenchcorp";
const ROBOT = "dingbenchrobot";

/** The gateway: connections/open over HTTP, frames over ws on the same port; acks resolve senders. */
async function startGateway() {
  const pending = new Map<string, () => void>();
  let socket: WebSocket | null = null;
  let connected: () => void = () => undefined;
  const server = http.createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ endpoint: `ws://127.0.0.1:${port}/connect`, ticket: crypto.randomUUID() }));
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => {
    socket = ws;
    ws.on("message", (raw) => {
      const id = (JSON.parse(String(raw)) as { headers?: { messageId?: string } }).headers?.messageId;
      if (id) pending.get(id)?.();
    });
    const sys = (topic: string) => ws.send(JSON.stringify({ specVersion: "1.0", type: "SYSTEM", headers: { topic, messageId: crypto.randomUUID() }, data: "" }));
    sys("CONNECTED");
    sys("REGISTERED");
    connected();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    waitConnected: () => new Promise<void>((r) => (socket ? r() : (connected = r))),
    reset() {
      socket = null;
    },
    /** Sends `n` frames with `inflight` outstanding; latency per frame from send to ack. */
    async run(n: number, inflight: number, tag: string) {
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      const cpu0 = process.cpuUsage();
      const one = async (): Promise<void> => {
        while (next < n) {
          const i = next++;
          const messageId = `${tag}-${i}`;
          const from = `member${i % 64}`;
          const data = { conversationType: "1", chatbotCorpId: CORP, msgId: `${tag}-msg-${i}`, senderStaffId: from, senderCorpId: CORP, robotCode: ROBOT, msgtype: "text", text: { content: "帮助" } };
          const frame = { specVersion: "1.0", type: "CALLBACK", headers: { appId: "a", connectionId: "c", contentType: "application/json", messageId, time: String(Date.now()), topic: TOPIC_ROBOT }, data: JSON.stringify(data) };
          const t0 = performance.now();
          await new Promise<void>((resolve) => {
            pending.set(messageId, resolve);
            socket!.send(JSON.stringify(frame));
          });
          pending.delete(messageId);
          latencies.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: inflight }, one));
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpu0);
      latencies.sort((a, b) => a - b);
      // CPU of this one process (gateway and client alike, so both rows carry the same gateway share).
      return { perSec: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n, load: os.loadavg()[0] };
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function bench(onCleanup: (name: string, run: () => Promise<unknown>) => void): Promise<number> {
  const gw = await startGateway();
  const env = {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    SEED_DEMO_DATA: "false",
    OUTBOX_ENABLED: "false",
    DINGTALK_CLIENT_ID: "benchclient",
    DINGTALK_CLIENT_SECRET: "bench-secret",
    DINGTALK_ROBOT_CODE: ROBOT,
    DINGTALK_CORP_ID: CORP,
    DINGTALK_AGENT_ID: "1",
    DINGTALK_STREAM_BASE: gw.base,
    // Nothing must leave the machine: the OpenAPI points at a closed port.
    DINGTALK_API_BASE: "http://127.0.0.1:9",
    DINGTALK_OAPI_BASE: "http://127.0.0.1:9",
  };

  // Baseline: the SDK client alone, acking each callback at once.
  const bare = new DWClient({ clientId: "benchclient", clientSecret: "x" });
  bare.config.autoReconnect = false;
  bare.registerCallbackListener(TOPIC_ROBOT, (f) => bare.socketCallBackResponse(f.headers.messageId, {}));
  Reflect.set(bare, "dw_url", `${gw.base.replace("http", "ws")}/connect?ticket=x`);
  await bare._connect();
  await gw.waitConnected();
  await gw.run(Math.min(500, FRAMES), INFLIGHT, "warm-base");
  const baseline = await gw.run(FRAMES, INFLIGHT, "base");
  bare.disconnect();
  gw.reset();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-bench-dt-"));
  onCleanup("remove the temporary directory", async () => fs.rmSync(dir, { recursive: true, force: true }));
  const redisUrl = process.env.BENCH_REDIS_URL;
  const cachePrefix = `co_bench_dt_${crypto.randomBytes(3).toString("hex")}:`;
  // The app's own keys (de-duplication, tokens, buckets) must not pile up in a shared Redis.
  if (redisUrl) onCleanup(`delete redis keys ${cachePrefix}*`, () => deleteRedisKeys(redisUrl, cachePrefix));
  const app: App = createApp(
    loadConfig({ ...env, DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, "bench.sqlite")}`, ...(redisUrl ? { REDIS_URL: redisUrl, CACHE_KEY_PREFIX: cachePrefix } : {}) }),
  );
  onCleanup("close the app", () => app.close());
  // Registered last so it runs first: an interrupted run stops sending frames before the app drains.
  onCleanup("close the gateway", () => gw.close());
  await app.prepare();
  for (let i = 0; i < 64; i++) {
    await app.db.models.User.create({ platform: "dingtalk", platformUserId: `member${i}`, name: `成员${i}`, mobile: null, roles: ["sales"], managerId: null, department: null });
  }
  app.dingtalkStream!.start();
  await gw.waitConnected();
  await gw.run(Math.min(500, FRAMES), INFLIGHT, "warm-svc");
  await app.inbound.drain();
  // The statements the run took: frames persisted per INSERT move CPU per frame a lot (a closed loop of
  // INFLIGHT frames settles into one group per commit or two interleaved halves), so it is printed.
  let statements = 0;
  let counting = true;
  app.db.sequelize.addHook("beforeQuery", () => {
    if (counting) statements += 1;
  });
  const service = await gw.run(FRAMES, INFLIGHT, "svc");
  counting = false;
  // The bot works after the ack and waits while frames keep arriving (src/bot/inbound.ts): what it left
  // for after the run is reported, not hidden.
  const drainStart = performance.now();
  await app.inbound.drain();
  const botSeconds = (performance.now() - drainStart) / 1000;
  const stored = await app.db.models.InboundEvent.count({ where: { platform: "dingtalk" } });

  process.stdout.write(
    `${table(
      ["client", "frames/s", "ack p50 ms", "ack p99 ms", "CPU ms/frame", "load"],
      [
        ["bare SDK, acks without work", fmt(baseline.perSec, 0), fmt(baseline.p50, 2), fmt(baseline.p99, 2), fmt(baseline.cpuMsPerFrame, 3), fmt(baseline.load)],
        ["ChatOrder (persist, then ack)", fmt(service.perSec, 0), fmt(service.p50, 2), fmt(service.p99, 2), fmt(service.cpuMsPerFrame, 3), fmt(service.load)],
      ],
    )}\n`,
  );
  const ratio = service.perSec / baseline.perSec;
  process.stdout.write(`ratio ${fmt(ratio, 3)} (target >= 0.5); p99 ack ${fmt(service.p99, 1)} ms (target <= 50); ${FRAMES} frames, ${INFLIGHT} in flight; events stored ${stored}\n`);
  process.stdout.write(`the bot finished the run's events ${fmt(botSeconds, 2)} s after the last ack\n`);
  process.stdout.write(`database statements during the ChatOrder run: ${statements} (${fmt(FRAMES / Math.max(1, statements), 1)} frames each)\n`);
  emitResult("dingtalk", [
    { what: "Stream frames/s: real client + pipeline vs bare SDK client", measured: service.perSec, unit: "frames/s", baseline: baseline.perSec, ratio, target: "ratio ≥ 0.5", met: ratio >= 0.5 },
    { what: "frame ack p99 (bare SDK p99 as baseline)", measured: service.p99, unit: "ms", baseline: baseline.p99, ratio: baseline.p99 / service.p99, target: "≤ 50 ms", met: service.p99 <= 50 },
  ]);
  return 0;
}

runWithCleanup(bench).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
