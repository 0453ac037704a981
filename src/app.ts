import type Koa from "koa";
import type { Logger } from "pino";
import type pino from "pino";
import type { Cache } from "./cache/cache";
import { createMemoryCache } from "./cache/memory";
import { createRedisCache } from "./cache/redis";
import { withLocalFallback } from "./cache/fallback";
import type { Config } from "./config";
import { migrate } from "./db/migrate";
import { createDb, type Db } from "./db/sequelize";
import { createHttpApp } from "./http/server";
import { createRateLimiter } from "./http/middleware/rate-limit";
import { createLogger } from "./logger";
import { createServices, type Services } from "./services";
import type { ServiceDeps } from "./services/deps";
import { seedDemoData } from "./services/seed-demo-data";
import { createMemo } from "./services/support/memo";
import type { ChatChannel } from "./channels/channel";
import { createChannelRegistry, type ChannelRegistry } from "./channels/registry";
import { createSimulatorChannel, type SimulatorChannel } from "./channels/simulator";
import { createSimulatorCardRenderer } from "./channels/simulator/render";
import { createWecomChannel, groupMsgSendResult, wecomCallbacks } from "./channels/wecom";
import { createWecomClient } from "./channels/wecom/client";
import { createCardCodes } from "./channels/wecom/card-codes";
import { createCardCodeStore } from "./channels/wecom/card-code-store";
import { wecomOAuthRoutes } from "./channels/wecom/oauth";
import { wecomJssdkRoutes } from "./channels/wecom/jssdk";
import { createWecomDirectory } from "./channels/wecom/roles";
import { refreshWecomUsers } from "./channels/wecom/refresh";
import { createDingtalkChannel, createDingtalkClient, createDingtalkDirectory, createDingtalkStream, type DingtalkStream } from "./channels/dingtalk";
import { dingtalkH5Routes } from "./channels/dingtalk/h5";
import { dingtalkActionRoutes } from "./channels/dingtalk/actions";
import { createFirstContact, refreshDingtalkUsers } from "./channels/dingtalk/refresh";
import { createSessions, type Sessions } from "./http/session";
import { startJobs, type Job, type JobRunner } from "./jobs/runner";
import { customerNoticeResultsJob } from "./jobs/customer-notice-results";
import { scheduledJobs } from "./jobs";
import { recordJobFinished, recordJobStarted } from "./services/job-runs";
import { createInboundPipeline, type InboundPipeline } from "./bot/inbound";
import { createBot } from "./bot/conversation";
import { createDeliverers } from "./outbox/deliver";
import { createDispatcher, type Dispatcher } from "./outbox/dispatcher";
import { devConsoleRoutes } from "./http/routes/dev/routes";
import { assetRoutes, loadAssets } from "./http/assets";
import { devLoginRoutes } from "./miniapp/dev-login";
import { miniAppRoutes } from "./miniapp/routes";
import { projectPath } from "./paths";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { metricsRoutes } from "./metrics/routes";
import type { ReadinessCheck } from "./http/routes/health";
import { createTrace, newTraceId, type Trace } from "./trace";

export interface AppOptions {
  /** The clock; tests pass a fixed or stepping one. */
  now?: () => Date;
  logDestination?: pino.DestinationStream;
}

