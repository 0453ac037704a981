import type { Logger } from "pino";
import type { Cache } from "./cache";
import { createMemoryCache } from "./memory";

/** One warning per this many ms while the shared cache is failing, not one per command. */
const WARN_EVERY_MS = 10_000;

/**
 * The shared cache with a way to keep working while it is unreachable. Nothing the cache holds is the
 * record of anything (the database is), so while Redis is down each instance keeps its own: rate
 * limits and platform tokens become per-instance, and locks are refused (a job skips its run, a token refresh goes ahead unlocked).
 * `ping` still fails, so /readyz tells the load balancer.
 */
export function withLocalFallback(shared: Cache, log: Logger): Cache {
  let local = createMemoryCache();
  let warnedAt = 0;
  let degraded = false;
  const fallBack = <T>(op: string, run: () => Promise<T>) => (err: unknown): Promise<T> => {
    degraded = true;
    if (Date.now() - warnedAt > WARN_EVERY_MS) {
      warnedAt = Date.now();
      log.warn({ op, err: (err as Error)?.message ?? String(err) }, "shared cache unavailable; using this instance's own");
    }
    return run();
  };
  // Back on the shared cache: what was kept locally meanwhile is dropped, so it cannot grow without
  // bound over a long outage nor be read instead of the shared value later.
  const recovered = <T>(value: T): T => {
    if (degraded) {
      degraded = false;
      void local.close();
      local = createMemoryCache();
      log.info("shared cache reachable again");
    }
    return value;
  };
  const through = <T>(op: string, call: () => Promise<T>, fallback: () => Promise<T>): Promise<T> => call().then(recovered, fallBack(op, fallback));

  return {
    kind: shared.kind,
    get: (key) => through("get", () => shared.get(key), () => local.get(key)),
    set: (key, value, ttlMs) => through("set", () => shared.set(key, value, ttlMs), () => local.set(key, value, ttlMs)),
    setIfAbsent: (key, value, ttlMs) => through("setIfAbsent", () => shared.setIfAbsent(key, value, ttlMs), () => local.setIfAbsent(key, value, ttlMs)),
    del: (key) => through("del", () => shared.del(key), () => local.del(key)),
    incr: (key, ttlMs) => through("incr", () => shared.incr(key, ttlMs), () => local.incr(key, ttlMs)),
    incrBy: (key, by, ttlMs) => through("incrBy", () => shared.incrBy(key, by, ttlMs), () => local.incrBy(key, by, ttlMs)),
    takeToken: (bucket, rate, burst) => through("takeToken", () => shared.takeToken(bucket, rate, burst), () => local.takeToken(bucket, rate, burst)),
    // A lock only this instance knows about would let two instances run the same job: refuse instead.
    acquireLock: (name, ttlMs) => through("acquireLock", () => shared.acquireLock(name, ttlMs), async () => null),
    // Not released: it expires with its TTL.
    releaseLock: (name, token) => through("releaseLock", () => shared.releaseLock(name, token), async () => undefined),
    ping: () => shared.ping(),
    async close() {
      await shared.close();
      await local.close();
    },
  };
}
