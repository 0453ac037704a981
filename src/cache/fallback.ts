import type { Logger } from "pino";
import type { Cache } from "./cache";
import { createMemoryCache } from "./memory";

/** One warning per this many ms while the shared cache is failing, not one per command. */
const WARN_EVERY_MS = 10_000;

/**
 * The shared cache with a way to keep working while it is unreachable. Nothing the cache holds is the
 * record of anything (the database is), so while Redis is down each instance keeps its own:
 * de-duplication falls back to the inbound_events unique key, rate limits and platform tokens become
 * per-instance, and locks are refused (a job skips its run, a token refresh goes ahead unlocked).
 * `ping` still fails, so /readyz tells the load balancer.
 */
export function withLocalFallback(shared: Cache, log: Logger): Cache {
  const local = createMemoryCache();
  let warnedAt = 0;
  const fallBack = <T>(op: string, local: () => Promise<T>) => (err: unknown): Promise<T> => {
    if (Date.now() - warnedAt > WARN_EVERY_MS) {
      warnedAt = Date.now();
      log.warn({ op, err: (err as Error)?.message ?? String(err) }, "shared cache unavailable; using this instance's own");
    }
    return local();
  };

  return {
    kind: shared.kind,
    get: (key) => shared.get(key).catch(fallBack("get", () => local.get(key))),
    set: (key, value, ttlMs) => shared.set(key, value, ttlMs).catch(fallBack("set", () => local.set(key, value, ttlMs))),
    setIfAbsent: (key, value, ttlMs) => shared.setIfAbsent(key, value, ttlMs).catch(fallBack("setIfAbsent", () => local.setIfAbsent(key, value, ttlMs))),
    del: (key) => shared.del(key).catch(fallBack("del", () => local.del(key))),
    incr: (key, ttlMs) => shared.incr(key, ttlMs).catch(fallBack("incr", () => local.incr(key, ttlMs))),
    takeToken: (bucket, rate, burst) => shared.takeToken(bucket, rate, burst).catch(fallBack("takeToken", () => local.takeToken(bucket, rate, burst))),
    // A lock only this instance knows about would let two instances run the same job: refuse instead.
    acquireLock: (name, ttlMs) => shared.acquireLock(name, ttlMs).catch(fallBack("acquireLock", async () => null)),
    // Not released: it expires with its TTL.
    releaseLock: (name, token) => shared.releaseLock(name, token).catch(fallBack("releaseLock", async () => undefined)),
    ping: () => shared.ping(),
    async close() {
      await shared.close();
      await local.close();
    },
  };
}