export interface App {
  config: Readonly<Config>;
  log: Logger;
  db: Db;
  cache: Cache;
  services: Services;
  deps: ServiceDeps;
  http: Koa;
  channels: ChannelRegistry;
  /** The simulator channel when enabled (dev console, demos, tests). */
  simulator: SimulatorChannel | null;
  inbound: InboundPipeline;
  dispatcher: Dispatcher;
  /** This app's Prometheus registry and the hooks feeding it (GET /metrics). */
  metrics: Metrics;
  /** The current request's or event's trace id (logged on every line, stamped on outbox rows). */
  trace: Trace;
  /** Signed-cookie sessions of the WeCom H5 pages and the mini-app. */
  sessions: Sessions;
  /** The DingTalk Stream connection when DingTalk is on; startBackground connects it. */
  dingtalkStream: DingtalkStream | null;
  /** Scheduled work; null until startBackground. */
  jobs: JobRunner | null;
  /** A runner over every job, recording runs in job_runs; `schedule: false` registers nothing with cron (CLI, tests). */
  jobRunner(opts?: { schedule?: boolean }): JobRunner;
  /** Applies migrations and, on an empty database with seeding on, loads the demo company. */
  prepare(): Promise<void>;
  /** Background work (outbox dispatch, jobs); not started by tests that drive things by hand. */
  startBackground(): void;
  /**
   * Shutdown, first half (while HTTP requests finish): the Stream connection closed, no new job runs or
   * outbox batches, running ones finished or bounded, outbox leases and job locks handed back.
   */
  stopBackground(): Promise<void>;
  /** Everything stopped and closed; `drainMs` bounds the wait for the bot to finish events in hand. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

/** The composition root: the only place that decides which implementation backs each port. */
export function createApp(config: Readonly<Config>, opts: AppOptions = {}): App {
  const trace = createTrace();
  const log = createLogger(config.logLevel, opts.logDestination, trace.current);
  const db = createDb({ url: config.database.url, poolMax: config.database.poolMax, logSql: config.database.logSql, log });
  const cache = config.redisUrl ? withLocalFallback(createRedisCache(config.redisUrl, config.cacheKeyPrefix), log.child({ module: "cache" })) : createMemoryCache();
  const now = opts.now ?? (() => new Date());
  const metrics = createMetrics({ db, now });
  const onCall = metrics.apiCall;
  // Outbox rows committed here wake this process's dispatcher (made further down) at once.
  let dispatcherOfApp: Dispatcher | null = null;
  const deps: ServiceDeps = { db, cache, log, now, publicUrl: config.publicUrl, memo: createMemo(), trace, outboxWritten: () => dispatcherOfApp?.nudge() };
  const services = createServices(deps);
  const stoppers: Array<() => Promise<void>> = [];
  const jobList: Array<Job<null>> = [];

  const simulator = config.simulator.enabled
    ? createSimulatorChannel({
        sequelize: db.sequelize,
        publicUrl: config.publicUrl,
        now: deps.now,
        findUser: async (uid) => {
          const u = await db.models.User.findOne({ where: { platform: "simulator", platformUserId: uid } });
          if (!u) return null;
          const manager = u.managerId ? await db.models.User.findByPk(u.managerId) : null;
          // Our own table is the simulator's directory: it manages no roles, so nothing it answers changes them.
          const roles = { granted: u.roles, managed: [] };
          return { platform: "simulator", platformUserId: u.platformUserId, found: true, name: u.name, mobile: u.mobile, managerPlatformUserId: manager?.platformUserId ?? null, department: u.department, active: u.active, roles };
        },
      })
    : null;
  const sessions = createSessions(config, { now: deps.now });
  const wecomConfig = config.wecom;
  const wecomH5 = wecomConfig
    ? (() => {
        const h5Log = log.child({ module: "wecom-h5" });
        const client = createWecomClient(wecomConfig, { cache, log: h5Log, now: deps.now, onCall });
        return { config: wecomConfig, client, directory: createWecomDirectory(wecomConfig, { client, cache, log: h5Log }), log: h5Log };
      })()
    : null;
  // card_refs keeps each WeCom card's update codes (wecom.md 5.4): the channel spends them, the bot's
  // handling of a tap records the code it brought.
  const wecomCodeStore = wecomConfig ? createCardCodeStore(db) : undefined;
  const wecomCodes = wecomConfig ? createCardCodes(wecomConfig, cache, wecomCodeStore) : null;
  const wecom = wecomConfig
    ? createWecomChannel(wecomConfig, { cache, log: log.child({ module: "wecom" }), now: deps.now, publicUrl: config.publicUrl, onCall, directory: wecomH5?.directory, codeStore: wecomCodeStore })
    : null;
  const dingtalkConfig = config.dingtalk;
  const dingtalkParts = dingtalkConfig
    ? (() => {
        const dtLog = log.child({ module: "dingtalk" });
        const client = createDingtalkClient(dingtalkConfig, { cache, log: dtLog, now: deps.now, onCall });
        const directory = createDingtalkDirectory(dingtalkConfig, { client, cache });
        const channel = createDingtalkChannel(dingtalkConfig, { cache, log: dtLog, now: deps.now, publicUrl: config.publicUrl, client, directory });
        return { config: dingtalkConfig, client, directory, channel, log: dtLog };
      })()
    : null;
  const channelList: ChatChannel[] = [...(simulator ? [simulator] : []), ...(wecom ? [wecom] : []), ...(dingtalkParts ? [dingtalkParts.channel] : [])];
  const channels = createChannelRegistry(channelList);

  const bot = createBot({ services, serviceDeps: deps, channels, log: log.child({ module: "bot" }), now: deps.now });
  // The bot handles each event under the trace id it was received with (null: none, never a leftover).
  const pipeline = createInboundPipeline({
    db,
    log: log.child({ module: "inbound" }),
    now: deps.now,
    handle: (event) =>
      trace.run(event.traceId ?? null, async () => {
        // A tap's update code is recorded before the bot acts on the tap, so the redraw it causes finds it.
        if (wecomCodes && event.platform === "wecom" && event.kind === "card_action" && event.cardCode) {
          const { taskId, code, at } = event.cardCode;
          await wecomCodes.record({ taskId, userId: event.from, code }, new Date(at));
        }
        await bot.handle(event);
      }),
  });
  // Every event is stamped on receipt with the trace of the request that carries it (a callback) or a
  // fresh one (a Stream frame), and counted for /metrics with whether it was a repeat.
  const inbound: InboundPipeline = {
    ...pipeline,
    async receive(event) {
      const got = await pipeline.receive(event.traceId ? event : { ...event, traceId: trace.current() ?? newTraceId() });
      metrics.callback(event.platform, got.duplicate);
      return got;
    },
  };

  const dingtalkStream = dingtalkParts
    ? createDingtalkStream(dingtalkParts.config, {
        inbound,
        cache,
        log: dingtalkParts.log.child({ part: "stream" }),
        firstContact: createFirstContact({ serviceDeps: deps, directory: dingtalkParts.directory, log: dingtalkParts.log }),
      })
    : null;

  const rates: Record<string, number> = {
    simulator: config.simulator.ratePerSec,
    ...(wecomConfig ? { wecom: wecomConfig.ratePerSec } : {}),
    ...(dingtalkConfig ? { dingtalk: dingtalkConfig.ratePerSec } : {}),
  };
  const deliverers = createDeliverers({
    db,
    cache,
    services,
    channels,
    now: deps.now,
    ratePerSec: (p) => rates[p] ?? 10,
    maxAttempts: config.outbox.maxAttempts,
  });
  const dispatcher = createDispatcher({ db, cache, log: log.child({ module: "outbox" }), now: deps.now, deliverers, trace }, config.outbox);
  dispatcherOfApp = dispatcher;

  if (wecomH5) {
    // A member's name, manager, department and mapped roles follow the WeCom directory, nightly.
    jobList.push({
      name: "wecom-users-refresh",
      schedule: "30 3 * * *",
      run: async () => ({
        ...(await refreshWecomUsers({ serviceDeps: deps, directory: wecomH5.directory, log: log.child({ module: "wecom-refresh" }), budgetMs: 9 * 60_000 })),
      }),
    });
  }
  if (wecomConfig) {
    // Customer notices waiting for their owner's tap: sent, failed or expired, and one reminder (wecom.md 7.2).
    const noticeLog = log.child({ module: "wecom-notices" });
    // get_groupmsg_send_result takes the 客户联系 secret's token when one is set (client.ts).
    const contacts = createWecomClient(wecomConfig, { cache, log: noticeLog, now: deps.now, onCall });
    jobList.push(
      customerNoticeResultsJob(wecomConfig.noticePollCron, {
        db,
        log: noticeLog,
        now: deps.now,
        sendResult: (msgid, sender) => groupMsgSendResult(contacts, msgid, sender),
      }),
    );
  }

  if (dingtalkParts) {
    // Name, manager, department and mapped roles follow the DingTalk directory, nightly.
    jobList.push({
      name: "dingtalk-users-refresh",
      schedule: "45 3 * * *",
      run: async () => ({
        ...(await refreshDingtalkUsers({ serviceDeps: deps, directory: dingtalkParts.directory, log: log.child({ module: "dingtalk-refresh" }), budgetMs: 9 * 60_000 })),
      }),
    });
  }

  // Reminders, receivables, digest, low stock, housekeeping, report rollups (src/jobs).
  jobList.push(...scheduledJobs({ serviceDeps: deps, config: config.jobs, log: log.child({ module: "jobs" }) }));
  const jobRunner = (opts: { schedule?: boolean } = {}) =>
    // Each run is a trace of its own: the messages it queues can be found from its log lines.
    startJobs(jobList.map((job) => ({ ...job, run: (ctx: null) => trace.run(newTraceId(), () => job.run(ctx)) })), {
      ctx: null,
      cache,
      log: log.child({ module: "jobs" }),
      now: deps.now,
      schedule: opts.schedule ?? config.jobs.enabled,
      record: { started: (run) => recordJobStarted(deps, run), finished: (run) => recordJobFinished(deps, run) },
    });

  const renderCard = createSimulatorCardRenderer(projectPath("cards/simulator"));
  const assets = loadAssets(projectPath("dist/assets"));
  const limiter = createRateLimiter(cache, log.child({ module: "rate-limit" }));
  const readiness: ReadinessCheck[] = channelList.map((channel) => ({ name: `channel:${channel.platform}`, check: async () => channel.ready?.() }));
  if (dingtalkStream) {
    readiness.push({
      name: "dingtalk_stream",
      check: async () => {
        const state = dingtalkStream.state();
        if (state !== "open" && state !== "registered") throw new Error(`stream is ${state}`);
      },
    });
  }
  const wecomCallback = wecomConfig ? wecomCallbacks({ config: wecomConfig, inbound, cache, log: log.child({ module: "wecom-callback" }), now: deps.now }) : null;
  const http = createHttpApp({ config, services, db, cache, log, limiter, readiness, metrics, trace }, [
    () => metricsRoutes({ metrics, token: config.metricsToken }),
    () => assetRoutes(assets),
    () =>
      miniAppRoutes({
        services,
        sessions,
        sessionSecret: config.session.secret,
        assets,
        viewsDir: projectPath("miniapp/views"),
        log,
        signIn: { wecom: wecomH5 !== null, dingtalk: dingtalkParts !== null, simulator: simulator !== null },
        limiter,
        postsPerMinute: config.http.ipRateLimits.miniAppPostPerMin,
      }),
    ...(simulator ? [() => devLoginRoutes({ services, sessions })] : []),
    ...(simulator
      ? [() => devConsoleRoutes({ simulator, inbound, db, renderCard, publicUrl: config.publicUrl, log, viewsDir: projectPath("miniapp/views"), now: deps.now })]
      : []),
    ...(wecomCallback ? [() => wecomCallback.router] : []),
    ...(wecomH5
      ? [
          () => wecomOAuthRoutes({ ...wecomH5, publicUrl: config.publicUrl, sessions, serviceDeps: deps, assets }),
          () => wecomJssdkRoutes({ ...wecomH5, publicUrl: config.publicUrl, sessions, now: deps.now }),
        ]
      : []),
    ...(dingtalkParts
      ? [
          () => dingtalkH5Routes({ ...dingtalkParts, publicUrl: config.publicUrl, sessions, serviceDeps: deps, now: deps.now, viewsDir: projectPath("miniapp/views"), assets }),
          () => dingtalkActionRoutes({ config: dingtalkParts.config, publicUrl: config.publicUrl, sessions, inbound, db, log: dingtalkParts.log, assets }),
        ]
      : []),
  ], wecomCallback?.exact, wecomCallback?.direct); // WeCom callbacks also by exact path ahead of the routers, posts ahead of Koa

  return {
    config,
    log,
    db,
    cache,
    services,
    deps,
    http,
    channels,
    simulator,
    inbound,
    dispatcher,
    metrics,
    trace,
    sessions,
    dingtalkStream,
    jobs: null,
    jobRunner,
    async prepare() {
      const applied = await migrate(db, log.child({ module: "migrate" }));
      if (applied.length) log.info({ applied }, "migrations applied");
      if (config.seedDemoData) {
        const { created } = await seedDemoData(deps);
        if (created) log.info("demo data loaded");
      }
    },
    startBackground() {
      const jobs = jobRunner();
      this.jobs = jobs;
      stoppers.push(async () => jobs.stop());
      dingtalkStream?.start();
      if (config.outbox.enabled) {
        dispatcher.start();
        stoppers.push(() => dispatcher.stop());
      }
      // Events acknowledged before a crash but never handled are picked up again.
      const recovery = setInterval(() => void inbound.recover().catch((err) => log.error({ err }, "inbound recovery failed")), 60_000);
      recovery.unref();
      stoppers.push(async () => clearInterval(recovery));
      void inbound.recover(0).catch((err) => log.error({ err }, "inbound recovery failed"));
    },
    async stopBackground() {
      // Frames stop before anything else, so nothing new arrives while the rest winds down.
      await dingtalkStream?.close();
      await Promise.all(stoppers.splice(0).map((stop) => stop()));
    },
    async close(closeOpts = {}) {
      await this.stopBackground();
      // Events stored but not handled when the wait ends stay "received": recover() on any instance
      // hands them to the bot again, so a bounded wait loses nothing.
      const drained = inbound.drain();
      if (closeOpts.drainMs === undefined) await drained;
      else {
        let timer: NodeJS.Timeout | undefined;
        const left = await Promise.race([drained.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), closeOpts.drainMs)))]);
        clearTimeout(timer);
        if (left) log.warn({ waitedMs: closeOpts.drainMs }, "shutting down with inbound events still in hand: another instance (or the next start) handles them");
      }
      for (const channel of channels.all()) await channel.close?.();
      // Hits counted here but not yet pushed reach the shared cache before it closes.
      await limiter.close();
      await cache.close();
      await db.close();
    },
  };
}
