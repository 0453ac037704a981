import { QueryTypes } from "sequelize";
import type { Context, Next } from "koa";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/sequelize";

/** One call to a platform API as its client saw it: `code` is "0" for success, else the platform's code. */
export interface ApiCall {
  platform: "wecom" | "dingtalk";
  path: string;
  /** The errcode / error code, `http_<status>`, `network` or `not_json`; "0" when the call succeeded. */
  code: string;
}

export type ApiCallObserver = (call: ApiCall) => void;

export interface Metrics {
  readonly registry: Registry;
  /** Times every request by method, route template and status (mount first, so errors are counted too). */
  http(): (ctx: Context, next: Next) => Promise<void>;
  /** One request's time, for requests answered outside Koa (src/http/direct-routes.ts); `route` is a template. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  callback(platform: string, duplicate: boolean): void;
  apiCall: ApiCallObserver;
}

export interface MetricsDeps {
  db: Db;
  now: () => Date;
  /** How long one collection of the database gauges serves scrapes (default 5 s). */
  collectCacheMs?: number;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
// A whole number run in a path (an id) would make a label per value; the clients' paths are constants,
// so this only guards against one being built with an id in it some day.
const ID_IN_PATH = /\/\d{3,}(?=\/|$)/g;
const UNSENT = ["pending", "leased", "sending"];

/**
 * The app's Prometheus metrics, on a registry of its own: tests build several apps in one process, and a
 * module-level default registry would mix their numbers (and refuse the second registration).
 */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const duration = new Histogram({
    name: "chatorder_http_request_duration_seconds",
    help: "HTTP request duration by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const callbacks = new Counter({
    name: "chatorder_callbacks_received_total",
    help: "Inbound platform events received (callbacks, Stream frames, simulator), by platform",
    labelNames: ["platform"] as const,
    registers,
  });
  const duplicates = new Counter({
    name: "chatorder_callbacks_duplicate_total",
    help: "Inbound platform events recognised as repeats of one already received, by platform",
    labelNames: ["platform"] as const,
    registers,
  });
  const apiCalls = new Counter({
    name: "chatorder_platform_api_calls_total",
    help: "HTTP calls to a chat platform's API, by platform and API path",
    labelNames: ["platform", "path"] as const,
    registers,
  });
  const apiErrors = new Counter({
    name: "chatorder_platform_api_errors_total",
    help: "Platform API calls that failed, by platform, API path and error code",
    labelNames: ["platform", "path", "code"] as const,
    registers,
  });

  // Database gauges are read on scrape, at most once per collectCacheMs whatever the scrape rate.
  const cacheMs = deps.collectCacheMs ?? 5_000;
  let snapshot: { at: number; value: Promise<Snapshot> } | null = null;
  // A failed read leaves these gauges at their last values rather than failing the whole scrape (the
  // HTTP and platform counters matter most when the database is in trouble); the next scrape tries again.
  const read = (): Promise<Snapshot | null> => {
    const at = Date.now();
    if (!snapshot || at - snapshot.at >= cacheMs) {
      const current = { at, value: readSnapshot(deps.db, deps.now) };
      snapshot = current;
      current.value.catch(() => {
        if (snapshot === current) snapshot = null;
      });
    }
    return snapshot.value.catch(() => null);
  };
  new Gauge({
    name: "chatorder_outbox_depth",
    help: "Outbox messages not yet sent (pending, leased or being sent)",
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.depth);
    },
  });
  new Gauge({
    name: "chatorder_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest outbox message not yet sent (0 when none)",
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.oldestAgeSec);
    },
  });
  new Gauge({
    name: "chatorder_outbox_dead",
    help: "Outbox messages given up on (dead), waiting for someone to retry them",
    registers,
    async collect() {
      const s = await read();
      if (s) this.set(s.dead);
    },
  });
  new Gauge({
    name: "chatorder_orders",
    help: "Orders by status",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      const s = await read();
      if (!s) return;
      this.reset();
      for (const [status, n] of s.orders) this.set({ status }, n);
    },
  });

  // Children by label string: labels() hashes its arguments on every call, a Map lookup is cheaper.
  const perPlatform = new Map<string, { received: Counter.Internal; repeated: Counter.Internal }>();
  const timers = new Map<string, Histogram.Internal<"method" | "route" | "status">>();

  function observeHttp(rawMethod: string, route: string, statusCode: number, seconds: number) {
    const method = METHODS.has(rawMethod) ? rawMethod : "OTHER";
    const status = String(statusCode);
    const key = `${method} ${status} ${route}`;
    let child = timers.get(key);
    if (!child) {
      child = duration.labels(method, route, status);
      timers.set(key, child);
    }
    child.observe(seconds);
  }

  return {
    registry,
    http() {
      return async function timeRequest(ctx: Context, next: Next) {
        const start = process.hrtime.bigint();
        try {
          await next();
        } finally {
          // The router's layer path (a template such as /api/v1/orders/:id), never the URL itself.
          const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
          observeHttp(ctx.method, matched === undefined ? "unmatched" : String(matched), ctx.status, Number(process.hrtime.bigint() - start) / 1e9);
        }
      };
    },
    observeHttp,
    callback(platform, duplicate) {
      let counters = perPlatform.get(platform);
      if (!counters) {
        counters = { received: callbacks.labels(platform), repeated: duplicates.labels(platform) };
        perPlatform.set(platform, counters);
      }
      counters.received.inc();
      if (duplicate) counters.repeated.inc();
    },
    apiCall({ platform, path, code }) {
      const p = path.replace(ID_IN_PATH, "/:id");
      apiCalls.inc({ platform, path: p });
      if (code !== "0") apiErrors.inc({ platform, path: p, code });
    },
  };
}

interface Snapshot {
  depth: number;
  dead: number;
  oldestAgeSec: number;
  orders: Array<[string, number]>;
}

/** Three small indexed queries: outbox counts by status, the oldest unsent row, orders by status. */
async function readSnapshot(db: Db, now: () => Date): Promise<Snapshot> {
  const [outbox, oldest, orders] = await Promise.all([
    db.sequelize.query<{ status: string; n: number | string }>(
      "SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'leased', 'sending', 'dead') GROUP BY status",
      { type: QueryTypes.SELECT },
    ),
    db.models.Outbox.findOne({ where: { status: UNSENT }, order: [["id", "ASC"]], attributes: ["id", "createdAt"] }),
    db.sequelize.query<{ status: string; n: number | string }>("SELECT status, COUNT(*) AS n FROM orders GROUP BY status", { type: QueryTypes.SELECT }),
  ]);
  let depth = 0;
  let dead = 0;
  for (const r of outbox) {
    if (r.status === "dead") dead = Number(r.n);
    else depth += Number(r.n);
  }
  const oldestAgeSec = oldest ? Math.max(0, (now().getTime() - oldest.createdAt.getTime()) / 1000) : 0;
  return { depth, dead, oldestAgeSec, orders: orders.map((r) => [r.status, Number(r.n)]) };
}
