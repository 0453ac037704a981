import type Koa from "koa";
import type { Logger } from "pino";
import type pino from "pino";
import type { Cache } from "./cache/cache";
import { createMemoryCache } from "./cache/memory";
import { createRedisCache } from "./cache/redis";
import type { Config } from "./config";
import { migrate } from "./db/migrate";
import { createDb, type Db } from "./db/sequelize";
import { createHttpApp } from "./http/server";
import { createLogger } from "./logger";
import { createServices, type Services } from "./services";
import type { ServiceDeps } from "./services/deps";
import { seedDemoData } from "./services/seed-demo-data";
import { createMemo } from "./services/support/memo";
import type { ChatChannel } from "./channels/channel";
import { createChannelRegistry, type ChannelRegistry } from "./channels/registry";
import { createSimulatorChannel, type SimulatorChannel } from "./channels/simulator";
import { createSimulatorCardRenderer } from "./channels/simulator/render";
import { createWecomChannel, createWecomContactClient, groupMsgSendResult, wecomCallbacks } from "./channels/wecom";
import { createWecomClient } from "./channels/wecom/client";
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
  close(): Promise<void>;
}

/** The composition root: the only place that decides which implementation backs each port. */
export function createApp(config: Readonly<Config>, opts: AppOptions = {}): App {
  const log = createLogger(config.logLevel, opts.logDestination);
  const db = createDb({ url: config.database.url, poolMax: config.database.poolMax, logSql: config.database.logSql, log });
  const cache = config.redisUrl ? createRedisCache(config.redisUrl, config.cacheKeyPrefix) : createMemoryCache();
  const deps: ServiceDeps = { db, cache, log, now: opts.now ?? (() => new Date()), publicUrl: config.publicUrl, memo: createMemo() };
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
          const manager = u?.managerId ? await db.models.User.findByPk(u.managerId) : null;
          return u ? { platformUserId: u.platformUserId, name: u.name, mobile: u.mobile, managerPlatformUserId: manager?.platformUserId ?? null, department: u.department } : null;
        },
      })
    : null;
  const sessions = createSessions(config, { now: deps.now });
  const wecomConfig = config.wecom;
  const wecomH5 = wecomConfig
    ? (() => {
        const h5Log = log.child({ module: "wecom-h5" });
        const client = createWecomClient(wecomConfig, { cache, log: h5Log, now: deps.now });
        return { config: wecomConfig, client, directory: createWecomDirectory(wecomConfig, { client, cache, log: h5Log }), log: h5Log };
      })()
    : null;
  const wecom = wecomConfig
    ? createWecomChannel(wecomConfig, { cache, log: log.child({ module: "wecom" }), now: deps.now, publicUrl: config.publicUrl })
    : null;
  const dingtalkConfig = config.dingtalk;
  const dingtalkParts = dingtalkConfig
    ? (() => {
        const dtLog = log.child({ module: "dingtalk" });
        const client = createDingtalkClient(dingtalkConfig, { cache, log: dtLog, now: deps.now });
        const directory = createDingtalkDirectory(dingtalkConfig, { client, cache });
        const channel = createDingtalkChannel(dingtalkConfig, { cache, log: dtLog, now: deps.now, publicUrl: config.publicUrl, client, directory });
        return { config: dingtalkConfig, client, directory, channel, log: dtLog };
      })()
    : null;
  const channelList: ChatChannel[] = [...(simulator ? [simulator] : []), ...(wecom ? [wecom] : []), ...(dingtalkParts ? [dingtalkParts.channel] : [])];
  const channels = createChannelRegistry(channelList);

  const bot = createBot({ services, serviceDeps: deps, channels, log: log.child({ module: "bot" }), now: deps.now });
  const inbound = createInboundPipeline({ db, cache, log: log.child({ module: "inbound" }), now: deps.now, handle: (event) => bot.handle(event) });

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
  const dispatcher = createDispatcher({ db, cache, log: log.child({ module: "outbox" }), now: deps.now, deliverers }, config.outbox);

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
    const contacts = createWecomContactClient(wecomConfig, { cache, log: noticeLog, now: deps.now });
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
    startJobs(jobList, {
      ctx: null,
      cache,
      log: log.child({ module: "jobs" }),
      now: deps.now,
      schedule: opts.schedule ?? config.jobs.enabled,
      record: { started: (run) => recordJobStarted(deps, run), finished: (run) => recordJobFinished(deps, run) },
    });

  const renderCard = createSimulatorCardRenderer(projectPath("cards/simulator"));
  const assets = loadAssets(projectPath("dist/assets"));
  const wecomCallback = wecomConfig ? wecomCallbacks({ config: wecomConfig, inbound, cache, log: log.child({ module: "wecom-callback" }), now: deps.now }) : null;
  const http = createHttpApp({ config, services, db, cache, log }, [
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
      }),
    ...(simulator ? [() => devLoginRoutes({ services, sessions })] : []),
    ...(simulator
      ? [() => devConsoleRoutes({ simulator, inbound, db, renderCard, publicUrl: config.publicUrl, log, viewsDir: projectPath("miniapp/views"), now: deps.now })]
      : []),
    ...(wecomCallback ? [() => wecomCallback.router] : []),
    ...(wecomH5
      ? [
          () => wecomOAuthRoutes({ ...wecomH5, publicUrl: config.publicUrl, sessions, serviceDeps: deps }),
          () => wecomJssdkRoutes({ ...wecomH5, publicUrl: config.publicUrl, sessions, now: deps.now }),
        ]
      : []),
    ...(dingtalkParts
      ? [
          () => dingtalkH5Routes({ ...dingtalkParts, publicUrl: config.publicUrl, sessions, serviceDeps: deps, now: deps.now, viewsDir: projectPath("miniapp/views"), assets }),
          () => dingtalkActionRoutes({ config: dingtalkParts.config, publicUrl: config.publicUrl, sessions, inbound, db, log: dingtalkParts.log }),
        ]
      : []),
  ], wecomCallback?.exact); // callbacks also by exact path, ahead of the routers (perf)

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
    async close() {
      // Frames stop before the inbound queue drains, so nothing new arrives while it does.
      await dingtalkStream?.close();
      await inbound.drain();
      for (const stop of stoppers.splice(0)) await stop();
      for (const channel of channels.all()) await channel.close?.();
      await cache.close();
      await db.close();
    },
  };
}
